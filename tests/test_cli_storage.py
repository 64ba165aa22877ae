"""`candor meetings …` and `candor data …` as a user runs them: output, files and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.consent import open_gate
from app.segments import Segment
from app.settings import Settings
from app.storage import crypto, open_store
from tests.support.storage import granted_gate, record_meeting

CANDOR = Path(sys.executable).parent / "candor"
# Recent enough that the default 30-day retention keeps them when a command runs.
STARTED = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
LINES = ["The child almost hurt the small dog.", "Drop the two when you add the figures."]


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CANDOR), *args], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())


@pytest.fixture
def seeded(candor_home):
    gate = granted_gate()
    with open_store() as store:
        first = record_meeting(store, gate, LINES, title="Harvard sentences", started=STARTED,
                               ended=STARTED + timedelta(minutes=5))
        second = record_meeting(store, gate, ["The horizon seems extremely distant."],
                                title="Horizon", started=STARTED + timedelta(days=1),
                                ended=STARTED + timedelta(days=1, minutes=3))
    gate.close()
    return first, second


def test_list_on_a_fresh_profile_is_empty_and_creates_nothing(candor_home):
    result = candor("meetings", "list")
    assert result.returncode == 0
    assert result.stdout == "No stored meetings.\n"
    assert json.loads(candor("meetings", "list", "--json").stdout) == []
    assert not (candor_home / "candor.db").exists()


def test_list_json_has_id_title_started_segments(seeded):
    first, second = seeded
    result = candor("meetings", "list", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [m["id"] for m in listed] == [second, first]
    assert listed[1]["title"] == "Harvard sentences"
    assert datetime.fromisoformat(listed[1]["started"]) == STARTED
    assert listed[1]["segments"] == 2
    text = candor("meetings", "list").stdout
    assert first in text
    assert "Horizon" in text


def test_show_by_id_and_prefix_and_bad_ids(seeded):
    first, _second = seeded
    shown = candor("meetings", "show", first[:6])
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Harvard sentences\n")
    assert "[00:00:00] The child almost hurt the small dog." in shown.stdout
    assert "[00:00:02] Drop the two when you add the figures." in shown.stdout
    for bad in ("nope", "ffffffffffff", first[:3]):
        result = candor("meetings", "show", bad)
        assert result.returncode == 2, bad
        assert "no meeting has the id" in result.stderr
        assert "candor meetings list" in result.stderr


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt", "json", "md"])
def test_export_each_format_to_stdout(seeded, fmt):
    first, _second = seeded
    result = candor("meetings", "export", first, "--format", fmt)
    assert result.returncode == 0, result.stderr
    for line in LINES:
        assert line in result.stdout
    if fmt == "json":
        assert [Segment(**s).text for s in json.loads(result.stdout)["segments"]] == LINES
    if fmt == "srt":
        assert "00:00:00,000 --> 00:00:02,400" in result.stdout


def test_export_to_a_file_never_overwrites(seeded, tmp_path):
    first, _second = seeded
    out = tmp_path / "meeting.vtt"
    result = candor("meetings", "export", first, "--format", "vtt", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("WEBVTT")
    again = candor("meetings", "export", first, "--format", "txt", "--out", str(out))
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert out.read_text().startswith("WEBVTT")
    forced = candor("meetings", "export", first, "--format", "txt", "--out", str(out), "--force")
    assert forced.returncode == 0
    assert out.read_text().splitlines() == LINES
    assert candor("meetings", "export", first, "--format", "docx").returncode == 2
    assert candor("meetings", "export", "nope", "--format", "txt").returncode == 2


def test_rename_search_delete(seeded):
    first, second = seeded
    assert candor("meetings", "rename", first, "Dog day").returncode == 0
    assert candor("meetings", "rename", first, "  ").returncode == 2
    found = candor("meetings", "search", "small DOG")
    assert found.returncode == 0
    assert "Dog day" in found.stdout
    assert "[00:00:00] The child almost hurt the small dog." in found.stdout
    hits = json.loads(candor("meetings", "search", "horizon", "--json").stdout)
    assert [h["id"] for h in hits] == [second]
    assert hits[0]["matches"][0]["text"] == "The horizon seems extremely distant."
    assert "No stored meeting mentions" in candor("meetings", "search", "zebra").stdout

    deleted = candor("meetings", "delete", first)
    assert deleted.returncode == 0
    assert "destroyed its key" in deleted.stdout
    assert candor("meetings", "show", first).returncode == 2
    assert candor("meetings", "delete", first).returncode == 2
    assert [m["id"] for m in json.loads(candor("meetings", "list", "--json").stdout)] == [second]


def test_data_report_text_and_json(seeded):
    gate = open_gate()
    record = gate.record_id("transcript_storage")
    gate.close()
    result = candor("data", "report", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    transcripts = report["categories"][0]
    assert transcripts["count"] == 2
    assert transcripts["consent"] == {"purpose": "transcript_storage", "state": "given",
                                      "record_id": record}
    assert transcripts["key_kind"] == "file"
    assert datetime.fromisoformat(transcripts["oldest"]) == STARTED
    ledger = next(c for c in report["categories"] if c["category"] == "consent_ledger")
    assert ledger["bytes"] > 0
    text = candor("data", "report").stdout
    assert "Transcripts:" in text
    assert "count: 2" in text
    assert "key file (mode 0600" in text
    assert f"consent (transcript_storage): given (record {record})" in text


def test_data_export_writes_everything_with_progress(seeded, tmp_path):
    dest = tmp_path / "my-data"
    result = candor("data", "export", str(dest))
    assert result.returncode == 0, result.stderr
    assert "exporting 1/5: meeting" in result.stderr
    assert len(list((dest / "meetings").glob("*.json"))) == 2
    assert len(list((dest / "meetings").glob("*.srt"))) == 2
    assert len(list((dest / "meetings").glob("*.txt"))) == 2
    receipts = json.loads((dest / "consent" / "receipts.json").read_text())
    assert receipts["schema_version"].startswith("candor-consent-receipt")
    states = {p["purpose"]: p["state"] for p in receipts["pii_processing"]["purposes"]}
    assert states["transcript_storage"] == "given"
    assert states["microphone"] == "not_given"
    assert json.loads((dest / "report.json").read_text())["categories"][0]["count"] == 2
    again = candor("data", "export", str(dest))
    assert again.returncode == 2
    assert "not an empty folder" in again.stderr


def test_data_erase_needs_yes_then_erases_data_and_keys(seeded, candor_home):
    refused = candor("data", "erase")
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    assert (candor_home / "candor.db").exists()
    Settings().set("welcome_dismissed", True)

    erased = candor("data", "erase", "--yes")
    assert erased.returncode == 0, erased.stderr
    assert "Erased 2 meeting(s)" in erased.stdout
    assert "holds only the record that everything was erased" in erased.stdout
    assert not list(candor_home.glob("candor.db*"))
    assert not (candor_home / "keys" / f"{crypto.MASTER_KEY_NAME}.key").exists()
    assert not (candor_home / "settings.json").exists(), "the window's preferences stayed"
    gate = open_gate()
    records = gate.ledger.records()
    gate.close()
    assert [r.state for r in records] == ["data_erased"]
    assert candor("meetings", "list").stdout == "No stored meetings.\n"


def test_revoke_with_delete_data_deletes_exactly_that_consents_meetings(candor_home):
    gate = granted_gate()
    with open_store() as store:
        captioned = record_meeting(store, gate, ["Captioned and stored."], title="Captioned")
        gate.withdraw("transcription", via="test")
        # Stored without live captions (no transcription grant): not produced by transcription.
        stored_only = record_meeting(store, gate, ["Stored only."], title="Stored only")
    gate.close()
    kept = candor("consent", "revoke", "transcript_storage")
    assert kept.returncode == 0, kept.stderr
    assert "2 item(s) produced under it are still kept" in kept.stdout
    revoked = candor("consent", "revoke", "transcription", "--delete-data")
    assert revoked.returncode == 0, revoked.stderr
    assert "Deleted 1 item(s) produced under transcription." in revoked.stdout
    listed = json.loads(candor("meetings", "list", "--json").stdout)
    assert [m["id"] for m in listed] == [stored_only]
    assert captioned not in {m["id"] for m in listed}
    revoked = candor("consent", "revoke", "transcript_storage", "--delete-data")
    assert "Deleted 1 item(s)" in revoked.stdout
    assert json.loads(candor("meetings", "list", "--json").stdout) == []


def test_retention_show_and_set(candor_home):
    shown = candor("data", "retention")
    assert shown.stdout.splitlines() == [
        "transcripts: 30d (30 days)", "recordings: end_of_meeting (until the end of the meeting)"]
    assert candor("data", "retention", "transcripts", "90").returncode == 0
    assert "transcripts: 90d" in candor("data", "retention").stdout
    bad = candor("data", "retention", "transcripts", "14d")
    assert bad.returncode == 2
    assert "choose one of" in bad.stderr
    assert candor("data", "retention", "transcripts").returncode == 2


def test_expired_meetings_are_erased_when_a_command_runs(candor_home):
    gate = granted_gate()
    long_ago = datetime(2024, 1, 5, 10, 0, tzinfo=UTC)
    with open_store() as store:
        old = record_meeting(store, gate, ["old words"], started=long_ago,
                             ended=long_ago + timedelta(hours=1))
        recent = record_meeting(store, gate, ["recent words"])
    gate.close()
    result = candor("meetings", "list", "--json")
    assert result.returncode == 0
    assert [m["id"] for m in json.loads(result.stdout)] == [recent]
    assert f"erased 1 transcript(s) past their retention period (30d): {old}" in result.stderr
