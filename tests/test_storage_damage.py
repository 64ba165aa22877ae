"""Damage isolated to what is damaged: one segment that fails authentication hides nothing
else, search goes on and says what it skipped; a damaged database set aside is announced by
every command until the user keeps or erases it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.paths import data_dir
from app.storage import open_store
from app.storage.database import DB_NAME
from app.storage.models import DAMAGED_SEGMENT_TEXT
from tests.support.storage import granted_gate, record_meeting

CANDOR = Path(sys.executable).parent / "candor"
ALPHA = ["The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue "
         "background.", "It is easy to tell the depth of a well.", "These days a chicken leg "
         "is a rare dish."]
BETA = ["The juice of lemons makes fine punch.", "The box was thrown beside the parked truck."]


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CANDOR), *args], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())


def flip_a_byte(meeting_id: str, seq: int) -> None:
    """One bit of one stored segment changed on disk (a bad sector, an edit outside Candor)."""
    raw = sqlite3.connect(data_dir() / DB_NAME)
    (blob,) = raw.execute("SELECT text FROM segments WHERE meeting_id = ? AND seq = ?",
                          (meeting_id, seq)).fetchone()
    damaged = bytearray(blob)
    damaged[-5] ^= 0x01
    with raw:
        raw.execute("UPDATE segments SET text = ? WHERE meeting_id = ? AND seq = ?",
                    (bytes(damaged), meeting_id, seq))
    raw.close()


@pytest.fixture
def one_damaged_segment(candor_home):
    gate = granted_gate()
    with open_store() as store:
        alpha = record_meeting(store, gate, ALPHA, title="Alpha")
        beta = record_meeting(store, gate, BETA, title="Beta")
    gate.close()
    flip_a_byte(alpha, 1)
    return alpha, beta


def test_the_intact_segments_of_a_damaged_meeting_are_shown(one_damaged_segment):
    alpha, _beta = one_damaged_segment
    with open_store() as store:
        meeting = store.get(alpha)
    assert [s.text for s in meeting.segments] == [ALPHA[0], DAMAGED_SEGMENT_TEXT, *ALPHA[2:]]
    assert meeting.damaged == (1,)

    shown = candor("meetings", "show", alpha)
    assert shown.returncode == 0, shown.stderr
    assert ALPHA[0] in shown.stdout
    assert ALPHA[3] in shown.stdout
    assert "[this segment is damaged and cannot be read]" in shown.stdout
    assert "1 of 4 segment(s) are damaged" in shown.stderr

    exported = candor("meetings", "export", alpha, "--format", "json")
    body = json.loads(exported.stdout)
    assert body["damaged_segments"] == [1]
    assert [s["text"] for s in body["segments"]][2:] == ALPHA[2:]


def test_search_skips_the_damaged_segment_and_says_so(one_damaged_segment):
    alpha, beta = one_damaged_segment
    found = candor("meetings", "search", "the", "--json")
    assert found.returncode == 0, found.stderr
    hits = {h["id"]: [m["index"] for m in h["matches"]] for h in json.loads(found.stdout)}
    assert hits[alpha] == [0, 2, 3]  # segment 1 ("Glue the sheet...") cannot be read
    assert hits[beta] == [0, 1]
    assert f"not searched: 1 damaged segment in 1 meeting ({alpha})" in found.stderr
    # The placeholder itself is never a match.
    assert candor("meetings", "search", "damaged", "--json").stdout.strip() == "[]"


def damage_a_page() -> bytes:
    path = data_dir() / DB_NAME
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[3 * page_size : 3 * page_size + 200] = os.urandom(200)
    path.write_bytes(bytes(data))
    return bytes(data)


@pytest.fixture
def set_aside(candor_home):
    gate = granted_gate()
    with open_store() as store:
        for i in range(30):
            record_meeting(store, gate, [f"meeting {i} sentence {j}" * 5 for j in range(20)])
    gate.close()
    damage_a_page()
    first = candor("meetings", "list")
    assert first.returncode == 0, first.stderr
    assert "moved aside to" in first.stderr
    return candor_home


def test_every_command_keeps_saying_a_database_was_set_aside(set_aside):
    for command in (["meetings", "list"], ["meetings", "search", "sentence"], ["data", "report"]):
        result = candor(*command)
        assert result.returncode == 0, result.stderr
        assert "A damaged meeting database was set aside" in result.stderr
        assert "candor data set-aside" in result.stderr


def test_keeping_it_stops_the_reminder_but_keeps_the_file(set_aside):
    [database] = [p for p in set_aside.glob("candor.db.corrupt-*")
                  if not p.name.endswith(("-wal", "-shm"))]
    content = database.read_bytes()
    kept = candor("data", "set-aside", "keep")
    assert kept.returncode == 0, kept.stderr
    assert database.with_name(database.name + ".kept").read_bytes() == content
    again = candor("meetings", "list")
    assert "set aside" not in again.stderr
    report = json.loads(candor("data", "report", "--json").stdout)
    categories = {c["category"]: c for c in report["categories"]}
    assert categories["set_aside_databases"]["count"] >= 1  # still accounted for
    listing = candor("data", "set-aside")
    assert "(kept)" in listing.stdout
    assert candor("data", "erase", "--yes").returncode == 0
    assert not list(set_aside.glob("candor.db.corrupt-*"))


def test_erasing_it_needs_a_yes_and_then_removes_every_file_of_it(set_aside):
    refused = candor("data", "set-aside", "erase")
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    assert list(set_aside.glob("candor.db.corrupt-*"))
    erased = candor("data", "set-aside", "erase", "--yes")
    assert erased.returncode == 0, erased.stderr
    assert not list(set_aside.glob("candor.db.corrupt-*"))
    assert "set aside" not in candor("meetings", "list").stderr
