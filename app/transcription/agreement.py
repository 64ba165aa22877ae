"""LocalAgreement: commit a word only once successive recognition passes agree on it.

The policy of whisper_streaming (Macháček, Dabre and Bojar, 2023, "Turning Whisper into
Real-Time Transcription System"): every pass re-transcribes the audio buffer; the words that two
consecutive passes agree on, as a common prefix after what is already committed, are committed.
What follows is still open (a partial caption) and may change in the next pass.

Words are compared after folding case and punctuation, so "country," and "country." agree; the
newer pass's spelling and timing are kept because it saw more audio after the word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_FOLD = re.compile(r"[^\w']+")


@dataclass(frozen=True, slots=True)
class Word:
    start: float  # seconds of stream time
    end: float
    text: str  # as the recogniser wrote it, usually with a leading space
    probability: float = 1.0

    @property
    def key(self) -> str:
        return fold(self.text)


def fold(text: str) -> str:
    return _FOLD.sub("", text.lower()).strip("'")


def join_words(words: Sequence[Word]) -> str:
    return "".join(w.text for w in words).strip()


def _keys(words: Sequence[Word]) -> list[str]:
    return [w.key for w in words]


def common_prefix_length(a: Sequence[Word], b: Sequence[Word]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x.key != y.key:
            break
        n += 1
    return n


def strip_committed(new: Sequence[Word], committed_in_buffer: Sequence[Word],
                    last_commit_end: float, *, max_ngram: int = 5) -> list[Word]:
    """The part of a pass's words that comes after what is already committed.

    The buffer still holds the audio of words committed earlier (they give the recogniser
    context), so each pass transcribes them again. First try to match them as a prefix by text;
    when the recogniser wrote them differently this time, fall back to time, then drop a repeat
    of the committed tail at the seam.

    By time, a word is committed audio heard again if it ends no later than the last committed
    word (give or take timing jitter) - the committed word split in two ("my" heard as "am I")
    - or if most of it lies before that end: the committed word heard longer. A word committed
    at the end of a buffer is often cut off ("you" [5.90-6.12] of "your"); the next pass hears
    "your" [5.90-6.24], which ends well after it but is the same word.
    """
    new = [w for w in new if w.key]
    if committed_in_buffer:
        ck = "".join(_keys(committed_in_buffer))
        acc = ""
        for i, w in enumerate(new):
            acc += w.key
            if acc == ck:
                return list(new[i + 1 :])
            if not ck.startswith(acc):
                break
    # A word really after the last committed one ends a little after it; a re-heard committed
    # word ends at about the same time (timings jitter by a few hundredths).
    rest = [w for w in new
            if w.end > last_commit_end + 0.1 and (w.start + w.end) / 2 > last_commit_end]
    if committed_in_buffer and rest and abs(rest[0].start - last_commit_end) < 1.0:
        tail = _keys(committed_in_buffer)
        head = _keys(rest)
        for n in range(min(len(tail), len(head), max_ngram), 0, -1):
            if tail[-n:] == head[:n]:
                return rest[n:]
    return rest


class Agreement:
    """Tracks the open hypothesis and commits what the last `n` passes share."""

    def __init__(self, n: int = 2) -> None:
        if n < 1:
            raise ValueError("agreement needs at least one pass")
        self.n = n
        self.history: list[list[Word]] = []

    def reset(self) -> None:
        self.history.clear()

    def update(self, hypothesis: Sequence[Word]) -> tuple[list[Word], list[Word]]:
        """Feed one pass's uncommitted words; returns (newly committed, still open)."""
        hypothesis = list(hypothesis)
        self.history.append(hypothesis)
        if len(self.history) > self.n:
            self.history.pop(0)
        if len(self.history) < self.n:
            return [], hypothesis
        length = len(hypothesis)
        for older in self.history[:-1]:
            length = min(length, common_prefix_length(older, hypothesis))
        committed = hypothesis[:length]
        open_words = hypothesis[length:]
        # what stays in the history is only the open part: the committed prefix is gone for good
        self.history = [h[length:] for h in self.history]
        return committed, open_words
