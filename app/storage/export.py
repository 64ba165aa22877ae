"""Exports: one meeting in a transcript format, a transcript saved to a file the user chose, or
everything Candor holds into a folder.

Exports are plain text by design (the user asked for a readable copy, in a place they chose);
they are written at the destination, never staged in a temporary file elsewhere. A single saved
transcript is staged beside its destination and renamed over it, so a failure part-way never
leaves half a file where an earlier save was.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.consent import Gate
from app.private_files import write_private
from app.segments import FORMATS, Labels, Segment, render
from app.storage.database import StorageError
from app.storage.meetings import MeetingStore
from app.storage.models import Meeting
from app.storage.report import build_report, format_report

if TYPE_CHECKING:
    from app.privacy.redact import RedactedMeeting, Redactor

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (done, total, what is being written)
ReceiptsProvider = Callable[[], object]


class ExportError(StorageError):
    def __init__(self, message: str, *, disk_full: bool = False) -> None:
        super().__init__(message)
        self.disk_full = disk_full


def render_meeting(meeting: Meeting, fmt: str, *, redactor: Redactor | None = None) -> str:
    """The meeting in a transcript format; with a `redactor`, identifying text in the segments,
    the title and the device name is replaced by placeholders (the stored meeting is not)."""
    if redactor is None:
        return render(meeting.segments, fmt, title=meeting.title, metadata=meeting.metadata(),
                      labels=meeting.labels)
    from app.privacy.redact import redact_meeting

    return render_redacted(redact_meeting(meeting, redactor), fmt)


def render_redacted(redacted: RedactedMeeting, fmt: str) -> str:
    """A redacted meeting (as the preview left it) in a transcript format."""
    return render(redacted.segments, fmt, title=redacted.title, metadata=redacted.metadata,
                  labels=redacted.labels)


def export_meeting(store: MeetingStore, meeting_id: str, fmt: str) -> str:
    return render_meeting(store.get(meeting_id), fmt)


def transcript_format(path: Path) -> str:
    """The transcript format a file name asks for (its extension); ExportError if none."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExportError(
            f"“{path.name}” does not end in a transcript format Candor writes; end the name "
            "in one of: " + ", ".join(f".{f}" for f in FORMATS)
        )
    return fmt


def write_text_atomic(path: Path, text: str) -> None:
    """The one way a transcript reaches a file: staged beside `path` (0600, O_EXCL so no link is
    followed), fsynced, renamed over it. A failure leaves `path` as it was and nothing else;
    ExportError says why (`disk_full` set when the disk is full)."""
    try:
        write_private(path, text)
    except OSError as err:
        full = err.errno in (errno.ENOSPC, errno.EDQUOT)
        reason = "the disk is full" if full else (err.strerror or str(err))
        raise ExportError(
            f"could not write {path}: {reason}; "
            + ("free some space or choose another disk" if full else "choose another place"),
            disk_full=full,
        ) from err


def save_transcript(
    path: Path,
    segments: Sequence[Segment],
    *,
    title: str,
    metadata: dict[str, object] | None = None,
    fmt: str | None = None,
    labels: Labels | None = None,
) -> str:
    """Write `segments` to `path` in `fmt` (default: the format its extension names), the
    speakers named by `labels` (default "You" / "Others"); returns that format.

    Replaces an existing file (the save dialog asked the user) only once the new one is whole
    and on disk (fsync); the file is owner-only (0600) whatever the old one's mode was.
    """
    fmt = fmt or transcript_format(path)
    write_text_atomic(path, render(segments, fmt, title=title, metadata=metadata, labels=labels))
    log.info("saved a transcript (%d segment(s), %s)", len(segments), fmt)
    return fmt


def default_receipts_provider(gate: Gate | None) -> ReceiptsProvider | None:
    """Receipts for every purpose from the consent core (`app.consent.receipts.build_receipt`)."""
    if gate is None:
        return None
    from app.consent.receipts import build_receipt

    return lambda: build_receipt(gate)  # type: ignore[arg-type]


@dataclass
class ExportResult:
    dest: Path
    meetings: int = 0
    files: list[Path] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    receipts: bool = False
    vocabulary_terms: int = 0


