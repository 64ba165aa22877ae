"""Redaction: identifying text in a transcript replaced by typed placeholders, for export.

Promise: `Redactor.redact_segments` returns new segments in which every name, e-mail address,
phone number, long number and web address it found is replaced by [NAME], [EMAIL], [PHONE],
[NUMBER] or [URL], together with every span it replaced (kind, start, end, original text), so a
preview can show each one and the user can un-redact one or add another before saving. The
stored meeting is never touched: redaction works on copies of the segments, for the export only.

Names the caller knows (vocabulary terms marked as names, the meeting's speaker labels) are
always caught; see `app.privacy.names` for the other cues and `app.privacy.patterns` for the
rest. Recall and the share of ordinary words kept are measured by `benchmarks/redaction.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from app.privacy.names import find_names, looks_like_name
from app.privacy.patterns import PatternKind, find_patterns
from app.segments import SOURCE_LABELS, Labels, Segment
from app.storage.models import Meeting
from app.storage.speaker_labels import renamed

SpanKind = Literal["NAME", "EMAIL", "PHONE", "NUMBER", "URL"]
SpanSource = Literal["known", "detected", "user"]
KINDS: tuple[SpanKind, ...] = ("NAME", "EMAIL", "PHONE", "NUMBER", "URL")
# When two findings overlap, the more specific wins: an e-mail holds a name and a domain.
PRIORITY: dict[SpanKind, int] = {"EMAIL": 0, "URL": 1, "PHONE": 2, "NUMBER": 3, "NAME": 4}


def placeholder(kind: SpanKind) -> str:
    return f"[{kind}]"


@dataclass(frozen=True)
class Span:
    kind: SpanKind
    start: int  # character offsets in the original text
    end: int
    original: str
    source: SpanSource = "detected"


@dataclass(frozen=True)
class RedactedText:
    original: str
    spans: tuple[Span, ...]  # sorted, never overlapping

    @property
    def text(self) -> str:
        return apply_spans(self.original, self.spans)

    def without(self, span: Span) -> RedactedText:
        """The same text with one redaction undone (the preview's "un-redact")."""
        return replace(self, spans=tuple(s for s in self.spans if s != span))

    def adding(self, kind: SpanKind, start: int, end: int) -> RedactedText:
        """The same text with one more redaction the user marked; spans it overlaps give way."""
        if not 0 <= start < end <= len(self.original):
            raise ValueError(f"a redaction must lie inside the text (0..{len(self.original)})")
        added = Span(kind, start, end, self.original[start:end], "user")
        kept = tuple(s for s in self.spans if s.end <= start or s.start >= end)
        return replace(self, spans=tuple(sorted((*kept, added), key=lambda s: s.start)))


def apply_spans(text: str, spans: Iterable[Span]) -> str:
    pieces, at = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        pieces.append(text[at : span.start])
        pieces.append(placeholder(span.kind))
        at = span.end
    pieces.append(text[at:])
    return "".join(pieces)


def _resolve(found: list[Span]) -> tuple[Span, ...]:
    """Keep non-overlapping spans, preferring known names, then the kind's priority, then the
    longer span."""
    ranked = sorted(found, key=lambda s: (s.source != "known", PRIORITY[s.kind], s.start - s.end))
    chosen: list[Span] = []
    for span in ranked:
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return tuple(sorted(chosen, key=lambda s: s.start))


@dataclass(frozen=True)
class RedactedSegment:
    index: int  # position in the meeting
    segment: Segment  # as stored, unchanged
    redaction: RedactedText

    @property
    def redacted(self) -> Segment:
        return replace(self.segment, text=self.redaction.text)


@dataclass(frozen=True)
class RedactedTranscript:
    segments: tuple[RedactedSegment, ...]

    def redacted_segments(self) -> list[Segment]:
        return [s.redacted for s in self.segments]

    @property
    def spans(self) -> list[tuple[int, Span]]:
        return [(s.index, span) for s in self.segments for span in s.redaction.spans]

    def counts(self) -> dict[SpanKind, int]:
        counter = Counter(span.kind for _, span in self.spans)
        return {kind: counter[kind] for kind in KINDS}

    def with_segment(self, index: int, redaction: RedactedText) -> RedactedTranscript:
        """After the user un-redacted or added a span in one segment."""
        return RedactedTranscript(tuple(
            replace(s, redaction=redaction) if s.index == index else s for s in self.segments
        ))


class Redactor:
    """Finds identifying text. `known_names`: names Candor knows (vocabulary names, speaker
    labels), always caught; `allowed_terms`: terms that are no name (the vocabulary's others,
    `names.is_person_name` false), never taken for a name from cues; `regions`: where phone
    numbers without a country code are read (default: the locale's country, then US and GB)."""

    def __init__(
        self, known_names: Iterable[str] = (), *, regions: Sequence[str] | None = None,
        allowed_terms: Iterable[str] = (),
    ) -> None:
        self.known_names = tuple(n for n in known_names if n and n.strip())
        self.allowed_terms = tuple(t for t in allowed_terms if t and t.strip())
        self.regions = tuple(regions) if regions else None

    def knowing(self, names: Iterable[str]) -> Redactor:
        """This redactor with more names it always catches (a meeting's speaker labels)."""
        extra = [n for n in names if n.strip() and n not in self.known_names]
        if not extra:
            return self
        return Redactor([*self.known_names, *extra], regions=self.regions,
                        allowed_terms=self.allowed_terms)

    def allowing(self, terms: Iterable[str]) -> Redactor:
        """This redactor with more terms it never takes for names."""
        extra = [t for t in terms if t.strip() and t not in self.allowed_terms]
        if not extra:
            return self
        return Redactor(self.known_names, regions=self.regions,
                        allowed_terms=[*self.allowed_terms, *extra])

    def redact(self, text: str) -> RedactedText:
        found: list[Span] = []
        for match in find_patterns(text, self.regions):
            kind: PatternKind = match.kind
            found.append(Span(kind, match.start, match.end, text[match.start : match.end]))
        for name in find_names(text, self.known_names, self.allowed_terms):
            found.append(Span("NAME", name.start, name.end, text[name.start : name.end],
                              "known" if name.known else "detected"))
        return RedactedText(text, _resolve(found))

    def redact_segments(self, segments: Sequence[Segment]) -> RedactedTranscript:
        return RedactedTranscript(tuple(
            RedactedSegment(i, segment, self.redact(segment.text))
            for i, segment in enumerate(segments)
        ))


def known_names(extra: Iterable[str] = ()) -> list[str]:
    """Names Candor knows and always redacts: those the user names for this export and those
    the caller passes in `extra` (the vocabulary's names, app/privacy/vocabulary_names.py)."""
    return [n.strip() for n in extra if n and n.strip()]


@dataclass(frozen=True)
class RedactedMeeting:
    """What a redacted export renders: the meeting's segments, title, speaker labels and
    metadata with identifying text replaced, and the spans for a preview. The stored meeting is
    untouched."""

    transcript: RedactedTranscript
    title: str
    metadata: dict[str, object]
    labels: Labels = field(default_factory=lambda: dict(SOURCE_LABELS))

    @property
    def segments(self) -> list[Segment]:
        return self.transcript.redacted_segments()


def label_names(labels: Labels) -> list[str]:
    """The speaker labels the redactor always catches: the renamed ones written like a name
    ("Priya", "Tomasz Nowak"); "Sales team" is left to the other cues."""
    return [label for label in renamed(labels) if looks_like_name(label)]


def redact_labels(labels: Labels, redactor: Redactor) -> Labels:
    """Each renamed label as an export may show it: a name becomes [NAME]; the defaults ("You",
    "Others") are kept, since they identify nobody."""
    return {source: label if label == SOURCE_LABELS[source] else redactor.redact(label).text
            for source, label in labels.items()}


def redact_meeting(meeting: Meeting, redactor: Redactor) -> RedactedMeeting:
    """`meeting` redacted by `redactor`, which also always catches the meeting's speaker
    labels that are names, wherever they occur: as who spoke, in the text and in the title."""
    redactor = redactor.knowing(label_names(meeting.labels))
    transcript = redactor.redact_segments(meeting.segments)
    metadata = dict(meeting.metadata())
    title = redactor.redact(meeting.title).text
    metadata["title"] = title
    if isinstance(metadata.get("device"), str):  # "Priya's AirPods"
        metadata["device"] = redactor.redact(str(metadata["device"])).text
    labels = redact_labels(meeting.labels, redactor)
    metadata["labels"] = dict(labels)
    metadata["redacted"] = transcript.counts()
    return RedactedMeeting(transcript, title, metadata, labels)
