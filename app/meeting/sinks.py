"""Where a meeting's captions go: the window's view, the CLI's printer, the store.

Each sink is isolated: one that raises is logged (type only, never the text), reported once,
and keeps being offered the captions that follow, while the others go on undisturbed. The
engine calls sinks on the captions workers inside `gate.guard("transcription")`, so a sink must
be quick (queue to a UI thread, print, insert a row).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from app.segments import Segment, Source

log = logging.getLogger(__name__)


class SegmentSink(Protocol):
    def on_partial(self, segment: Segment) -> None:
        """The open end of the current utterance of `segment.source` (replaces its partial)."""

    def on_final(self, segment: Segment) -> None:
        """Text that will not change any more (clears the partial it covered)."""

    def on_finished(self, segments: Sequence[Segment]) -> None:
        """The meeting ended; `segments` is the final pass over the meeting's audio."""

    def on_closed(self) -> None:
        """The meeting ended with no final pass to hand over (closed, or consent withdrawn):
        what was handed over live is the transcript."""

    def on_retracted(self, source: Source) -> None:
        """Forget every caption of `source` handed over so far (someone objected)."""


class SinkSet:
    """The sinks attached to one meeting, each called apart from the others."""

    def __init__(self, on_failure: Callable[[str], None] | None = None) -> None:
        self._sinks: list[SegmentSink] = []
        self._failed: set[int] = set()
        self._lock = threading.Lock()
        self._on_failure = on_failure

    def attach(self, sink: SegmentSink) -> None:
        with self._lock:
            if sink not in self._sinks:
                self._sinks.append(sink)

    def detach(self, sink: SegmentSink) -> None:
        with self._lock:
            if sink in self._sinks:
                self._sinks.remove(sink)

    def members(self) -> list[SegmentSink]:
        with self._lock:
            return list(self._sinks)

    def __len__(self) -> int:
        return len(self._sinks)

    def partial(self, segment: Segment) -> None:
        self._each(lambda sink: sink.on_partial(segment), "a caption")

    def final(self, segment: Segment) -> None:
        self._each(lambda sink: sink.on_final(segment), "a caption")

    def finished(self, segments: Sequence[Segment]) -> None:
        self._each(lambda sink: sink.on_finished(segments), "the final transcript")

    def closed(self) -> None:
        self._each(lambda sink: sink.on_closed(), "the meeting's end")

    def retracted(self, source: Source) -> None:
        self._each(lambda sink: sink.on_retracted(source), "a deletion")

    def capture_ended(self) -> None:
        """Capture stopped: the meeting's end. Optional for a sink (only the store needs it:
        the final pass that follows is not part of the meeting, issue 13 defect 6)."""
        def call(sink: SegmentSink) -> None:
            hook = getattr(sink, "capture_ended", None)
            if callable(hook):
                hook()
        self._each(call, "the meeting's end")

    def _each(self, call: Callable[[SegmentSink], None], what: str) -> None:
        for sink in self.members():
            try:
                call(sink)
            except Exception as err:
                log.warning("a meeting sink (%s) failed to take %s: %s", type(sink).__name__,
                            what, type(err).__name__)
                first = id(sink) not in self._failed
                self._failed.add(id(sink))
                if first and self._on_failure is not None:
                    self._on_failure(f"{type(sink).__name__} could not take {what} ({err}); "
                                     "the captions go on")
