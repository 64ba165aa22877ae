"""Corrections of a meeting's transcript that is held only in memory (a meeting not kept).

Issue 12 §1: the meeting just ended is editable even when "Keep transcript" was off. Nothing
of it is stored, so a correction changes the transcript in memory (what "Save transcript as…"
writes) and remembers what the recogniser heard, as a stored meeting's correction does; the
vocabulary learns from it through app/vocabulary/corrections.py when allowed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from app.segments import Segment
from app.storage.models import SegmentCorrection, UnknownSegment

# Stands for the meeting id in a correction of a meeting that has none (it was not kept).
UNSAVED = "unsaved"


@dataclass
class TranscriptEdits:
    """The segments of one ended meeting, corrected in place. `segments` is the list the
    meeting's engine exports from, so a correction reaches "Save transcript as…" at once."""

    segments: list[Segment]
    heard: dict[int, str] = field(default_factory=dict)  # position -> what the recogniser wrote
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def correct(self, index: int, text: str | None) -> SegmentCorrection:
        """Replace segment `index`'s text (None, or what was heard: back to what was heard).
        An empty text empties the segment: it is no longer exported. Raises UnknownSegment."""
        with self._lock:
            if not 0 <= index < len(self.segments):
                where = (f"positions 0 to {len(self.segments) - 1}" if self.segments
                         else "no segments")
                raise UnknownSegment(f"this meeting has no segment {index} (it has {where})")
            segment = self.segments[index]
            before = segment.text
            heard = self.heard.get(index, before)
            new = heard if text is None else text.strip()
            if new == heard:
                self.heard.pop(index, None)
            else:
                self.heard[index] = heard
            self.segments[index] = replace(segment, text=new)
            return SegmentCorrection(UNSAVED, index, heard, before, new)

    def forget(self) -> None:
        """Everything was erased: nothing of the transcript, corrected or heard, stays."""
        with self._lock:
            self.segments.clear()
            self.heard.clear()
