"""Live captions as a conversation: which utterance block each caption belongs to. Plain Python
(no Qt): the captions view and the compact caption window both draw what this decides.

A block is one speaker's utterance with the time it started. A new block starts when the
speaker changes, after a stretch live captions skipped (a gap has its own block), or after a
pause of PAUSE_S between two finals of the same speaker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.segments import SOURCE_LABELS, Segment, Source

# Why 2 s: the live recogniser cuts a final at a short silence (well under a second inside a
# sentence), so finals of one sentence or one train of thought follow within ~1 s; a silence of
# two seconds or more is where a listener hears a new turn (or the next point), and a block per
# final would scatter one sentence over several headers.
PAUSE_S = 2.0


def minutes_seconds(seconds: float) -> str:
    """"1:05" from the meeting's start; hours only once there are some ("1:02:05")."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def gap_text(seconds: float) -> str:
    return f"{max(1, round(seconds))} s not captioned live — it will be in the final transcript"


@dataclass(slots=True)
class Block:
    source: Source | None
    start: float
    end: float
    finals: list[str] = field(default_factory=list)
    gap: bool = False  # a stretch not captioned live: `finals` is empty

    def text(self) -> str:
        return " ".join(self.finals)


class CaptionBlocks:
    """The blocks of one meeting's live captions and each speaker's caption in progress."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.partials: dict[Source | None, Segment] = {}
        self.labels: dict[Source, str] = dict(SOURCE_LABELS)

    def speaker(self, source: Source | None) -> str:
        return self.labels.get(source, SOURCE_LABELS[source]) if source is not None else ""

    def add_final(self, segment: Segment) -> bool:
        """Add a confirmed caption; False (nothing changed) for one without words."""
        text = segment.text.strip()
        if not text:
            return False
        self.partials.pop(segment.source, None)
        last = self.blocks[-1] if self.blocks else None
        if (last is not None and not last.gap and last.source == segment.source
                and segment.start - last.end < PAUSE_S):
            last.finals.append(text)
            last.end = max(last.end, segment.end)
        else:
            self.blocks.append(Block(segment.source, segment.start, segment.end, [text]))
        return True

    def add_gap(self, segment: Segment) -> Block:
        # the words in progress were skipped with the stretch
        self.partials.pop(segment.source, None)
        block = Block(segment.source, segment.start, segment.end, gap=True)
        self.blocks.append(block)
        return block

    def set_partial(self, segment: Segment | None) -> None:
        source = segment.source if segment is not None else None
        if segment is None or not segment.text.strip():
            self.partials.pop(source, None)
        else:
            self.partials[source] = segment

    def partial_in_last_block(self, source: Source | None) -> bool:
        """Whether `source`'s words in progress continue the last block (else a block of
        their own after it)."""
        partial = self.partials.get(source)
        last = self.blocks[-1] if self.blocks else None
        return (partial is not None and last is not None and not last.gap
                and last.source == source and partial.start - last.end < PAUSE_S)

    def header(self, block: Block) -> str:
        who = self.speaker(block.source)
        when = minutes_seconds(block.start)
        return f"{who}  {when}" if who else when

    def gap_line(self, block: Block) -> str:
        return f"[{gap_text(block.end - block.start)}]"

    def clear(self) -> None:
        self.blocks.clear()
        self.partials.clear()