def _write(path: Path, text: str, result: ExportResult) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    result.files.append(path)  # listed from its creation, so a failed export can remove it
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _prepare(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ExportError(
            f"{dest} already exists and is not an empty folder; choose a new folder so nothing "
            "is overwritten"
        )
    try:
        dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as err:
        full = err.errno in (errno.ENOSPC, errno.EDQUOT)
        raise ExportError(f"cannot create the export folder {dest}: "
                          + ("the disk is full" if full else str(err)), disk_full=full) from err


def export_all(
    store: MeetingStore,
    dest: Path,
    *,
    gate: Gate | None = None,
    progress: Progress | None = None,
    receipts: ReceiptsProvider | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Write everything Candor holds about the user to `dest` (a new or empty folder):
    meetings/ (each as JSON, TXT and SRT, with the corrected text; a corrected meeting also as
    .corrections.json: what was heard and what it was corrected to), vocabulary.json,
    consent/receipts.json, report.json and report.txt.

    A write that fails (a full disk) removes what this export wrote, so half an export is never
    taken for a whole one, and raises ExportError saying why."""
    _prepare(dest)
    result = ExportResult(dest)
    try:
        return _export_into(store, dest, result, gate=gate, progress=progress,
                            receipts=receipts, now=now)
    except OSError as err:
        for path in reversed(result.files):
            with contextlib.suppress(OSError):
                path.unlink()
        for folder in (dest / "meetings", dest / "consent", dest):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: nothing of the user's is removed
        full = err.errno in (errno.ENOSPC, errno.EDQUOT)
        reason = "the disk is full" if full else (err.strerror or str(err))
        raise ExportError(
            f"the export to {dest} failed ({reason}); what it had written was removed. "
            + ("Free some space or export to another disk" if full
               else "Choose another folder"), disk_full=full) from err


def _export_into(
    store: MeetingStore,
    dest: Path,
    result: ExportResult,
    *,
    gate: Gate | None,
    progress: Progress | None,
    receipts: ReceiptsProvider | None,
    now: datetime | None,
) -> ExportResult:
    summaries = store.list_meetings()
    total = len(summaries) + 3
    meetings_dir = dest / "meetings"
    meetings_dir.mkdir(mode=0o700)
    for done, summary in enumerate(summaries):
        stem = f"{summary.started.astimezone(UTC).strftime('%Y-%m-%d_%H%M')}_{summary.id}"
        if progress:
            progress(done, total, f"meeting {summary.id}")
        try:
            meeting = store.get(summary.id)
        except StorageError as err:
            # Never silently skipped: the export says which meeting could not be read and why.
            result.damaged.append(summary.id)
            _write(meetings_dir / f"{stem}.unreadable.txt",
                   f"Meeting {summary.id} could not be exported: {err}\n", result)
            continue
        for fmt in ("json", "txt", "srt"):
            _write(meetings_dir / f"{stem}.{fmt}", render_meeting(meeting, fmt), result)
        if meeting.heard:
            corrections = [
                {"index": i, "start": meeting.segments[i].start, "end": meeting.segments[i].end,
                 "heard": heard, "corrected": meeting.segments[i].text}
                for i, heard in sorted(meeting.heard.items())
            ]
            _write(meetings_dir / f"{stem}.corrections.json",
                   json.dumps(corrections, ensure_ascii=False, indent=2) + "\n", result)
        result.meetings += 1

    if progress:
        progress(len(summaries), total, "vocabulary")
    from app.vocabulary.store import VocabularyStore  # the vocabulary's rows are its own

    terms = VocabularyStore(store).terms()
    _write(dest / "vocabulary.json",
           json.dumps({"terms": [t.to_dict() for t in terms]}, ensure_ascii=False, indent=2)
           + "\n", result)
    result.vocabulary_terms = len(terms)

    if progress:
        progress(len(summaries) + 1, total, "consent receipts")
    consent_dir = dest / "consent"
    consent_dir.mkdir(mode=0o700)
    provider = receipts if receipts is not None else default_receipts_provider(gate)
    if provider is None:
        _write(consent_dir / "README.txt",
               "No consent receipts: no consent has been recorded on this device yet.\n",
               result)
    else:
        body = provider()
        _write(consent_dir / "receipts.json",
               json.dumps(body, ensure_ascii=False, indent=2, default=str) + "\n", result)
        result.receipts = True

    if progress:
        progress(len(summaries) + 2, total, "report")
    report = build_report(store, gate=gate, now=now)
    _write(dest / "report.json", json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n",
           result)
    _write(dest / "report.txt", format_report(report), result)
    if progress:
        progress(total, total, "done")
    log.info("exported %d meeting(s) to %s (%d unreadable)",
             result.meetings, dest, len(result.damaged))
    return result
