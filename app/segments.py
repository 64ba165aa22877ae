"""Timed pieces of transcript, and the text formats they are written in (TXT, SRT, VTT, JSON, MD).

Shared by file transcription, live captions and meeting export so every path writes the same
formats the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal, get_args

FORMATS = ("txt", "srt", "vtt", "json", "md")


# Who a meeting's segment came from: the user's microphone ("You") or what the computer plays,
# the other participants ("Others"). A file's segments have no source.
Source = Literal["microphone", "system"]
SOURCES: tuple[Source, ...] = get_args(Source)
SOURCE_LABELS: dict[Source, str] = {"microphone": "You", "system": "Others"}


@dataclass(frozen=True, slots=True)
class Segment:
    start: float  # seconds since the audio (file or meeting) began
    end: float
    text: str
    final: bool = True
    source: Source | None = None

    def to_dict(self) -> dict[str, object]:
        record = asdict(self)
        if self.source is None:  # a file's transcript: the JSON it always had
            del record["source"]
        return record


def _timestamp(seconds: float, decimal: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def _cues(segments: Iterable[Segment]) -> list[Segment]:
    return [s for s in segments if s.text.strip()]


Labels = dict[Source, str]


def speaker(segment: Segment, labels: Labels | None = None) -> str | None:
    """Who said `segment` as a reader sees it ("You", "Others", or the meeting's own names)."""
    if segment.source is None:
        return None
    return (labels or SOURCE_LABELS).get(segment.source, SOURCE_LABELS[segment.source])


def _said(segment: Segment, labels: Labels | None) -> str:
    who = speaker(segment, labels)
    return f"{who}: {segment.text.strip()}" if who else segment.text.strip()


def to_txt(segments: Iterable[Segment], labels: Labels | None = None) -> str:
    return "".join(f"{_said(s, labels)}\n" for s in _cues(segments))


def to_srt(segments: Iterable[Segment], labels: Labels | None = None) -> str:
    blocks = [
        f"{i}\n{_timestamp(s.start, ',')} --> {_timestamp(max(s.end, s.start), ',')}\n"
        f"{_said(s, labels)}\n"
        for i, s in enumerate(_cues(segments), start=1)
    ]
    return "\n".join(blocks)


def _voice(segment: Segment, labels: Labels | None) -> str:
    who = speaker(segment, labels)
    # WebVTT voice span: players show (and screen readers announce) who is speaking
    return f"<v {who}>{segment.text.strip()}" if who else segment.text.strip()


def to_vtt(segments: Iterable[Segment], labels: Labels | None = None) -> str:
    blocks = [
        f"{_timestamp(s.start, '.')} --> {_timestamp(max(s.end, s.start), '.')}\n"
        f"{_voice(s, labels)}\n"
        for s in _cues(segments)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_json(segments: Iterable[Segment], metadata: dict[str, object] | None = None) -> str:
    body = {**(metadata or {}), "segments": [s.to_dict() for s in _cues(segments)]}
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def to_markdown(segments: Iterable[Segment], title: str = "Transcript",
                labels: Labels | None = None) -> str:
    lines = [f"# {title}", ""]
    lines += [f"**[{_timestamp(s.start, '.')[:8]}]** {_said(s, labels)}  "
              for s in _cues(segments)]
    return "\n".join(lines) + "\n"


def render(
    segments: Sequence[Segment],
    fmt: str,
    *,
    title: str = "Transcript",
    metadata: dict[str, object] | None = None,
    labels: Labels | None = None,
) -> str:
    if fmt == "txt":
        return to_txt(segments, labels)
    if fmt == "srt":
        return to_srt(segments, labels)
    if fmt == "vtt":
        return to_vtt(segments, labels)
    if fmt == "json":
        return to_json(segments, metadata)
    if fmt == "md":
        return to_markdown(segments, title, labels)
    raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
