"""The meeting session's storage sink (implements app.meeting.session.SegmentSink).

Creating one starts a stored meeting, which needs `transcript_storage`: without it the
constructor raises ConsentRequired and nothing is written; the session then keeps the transcript
in memory only (and warns before closing). Partial captions are never stored; each final caption
is committed in its own transaction as it arrives; the final whole-audio pass replaces the live
captions in one transaction.

Storage must never stop the captions: if storing fails (consent withdrawn, meeting deleted by
withdraw-and-delete, disk full), the sink stops storing, logs why (no text), and tells the
session through `on_storage_stopped(reason)`. The session still has every segment in memory.

`keep_transcript` stores a transcript that is already complete (a transcribed file) in one go.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from app.consent import ConsentRequired, Gate
from app.segments import Segment
from app.storage.database import StorageError
from app.storage.meetings import MeetingStore
from app.storage.retention import RetentionSettings, erase_if_end_of_meeting

log = logging.getLogger(__name__)


class StoredMeetingSink:
    def __init__(
        self,
        store: MeetingStore,
        gate: Gate,
        *,
        source: str,
        title: str | None = None,
        device: str | None = None,
        model: str | None = None,
        language: str | None = None,
        started: datetime | None = None,
        on_storage_stopped: Callable[[str], None] | None = None,
        retention: RetentionSettings | None = None,
    ) -> None:
        self.store = store
        self.gate = gate
        self._on_stopped = on_storage_stopped
        self._retention = retention
        self._lock = threading.Lock()
        self.stored = 0
        self.stopped_reason: str | None = None
        self.finished = False
        self.erased_at_end = False
        self.meeting_id = store.begin(
            gate, source=source, title=title, device=device, model=model,
            language=language, started=started,
        )

    @property
    def storing(self) -> bool:
        return self.stopped_reason is None and not self.finished

    def _stop(self, reason: str) -> None:
        if self.stopped_reason is not None:
            return
        self.stopped_reason = reason
        self.store.forget_active(self.meeting_id)
        log.warning("meeting %s: storage stopped after %d segment(s): %s",
                    self.meeting_id, self.stored, reason)
        if self._on_stopped is not None:
            self._on_stopped(reason)

    def on_partial(self, segment: Segment) -> None:
        """Partial captions change until final; they are shown, never stored."""

    def on_final(self, segment: Segment) -> None:
        with self._lock:
            if not self.storing:
                return
            try:
                self.store.append_final(self.meeting_id, segment, self.gate)
                self.stored += 1
            except ConsentRequired:
                self._stop("transcript storage was withdrawn; the rest of this meeting is "
                           "kept in memory only")
            except (StorageError, sqlite3.Error) as err:
                log.exception("meeting %s: storing a caption failed", self.meeting_id)
                self._stop(f"saving captions failed ({type(err).__name__}: {err}); the rest "
                           "of this meeting is kept in memory only")

    def on_finished(self, segments: Sequence[Segment]) -> None:
        """The meeting ended; `segments` is the final whole-audio pass."""
        with self._lock:
            if self.finished:
                return
            final = [s for s in segments if s.final]
            if self.storing and final:
                try:
                    self.store.replace_segments(self.meeting_id, final, self.gate)
                    self.stored = len(final)
                except ConsentRequired:
                    self._stop("transcript storage was withdrawn; the final transcript was "
                               "not saved")
                except (StorageError, sqlite3.Error) as err:
                    log.exception("meeting %s: saving the final pass failed", self.meeting_id)
                    self._stop(f"saving the final transcript failed ({err}); the live "
                               "captions stay stored")
            elif self.storing and self.stored:
                # An empty final pass must not wipe the captions already stored.
                log.info("meeting %s: final pass empty; keeping %d live segment(s)",
                         self.meeting_id, self.stored)
            self.finished = True
            try:
                self.store.finish(self.meeting_id)
                self.erased_at_end = erase_if_end_of_meeting(
                    self.store, self.meeting_id, settings=self._retention
                )
            except (StorageError, sqlite3.Error):
                log.exception("meeting %s: recording its end failed", self.meeting_id)


def keep_transcript(
    store: MeetingStore,
    gate: Gate,
    segments: Sequence[Segment],
    *,
    source: str,
    title: str,
    model: str | None = None,
    language: str | None = None,
    seconds: float = 0.0,
    retention: RetentionSettings | None = None,
) -> str | None:
    """Store a finished transcript as a meeting of `seconds` length ending now.

    Returns the meeting id, or None when the retention period "end of meeting" erased it at
    once. Raises ConsentRequired without `transcript_storage` (nothing is left written) and
    StorageError when the store cannot take it.
    """
    ended = datetime.now(UTC)
    meeting_id = store.begin(
        gate, source=source, title=title, model=model, language=language,
        started=ended - timedelta(seconds=max(0.0, seconds)),
    )
    try:
        store.replace_segments(meeting_id, segments, gate)
    except BaseException:
        # Half a transcript is not what the user asked to keep.
        store.delete_meetings([meeting_id], reason="keeping the transcript failed")
        raise
    store.finish(meeting_id, ended)
    if erase_if_end_of_meeting(store, meeting_id, settings=retention):
        return None
    log.info("kept a transcript as meeting %s (source %s)", meeting_id, source)
    return meeting_id
