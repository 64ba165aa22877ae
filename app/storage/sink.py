"""The meeting's storage sink (implements app.meeting.sinks.SegmentSink).

Creating one starts a stored meeting, which needs `transcript_storage`: without it the
constructor raises ConsentRequired and nothing is written; on a full disk it raises DiskFull
(a StorageError: "the disk is full ..."). Either way the session keeps the transcript in memory
only. Partial captions are never stored; each final caption is committed in its own transaction
as it arrives; the final whole-audio pass replaces the live captions in one transaction.

Storage must never stop the captions: if storing fails (consent withdrawn, meeting deleted by
withdraw-and-delete, disk full), the sink stops storing live captions, logs why (no text), and
tells the session once through `on_storage_stopped(message)`. Every caption after that is
counted as not stored. After a full disk the final pass is still tried once (space may have
been freed meanwhile): if it is stored, the meeting is whole again.

What a caller reads at the end - and must show, never claiming success otherwise:

    outcome = sink.outcome            # a SinkOutcome, valid at any time, final after on_finished
    outcome.complete                  # True only if everything received is stored and ended
    outcome.stored, outcome.not_stored, outcome.received
    outcome.reason                    # None | "disk_full" | "consent_withdrawn"
                                      #      | "meeting_deleted" | "storage_failed"
    outcome.message                   # the sentence to show the user when not complete

`not_stored` counts segments of the transcript the caller holds (the live finals, or the final
pass once it was handed over) that the store does not hold. When the final pass could not be
stored, the store keeps the live captions: `final_pass_stored` is False and the counts are
those of the live captions.

`keep_transcript` stores a transcript that is already complete (a transcribed file) in one go.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from app.consent import ConsentRequired, Gate
from app.segments import Segment, Source
from app.storage.database import DiskFull, StorageError
from app.storage.meetings import MeetingStore
from app.storage.models import MeetingGone
from app.storage.retention import RetentionSettings, erase_if_end_of_meeting

log = logging.getLogger(__name__)

StopReason = Literal["disk_full", "consent_withdrawn", "meeting_deleted", "storage_failed"]


@dataclass(frozen=True)
class SinkOutcome:
    """How much of a meeting the store holds; see the module docstring."""

    meeting_id: str
    received: int  # segments of the transcript the caller holds (live finals or final pass)
    stored: int  # of the meeting's segments, how many the store holds
    not_stored: int  # received but not in the store
    reason: StopReason | None  # why storing stopped or failed; None while all went well
    message: str | None  # what to tell the user; None while all went well
    final_pass_stored: bool  # the final whole-audio pass replaced the live captions
    finished: bool  # on_finished ran
    ended_recorded: bool  # the meeting's end is in the store (else it shows as interrupted)

    @property
    def complete(self) -> bool:
        """Everything received is stored (and, once finished, the end too)."""
        return (self.reason is None and self.not_stored == 0
                and (self.ended_recorded or not self.finished))


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
        final_model: Callable[[], str | None] | None = None,
    ) -> None:
        self.store = store
        # The model that made the final pass is known only at its end (the final-pass model
        # may differ from the live one, or fall back to it): the stored meeting names it.
        self._final_model = final_model
        self.gate = gate
        self._on_stopped = on_storage_stopped
        self._retention = retention
        self._lock = threading.Lock()
        self.stored = 0  # segments of this meeting in the store
        self.received = 0  # segments of the transcript held by the caller
        self.stopped_reason: str | None = None  # the message, kept for older callers
        self.reason: StopReason | None = None
        self.final_pass_stored = False
        self.ended_recorded = False
        self.finished = False
        self.erased_at_end = False
        self._received_by: dict[Source, int] = {}
        # When capture stopped: the meeting's end. The final pass that follows can take a
        # minute on a 2-core machine and is not part of the meeting (issue 13, defect 6).
        self.capture_ended_at: datetime | None = None
        self.meeting_id = store.begin(
            gate, source=source, title=title, device=device, model=model,
            language=language, started=started,
        )

    @property
    def storing(self) -> bool:
        return self.reason is None and not self.finished

    @property
    def outcome(self) -> SinkOutcome:
        with self._lock:
            return SinkOutcome(
                meeting_id=self.meeting_id,
                received=self.received,
                stored=self.stored,
                not_stored=max(0, self.received - self.stored),
                reason=self.reason,
                message=self._message(),
                final_pass_stored=self.final_pass_stored,
                finished=self.finished,
                ended_recorded=self.ended_recorded,
            )

    def _message(self) -> str | None:
        missing = max(0, self.received - self.stored)
        if self.reason is None and missing == 0 and (self.ended_recorded or not self.finished):
            return None
        what = self.stopped_reason or "the meeting's end could not be recorded"
        return (f"meeting {self.meeting_id}: {missing} of {self.received} caption(s) were not "
                f"stored ({what}); they are kept in memory only")

    def _stop(self, reason: StopReason, message: str) -> None:
        if self.reason is not None:
            return
        self.reason = reason
        self.stopped_reason = message
        self.store.forget_active(self.meeting_id)
        log.warning("meeting %s: storage stopped after %d segment(s): %s",
                    self.meeting_id, self.stored, reason)
        if self._on_stopped is not None:
            self._on_stopped(message)

    def _failed(self, err: Exception, what: str) -> None:
        """Stop storing after `err`; the full disk and a deleted meeting are told as such."""
        if isinstance(err, ConsentRequired):
            self._stop("consent_withdrawn", f"transcript storage was withdrawn; {what}")
        elif isinstance(err, MeetingGone):
            self._stop("meeting_deleted", f"{err}; {what}")
        elif isinstance(err, DiskFull):
            self._stop("disk_full", f"{err}; {what}")
        else:
            # A message for the user, the type for the log; never the transcript text.
            log.warning("meeting %s: storing failed (%s)", self.meeting_id, type(err).__name__)
            self._stop("storage_failed", f"saving captions failed ({err}); {what}")

    def on_partial(self, segment: Segment) -> None:
        """Partial captions change until final; they are shown, never stored."""

    def capture_ended(self, at: datetime | None = None) -> None:
        """The microphone closed (now, or `at`): that moment is stored as the meeting's end,
        whenever the final pass finishes. The first call counts."""
        with self._lock:
            if self.capture_ended_at is None:
                self.capture_ended_at = at or datetime.now(UTC)

    def on_final(self, segment: Segment) -> None:
        with self._lock:
            if self.finished:
                return
            self.received += 1
            if segment.source is not None:
                self._received_by[segment.source] = self._received_by.get(segment.source, 0) + 1
            if not self.storing:
                return
            try:
                self.store.append_final(self.meeting_id, segment, self.gate)
                self.stored += 1
            except (ConsentRequired, StorageError, sqlite3.Error) as err:
                self._failed(err, "the rest of this meeting is kept in memory only")

    def on_finished(self, segments: Sequence[Segment]) -> None:
        """The meeting ended; `segments` is the final whole-audio pass."""
        with self._lock:
            if self.finished:
                return
            final = [s for s in segments if s.final]
            # After a full disk the final pass is tried once more: one transaction that makes
            # the stored meeting whole if space was freed meanwhile.
            retry = self.reason == "disk_full"
            if final and (self.reason is None or retry):
                try:
                    self.store.replace_segments(
                        self.meeting_id, final, self.gate,
                        model=self._final_model() if self._final_model else None)
                    self.stored = self.received = len(final)
                    self.final_pass_stored = True
                    if retry:
                        log.info("meeting %s: the final pass was stored after a full disk",
                                 self.meeting_id)
                        self.reason, self.stopped_reason = None, None
                except (ConsentRequired, StorageError, sqlite3.Error) as err:
                    self.reason = None if retry else self.reason
                    self._failed(err, "the final transcript was not saved; the store keeps the "
                                 f"{self.stored} live caption(s) saved before")
            elif self.reason is None and self.stored:
                # An empty final pass must not wipe the captions already stored.
                log.info("meeting %s: final pass empty; keeping %d live segment(s)",
                         self.meeting_id, self.stored)
            self.finished = True
            if self.reason == "meeting_deleted":
                return
            try:
                self.store.finish(self.meeting_id, ended=self.capture_ended_at)
                self.ended_recorded = True
                self.erased_at_end = erase_if_end_of_meeting(
                    self.store, self.meeting_id, settings=self._retention
                )
            except DiskFull as err:
                log.warning("meeting %s: its end could not be recorded: the disk is full",
                            self.meeting_id)
                if self.reason is None:
                    self.reason, self.stopped_reason = "disk_full", f"{err}"
            except (StorageError, sqlite3.Error) as err:
                log.warning("meeting %s: recording its end failed (%s)", self.meeting_id,
                            type(err).__name__)
                if self.reason is None:
                    self.reason = "storage_failed"
                    self.stopped_reason = f"recording the meeting's end failed ({err})"


    def on_retracted(self, source: Source) -> None:
        """Delete this meeting's stored segments of `source` (someone objected to being
        captioned); they no longer count as received either."""
        with self._lock:
            received = self._received_by.pop(source, 0)
            self.received = max(0, self.received - received)
            try:
                gone = self.store.delete_source_segments(self.meeting_id, source)
            except MeetingGone:
                gone = 0
            self.stored = max(0, self.stored - gone)

    def on_closed(self) -> None:
        """The meeting ended without a final pass (closed, or transcription withdrawn): the
        live captions already stored are the transcript; the end is recorded."""
        self.on_finished([])


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
    once. One transaction: all of it is stored or nothing (half a transcript is not what the
    user asked to keep). Raises ConsentRequired without `transcript_storage`, DiskFull on a
    full disk, StorageError when the store cannot take it - nothing is left written.
    """
    ended = datetime.now(UTC)
    meeting_id = store.begin(
        gate, source=source, title=title, model=model, language=language,
        started=ended - timedelta(seconds=max(0.0, seconds)), complete=segments, ended=ended,
    )
    if erase_if_end_of_meeting(store, meeting_id, settings=retention):
        return None
    log.info("kept a transcript as meeting %s (source %s)", meeting_id, source)
    return meeting_id
