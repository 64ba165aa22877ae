"""Helpers for storage tests: real SQLite, real AES-GCM, the real consent gate, raw-byte scans."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from app.consent import ConsentGate, open_gate
from app.segments import Segment
from app.storage import MeetingStore, StoredMeetingSink
from tests.support.data import SHARED_DATA

STORAGE_PURPOSES = ("transcript_storage", "transcription")


def granted_gate(
    purposes: Iterable[str] = STORAGE_PURPOSES, home: Path | None = None
) -> ConsentGate:
    """The real consent gate of the test's data directory, with these purposes given."""
    gate = open_gate(home)
    for purpose in purposes:
        gate.grant(purpose, via="test")
    return gate


def speech_sentences() -> list[str]:
    """Real reference transcripts from the shared test data, one sentence-ish piece each."""
    body = json.loads((SHARED_DATA / "speech" / "transcripts.json").read_text())
    pieces = []
    for entry in body.values():
        for part in entry["text"].replace("?", ".").split("."):
            if len(part.split()) >= 3:
                pieces.append(part.strip() + ".")
    return pieces


def segments_from(texts: Iterable[str], step: float = 2.5) -> list[Segment]:
    return [Segment(i * step, i * step + step - 0.1, t) for i, t in enumerate(texts)]


def record_meeting(
    store: MeetingStore,
    gate: ConsentGate,
    texts: Iterable[str],
    *,
    title: str = "Weekly sync",
    started: datetime | None = None,
    ended: datetime | None = None,
    finish: bool = True,
) -> str:
    sink = StoredMeetingSink(store, gate, source="window", title=title, started=started,
                             device="Virtual mic", model="tiny.en", language="en")
    segments = segments_from(texts)
    for seg in segments:
        sink.on_final(seg)
    if finish:
        store.finish(sink.meeting_id, ended=ended)
    return sink.meeting_id


def raw_files(home: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()}


def files_containing(home: Path, needles: Iterable[bytes]) -> list[tuple[Path, bytes]]:
    """Every (file, needle) where the needle occurs in the file's raw bytes (case-insensitive
    for text needles)."""
    found = []
    wanted = list(needles)
    for path, data in raw_files(home).items():
        lowered = data.lower()
        for needle in wanted:
            if needle in data or needle.lower() in lowered:
                found.append((path, needle))
    return found
