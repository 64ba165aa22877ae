"""A stored transcript as a conversation: one block per segment with its time and who spoke,
rendered to HTML for a QTextBrowser. Plain Python (no Qt): what the page shows is decided here.

A meeting's segment says where it came from: the microphone is "You", system audio (the other
participants) "Others" (app.segments.SOURCE_LABELS), or the names the meeting's speakers were
given (MeetingStore.set_labels). A segment without one takes the meeting's source: a meeting of
older versions is "You" (or the name "You" was given), a transcribed file is "Recording".
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from app.segments import SOURCE_LABELS, speaker
from app.storage import Meeting
from app.storage.search_terms import Query

SPEAKERS = {"window": "You", "listen": "You", "file": "Recording"}
MARK_STYLE = "background:#fff1a8;color:#000"  # a found word: dark on yellow in every palette


@dataclass(frozen=True, slots=True)
class Utterance:
    index: int  # position in the meeting's segments
    start: float
    time: str  # "00:01:05" from the meeting's start
    speaker: str
    text: str


def clock(seconds: float) -> str:
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def utterances(meeting: Meeting) -> list[Utterance]:
    fallback = SPEAKERS.get(meeting.summary.source, "Speaker")
    if fallback == SOURCE_LABELS["microphone"]:
        # A meeting of older versions heard only the microphone: its renamed "You" too.
        fallback = meeting.labels.get("microphone", fallback)
    return [Utterance(i, s.start, clock(s.start), speaker(s, meeting.labels) or fallback,
                      s.text.strip())
            for i, s in enumerate(meeting.segments) if s.text.strip()]


def mark(text: str, query: Query) -> str:
    """`text` as HTML with every occurrence of each query word marked (case-insensitive)."""
    folded = text.casefold()
    if not query or len(folded) != len(text):  # casefolding changed lengths (ß → ss)
        return html.escape(text)
    marked = [False] * len(text)
    for word in query.words:
        pos = 0
        while (found := folded.find(word, pos)) >= 0:
            for i in range(found, found + len(word)):
                marked[i] = True
            pos = found + len(word)
    parts: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and marked[j] == marked[i]:
            j += 1
        chunk = html.escape(text[i:j])
        parts.append(f'<span style="{MARK_STYLE}">{chunk}</span>' if marked[i] else chunk)
        i = j
    return "".join(parts)


def conversation_html(blocks: Sequence[Utterance], query: Query, muted: str) -> str:
    """One paragraph per utterance: speaker and time on a line, the words below."""
    if not blocks:
        return "<p><i>No captions were stored for this meeting.</i></p>"
    out = []
    for u in blocks:
        out.append(
            f'<p style="margin-top:6px;margin-bottom:6px"><a name="seg-{u.index}"></a>'
            f"<b>{html.escape(u.speaker)}</b>&nbsp;&nbsp;"
            f'<span style="color:{muted}">{u.time}</span><br/>{mark(u.text, query)}</p>'
        )
    return "".join(out)


def found_blocks(blocks: Sequence[Utterance], query: Query) -> list[int]:
    """Indices (into the meeting's segments) of the blocks holding every query word."""
    return [u.index for u in blocks if query and query.matches(u.text)]
