"""Exports parse back to what was stored: SRT/VTT cue timings, the JSON schema, the report."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.segments import Segment
from app.storage import ConsentRequired, build_report, export_all, export_meeting, open_store
from app.storage.export import ExportError, save_transcript
from app.storage.sink import keep_transcript
from tests.support.storage import granted_gate, record_meeting

SEGMENTS = [
    Segment(0.0, 2.48, "And so my fellow Americans,"),
    Segment(2.48, 5.9, "ask not what your country can do for you,"),
    Segment(3599.5, 3605.25, "ask what you can do for your country."),
]
CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)[,.](\d{3}) --> (\d\d):(\d\d):(\d\d)[,.](\d{3})$")
STARTED = datetime(2025, 2, 3, 14, 30, tzinfo=UTC)


def _seconds(parts) -> float:
    h, m, s, ms = (int(p) for p in parts)
    return h * 3600 + m * 60 + s + ms / 1000


def parse_cues(text: str) -> list[tuple[float, float, str]]:
    """A small subtitle reader: each timing line followed by its text line."""
    lines = text.splitlines()
    cues = []
    for i, line in enumerate(lines):
        found = CUE.match(line)
        if found:
            groups = found.groups()
            cues.append((_seconds(groups[:4]), _seconds(groups[4:]), lines[i + 1]))
    return cues


@pytest.fixture
def stored(candor_home):
    gate = granted_gate()
    store = open_store()
    mid = record_meeting(store, gate, [], title="Inaugural", started=STARTED,
                         ended=STARTED + timedelta(hours=1), finish=False)
    store.replace_segments(mid, SEGMENTS, gate)
    store.finish(mid, ended=STARTED + timedelta(hours=1))
    yield store, mid, gate
    store.close()


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitle_exports_keep_every_cue_timing(stored, fmt):
    store, mid, _gate = stored
    text = export_meeting(store, mid, fmt)
    cues = parse_cues(text)
    assert [(round(a, 3), round(b, 3), t) for a, b, t in cues] == [
        (s.start, s.end, s.text) for s in SEGMENTS]
    if fmt == "vtt":
        assert text.startswith("WEBVTT\n")


def test_json_export_has_the_meeting_schema(stored):
    store, mid, gate = stored
    body = json.loads(export_meeting(store, mid, "json"))
    assert body["id"] == mid
    assert body["title"] == "Inaugural"
    assert datetime.fromisoformat(body["started"]) == STARTED
    assert datetime.fromisoformat(body["ended"]) == STARTED + timedelta(hours=1)
    assert body["source"] == "window"
    assert body["model"] == "tiny.en"
    assert body["consent_records"]["transcript_storage"] == [gate.record_id("transcript_storage")]
    assert [Segment(**s) for s in body["segments"]] == SEGMENTS
    for seg in body["segments"]:
        assert set(seg) == {"start", "end", "text", "final"}
        assert isinstance(seg["start"], float)


def test_txt_and_markdown_exports(stored):
    store, mid, _gate = stored
    assert export_meeting(store, mid, "txt").splitlines() == [s.text for s in SEGMENTS]
    md = export_meeting(store, mid, "md")
    assert md.startswith("# Inaugural\n")
    assert "**[00:59:59]** ask what you can do for your country." in md


def test_export_everything_writes_every_meeting_receipts_and_report(stored, tmp_path):
    store, mid, gate = stored
    other = record_meeting(store, gate, ["The horizon seems extremely distant."], title="Second")
    steps = []
    dest = tmp_path / "export"
    result = export_all(store, dest, progress=lambda d, t, w: steps.append((d, t, w)),
                        receipts=lambda: {"purposes": {"transcript_storage": "given"}})
    assert result.meetings == 2
    assert result.damaged == []
    names = sorted(p.name for p in (dest / "meetings").iterdir())
    assert len(names) == 6
    assert {Path(n).suffix for n in names} == {".json", ".txt", ".srt"}
    by_id = {}
    for path in (dest / "meetings").glob("*.json"):
        body = json.loads(path.read_text())
        by_id[body["id"]] = body
    assert set(by_id) == {mid, other}
    srt = next((dest / "meetings").glob(f"*_{mid}.srt")).read_text()
    assert [c[2] for c in parse_cues(srt)] == [s.text for s in SEGMENTS]
    assert json.loads((dest / "consent" / "receipts.json").read_text()) == {
        "purposes": {"transcript_storage": "given"}}
    report = json.loads((dest / "report.json").read_text())
    assert report["categories"][0]["count"] == 2
    assert "Transcripts:" in (dest / "report.txt").read_text()
    assert steps[-1] == (5, 5, "done")
    assert [d for d, _t, _w in steps] == sorted(d for d, _t, _w in steps)


def test_export_without_a_receipt_builder_says_so(stored, tmp_path):
    store, _mid, _gate = stored
    result = export_all(store, tmp_path / "out")
    assert not result.receipts
    assert "consent receipt" in (tmp_path / "out" / "consent" / "README.txt").read_text()


def test_export_never_overwrites(stored, tmp_path):
    store, _mid, _gate = stored
    dest = tmp_path / "used"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="not an empty folder"):
        export_all(store, dest)
    assert (dest / "keep.txt").read_text() == "mine"


def test_report_lists_counts_sizes_dates_key_and_consent(stored):
    store, _mid, gate = stored
    now = STARTED + timedelta(days=2)
    report = build_report(store, gate=gate, now=now).to_dict()
    transcripts = report["categories"][0]
    assert transcripts["category"] == "transcripts"
    assert transcripts["count"] == 1
    assert transcripts["segments"] == 3
    assert transcripts["bytes"] > sum(len(s.text) for s in SEGMENTS)
    assert datetime.fromisoformat(transcripts["oldest"]) == STARTED
    assert datetime.fromisoformat(transcripts["next_automatic_erase"]) == (
        STARTED + timedelta(hours=1) + timedelta(days=30))
    assert transcripts["retention"] == {"period": "30d", "meaning": "30 days"}
    assert "AES-256-GCM" in transcripts["encryption"]
    assert transcripts["key_kind"] == "file"
    assert "storage-master-key.key" in transcripts["key_location"]
    assert transcripts["consent"] == {"purpose": "transcript_storage", "state": "given",
                                      "record_id": gate.record_id("transcript_storage")}
    recordings = report["categories"][1]
    assert recordings["count"] == 0
    assert recordings["retention"]["period"] == "end_of_meeting"
    assert recordings["consent"]["state"] == "not given"
    listed = {c["category"] for c in report["categories"]}
    assert {"consent_ledger", "keys", "logs"} <= listed


def test_report_accounts_for_unknown_files(stored, candor_home):
    store, _mid, _gate = stored
    (candor_home / "mystery.bin").write_bytes(b"x" * 10)
    report = build_report(store).to_dict()
    other = [c for c in report["categories"] if c["category"] == "other_files"]
    assert other[0]["files"] == [{"path": str(candor_home / "mystery.bin"), "bytes": 10}]
    assert report["categories"][0]["consent"]["state"].startswith("not given")


def test_a_transcript_is_saved_in_the_format_its_name_asks_for(tmp_path):
    srt = tmp_path / "talk.srt"
    assert save_transcript(srt, SEGMENTS, title="Talk") == "srt"
    assert [c[2] for c in parse_cues(srt.read_text(encoding="utf-8"))] == [
        s.text for s in SEGMENTS
    ]
    assert srt.stat().st_mode & 0o077 == 0, "a transcript is readable by its owner only"
    assert save_transcript(srt, SEGMENTS[:1], title="Talk") == "srt"  # replaced whole
    assert len(parse_cues(srt.read_text(encoding="utf-8"))) == 1
    saved = json.loads(_saved(tmp_path / "talk.json", {"file": "talk.wav"}))
    assert saved["file"] == "talk.wav"
    assert [s["text"] for s in saved["segments"]] == [s.text for s in SEGMENTS]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk.json", "talk.srt"]


def _saved(path: Path, metadata: dict[str, object]) -> str:
    save_transcript(path, SEGMENTS, title="Talk", metadata=metadata)
    return path.read_text(encoding="utf-8")


def test_saving_to_an_unknown_format_or_a_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(ExportError, match=r"“talk\.docx”.*\.txt, \.srt, \.vtt, \.json, \.md"):
        save_transcript(tmp_path / "talk.docx", SEGMENTS, title="Talk")
    missing = tmp_path / "nowhere" / "talk.txt"
    with pytest.raises(ExportError, match="choose another place") as caught:
        save_transcript(missing, SEGMENTS, title="Talk")
    assert str(missing) in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_keeping_a_finished_transcript_needs_transcript_storage(candor_home):
    gate = granted_gate(["transcription"])
    with open_store() as store:
        with pytest.raises(ConsentRequired):
            keep_transcript(store, gate, SEGMENTS, source="file", title="talk.wav")
        assert store.list_meetings() == []
        gate.grant("transcript_storage", via="test")
        meeting_id = keep_transcript(store, gate, SEGMENTS, source="file", title="talk.wav",
                                     model="tiny.en", language="en", seconds=3605.25)
        assert meeting_id is not None
        kept = store.get(meeting_id)
        assert kept.summary.source == "file"
        assert kept.title == "talk.wav"
        assert [s.text for s in kept.segments] == [s.text for s in SEGMENTS]
        assert kept.summary.ended - kept.summary.started == timedelta(seconds=3605.25)
    gate.close()
