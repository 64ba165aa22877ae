"""Looking for stored transcript text in the raw bytes of every file in the data directory.

Promise kept for `app.privacy.checks`: if any phrase of a stored meeting (its segments or its
title) is readable in any file under the data directory — the database and its -wal/-shm, the
ledger and its -journal, logs, settings, stray copies — it is found and named.

How: the stored meetings are decrypted in memory; each text becomes its run of five-word phrases
(shorter texts of three or four words count whole). Every file is read as bytes, its text runs
are split into words the same way, and each five-word window is looked up in that set: one pass
over each file whatever the number of meetings. Phrases of digits alone are left out (times
and dates appear in logs), and so are texts under three words ("Thank you.").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.storage.meetings import MeetingStore
from app.storage.models import StorageError

PHRASE_WORDS = 5
MIN_WORDS = 3
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class TextHit:
    path: Path
    meeting_id: str
    where: str  # "segment 3" or "title"


@dataclass
class TextScan:
    meetings: int = 0
    segments: int = 0
    skipped: int = 0  # meetings that could not be decrypted
    files: int = 0
    bytes: int = 0
    side_files: list[str] = field(default_factory=list)
    hits: list[TextHit] = field(default_factory=list)


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def phrases(text: str) -> Iterator[tuple[str, ...]]:
    seq = words(text)
    if len(seq) < MIN_WORDS:
        return
    if len(seq) < PHRASE_WORDS:
        candidates: Iterable[tuple[str, ...]] = [tuple(seq)]
    else:
        candidates = (tuple(seq[i : i + PHRASE_WORDS]) for i in range(len(seq) - PHRASE_WORDS + 1))
    for phrase in candidates:
        if sum(not w.isdigit() for w in phrase) >= MIN_WORDS:
            yield phrase


def _needles(store: MeetingStore, scan: TextScan) -> dict[tuple[str, ...], tuple[str, str]]:
    needles: dict[tuple[str, ...], tuple[str, str]] = {}
    for summary in store.list_meetings():
        try:
            meeting = store.get(summary.id)
        except StorageError:
            scan.skipped += 1
            continue
        scan.meetings += 1
        for phrase in phrases(meeting.title):
            needles.setdefault(phrase, (meeting.id, "title"))
        for index, segment in enumerate(meeting.segments):
            scan.segments += 1
            for phrase in phrases(segment.text):
                needles.setdefault(phrase, (meeting.id, f"segment {index}"))
    return needles


def _file_hits(
    path: Path, data: bytes, needles: dict[tuple[str, ...], tuple[str, str]]
) -> list[TextHit]:
    text = data.decode("utf-8", "ignore")
    seq = words(text)
    found: dict[tuple[str, str], TextHit] = {}
    sizes = sorted({len(n) for n in needles})
    for size in sizes:
        for i in range(len(seq) - size + 1):
            owner = needles.get(tuple(seq[i : i + size]))
            if owner is not None and owner not in found:
                found[owner] = TextHit(path, *owner)
    return list(found.values())


def find_transcript_text(store: MeetingStore, home: Path) -> TextScan:
    scan = TextScan()
    needles = _needles(store, scan)
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        scan.files += 1
        scan.bytes += len(data)
        if path.name.endswith(SIDE_SUFFIXES):
            scan.side_files.append(path.name)
        if needles:
            scan.hits.extend(_file_hits(path, data, needles))
    return scan
