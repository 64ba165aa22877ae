"""A full disk, for real: a small tmpfs filled to the last byte under CANDOR_HOME.

Every command says "the disk is full" and where, never a traceback; a meeting whose captions
stop fitting keeps going, and the storage sink counts exactly what the store does not hold."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.segments import Segment
from app.storage import DiskFull, StoredMeetingSink, open_store
from app.storage.schema import migrate, schema_version
from tests.support.full_disk import FullDisk, can_mount, mounted_tmpfs
from tests.support.storage import granted_gate, record_meeting, speech_sentences

CANDOR = Path(sys.executable).parent / "candor"


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """CANDOR_HOME on a private 4 MiB tmpfs (a real filesystem that really fills up)."""
    if not can_mount():
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    try:
        context = mounted_tmpfs(tmp_path / "disk")
        full = context.__enter__()
    except PermissionError as err:
        pytest.skip(str(err))
    monkeypatch.setenv("CANDOR_HOME", str(full.mountpoint / "candor-home"))
    try:
        yield full
    finally:
        context.__exit__(None, None, None)


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CANDOR), *args], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())


def home_of(disk: FullDisk) -> Path:
    return disk.mountpoint / "candor-home"


def assert_says_disk_full(result: subprocess.CompletedProcess[str], where: Path) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "the disk is full" in result.stderr
    assert str(where) in result.stderr
    assert "Free some space" in result.stderr or "free some space" in result.stderr
    assert "Traceback" not in result.stderr
    assert "cannot rollback" not in result.stderr


def test_every_reading_command_says_the_disk_is_full(disk):
    gate = granted_gate()
    with open_store() as store:
        meeting_id = record_meeting(store, gate, ["The birch canoe slid on the smooth planks."])
    gate.close()
    disk.fill()
    for command in (["meetings", "list"], ["meetings", "show", meeting_id],
                    ["meetings", "search", "canoe"],
                    ["meetings", "export", meeting_id, "--format", "txt"],
                    ["data", "report"]):
        assert_says_disk_full(candor(*command), home_of(disk))
    disk.free()
    listed = candor("meetings", "list")
    assert listed.returncode == 0, listed.stderr
    assert meeting_id in listed.stdout  # nothing stored before was lost


def test_exporting_to_a_full_disk_says_so_and_leaves_nothing(disk, tmp_path, monkeypatch):
    monkeypatch.setenv("CANDOR_HOME", str(tmp_path / "home-elsewhere"))
    gate = granted_gate()
    with open_store() as store:
        meeting_id = record_meeting(store, gate, speech_sentences()[:40])
    gate.close()
    disk.fill()
    target = disk.mountpoint / "meeting.txt"
    result = candor("meetings", "export", meeting_id, "--format", "txt", "--out", str(target))
    assert result.returncode == 1, result.stderr
    assert f"could not write {target}: the disk is full" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in disk.mountpoint.iterdir()) == ["filler.bin"]


def test_a_data_export_onto_a_full_disk_says_so_and_leaves_no_half_export(disk, tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("CANDOR_HOME", str(tmp_path / "home-elsewhere"))
    gate = granted_gate()
    with open_store() as store:
        for n in range(3):
            record_meeting(store, gate, speech_sentences()[:60], title=f"Meeting {n}")
    gate.close()
    disk.fill()
    dest = disk.mountpoint / "export"
    result = candor("data", "export", str(dest))
    assert result.returncode == 1, result.stderr
    assert "the disk is full" in result.stderr
    assert "Traceback" not in result.stderr
    assert not dest.exists() or not any(dest.rglob("*")), "no half export left"


def test_a_meeting_cannot_start_on_a_full_disk_and_says_why(disk):
    gate = granted_gate()
    store = open_store()
    disk.fill()
    expected = r"the disk is full: (starting a meeting|creating the storage key) failed"
    with pytest.raises(DiskFull, match=expected) as caught:
        StoredMeetingSink(store, gate, source="listen")
    assert str(home_of(disk)) in str(caught.value)
    store.close()
    disk.free()
    with open_store() as store:
        assert store.list_meetings() == []  # nothing half-written


def test_a_migration_on_a_full_disk_is_a_disk_full_error_not_a_rollback_error(disk):
    home = home_of(disk)
    home.mkdir(mode=0o700)
    # An older database (schema 2) with its shared-memory file already in place, as when
    # another connection has it open: the upgrade itself is what no longer fits.
    old = sqlite3.connect(home / "candor.db", isolation_level=None)
    old.execute("PRAGMA journal_mode = WAL")
    migrate(old, target=2)
    old.execute("CREATE TABLE ballast (b BLOB)")
    disk.fill()
    with pytest.raises(DiskFull, match="the disk is full"):
        open_store()
    assert schema_version(old) == 2  # the old version is intact
    old.close()


def finals(count: int, offset: int = 0) -> list[Segment]:
    texts = speech_sentences()
    return [Segment(2.0 * (offset + i), 2.0 * (offset + i) + 1.5, texts[(offset + i) % len(texts)])
            for i in range(count)]


def stored_texts(meeting_id: str) -> list[str]:
    with open_store() as store:
        return [s.text for s in store.get(meeting_id).segments]


def test_mid_meeting_the_sink_counts_exactly_what_was_not_stored(disk):
    gate = granted_gate()
    store = open_store()
    told: list[str] = []
    sink = StoredMeetingSink(store, gate, source="listen", on_storage_stopped=told.append)
    before, after = finals(12), finals(30, offset=12)
    for segment in before:
        sink.on_final(segment)
    assert sink.outcome.complete
    assert sink.outcome.stored == 12
    disk.fill()
    for segment in after:
        sink.on_final(segment)  # never raises: the captions go on
    outcome = sink.outcome
    assert outcome.reason == "disk_full"
    assert not outcome.complete
    assert outcome.received == 42
    assert outcome.stored + outcome.not_stored == 42
    assert outcome.not_stored >= len(after) - 1  # at most a caption fits in a part-used page
    assert len(told) == 1
    assert "the disk is full" in told[0]
    assert outcome.message is not None
    assert "the disk is full" in outcome.message
    assert f"{outcome.not_stored} of 42 caption(s) were not stored" in outcome.message

    final_pass = finals(42)
    sink.on_finished(final_pass)  # the disk is still full: the final pass cannot be stored
    end = sink.outcome
    assert not end.complete
    assert not end.final_pass_stored
    assert not end.ended_recorded
    assert (end.stored, end.not_stored) == (outcome.stored, outcome.not_stored)
    store.close()
    disk.free()
    # Exactly what the outcome says is in the store: the first `stored` captions, in order.
    assert stored_texts(sink.meeting_id) == [s.text for s in (before + after)[: end.stored]]


def test_the_final_pass_makes_the_meeting_whole_once_space_is_freed(disk):
    gate = granted_gate()
    store = open_store()
    sink = StoredMeetingSink(store, gate, source="listen")
    for segment in finals(5):
        sink.on_final(segment)
    disk.fill()
    for segment in finals(20, offset=5):
        sink.on_final(segment)
    assert sink.outcome.reason == "disk_full"
    disk.free()  # the user made room before the meeting ended
    final_pass = finals(25)
    sink.on_finished(final_pass)
    outcome = sink.outcome
    assert outcome.complete, outcome
    assert outcome.final_pass_stored
    assert outcome.ended_recorded
    assert (outcome.stored, outcome.not_stored) == (25, 0)
    store.close()
    assert stored_texts(sink.meeting_id) == [s.text for s in final_pass]


def test_sqlite_full_from_a_page_limit_is_counted_the_same_way(candor_home):
    """Where no filesystem can be mounted: SQLite's own page limit raises the same SQLITE_FULL."""
    gate = granted_gate()
    store = open_store()
    sink = StoredMeetingSink(store, gate, source="window")
    for segment in finals(3):
        sink.on_final(segment)
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    for segment in finals(200, offset=3):
        sink.on_final(segment)
    outcome = sink.outcome
    assert outcome.reason == "disk_full"
    assert outcome.received == 203
    assert outcome.stored + outcome.not_stored == 203
    assert outcome.not_stored > 0
    stored = outcome.stored
    sink.on_finished([])
    assert not sink.outcome.complete
    store.close()
    assert len(stored_texts(sink.meeting_id)) == stored
