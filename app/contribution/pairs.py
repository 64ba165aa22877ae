"""What one meeting's corrections say about the recogniser: (heard term → corrected term) pairs.

Promise: `meeting_pairs` returns only short terms (at most MAX_PAIR_WORDS words a side, casefolded),
never a sentence, and drops every pair the redactor would touch: a word of either side that lies
inside anything `Redactor` finds in the heard or the corrected segment (names, e-mail and web
addresses, phone and long numbers), a side that is itself found when redacted alone, a word
holding a digit, a known name, and a Census first name or surname that is rarely an ordinary
word (a name typed in lower case). Which meeting a pair came from is not part of the result's
use: the caller only counts meetings.

The alignment is difflib's SequenceMatcher on casefolded words (as in vocabulary/learning.py);
only "replace" stretches make pairs: an inserted or deleted word has no heard/corrected partner.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.privacy import lexicon
from app.privacy.redact import Redactor, Span
from app.storage.models import Meeting

# A term, not a sentence: "cooper netties" → "kubernetes", "met for me" → "metformin".
MAX_PAIR_WORDS = 3
_WORD = re.compile(r"\w+(?:['’\-]\w+)*", re.UNICODE)


@dataclass(frozen=True, order=True)
class Pair:
    heard: str
    corrected: str

    def key(self) -> str:
        return f"{self.heard}\u2192{self.corrected}"


@dataclass(frozen=True)
class _Word:
    text: str
    start: int
    end: int

    @property
    def norm(self) -> str:
        return self.text.casefold()


def _words(text: str) -> list[_Word]:
    return [_Word(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def _touched(words: Iterable[_Word], spans: Iterable[Span]) -> bool:
    spans = tuple(spans)
    return any(w.start < s.end and s.start < w.end for w in words for s in spans)


def _census_name(word: str) -> bool:
    """A name even when typed in lower case, where the redactor's capital-letter cues see
    nothing: a Census first name that is mostly a name (word_over_name below 5.2: "anna" 4.73,
    "marc" 5.09; "grace" 5.28 and "will" 8.19 are words), or a Census surname that is rare as a
    word ("kowalczyk" zipf 1.88, "nguyen" 3.23; "cooper" 4.26 and "brown" 5.01 are words)."""
    over = lexicon.word_over_name(word)
    if over is not None and over < 5.2:
        return True
    return word in lexicon.surnames() and lexicon.zipf(word) < 4.0


def _identifying(side: list[_Word], text: str, spans: tuple[Span, ...], redactor: Redactor,
                 known: frozenset[str]) -> bool:
    if _touched(side, spans) or any(any(c.isdigit() for c in w.text) for w in side):
        return True
    if any(w.norm in known or _census_name(w.norm) for w in side):
        return True
    # the stretch alone, as written in the segment: a name the sentence context hid
    alone = text[side[0].start : side[-1].end]
    return bool(redactor.redact(alone).spans)


def segment_pairs(heard: str, corrected: str, redactor: Redactor) -> list[Pair]:
    """The pairs one corrected segment gives, in the order they appear."""
    if heard == corrected:
        return []
    old, new = _words(heard), _words(corrected)
    heard_spans = redactor.redact(heard).spans
    corrected_spans = redactor.redact(corrected).spans
    known = frozenset(part.casefold() for name in redactor.known_names for part in name.split())
    matcher = difflib.SequenceMatcher(None, [w.norm for w in old], [w.norm for w in new],
                                      autojunk=False)
    pairs: list[Pair] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace" or i2 - i1 > MAX_PAIR_WORDS or j2 - j1 > MAX_PAIR_WORDS:
            continue
        before, after = old[i1:i2], new[j1:j2]
        if (_identifying(before, heard, heard_spans, redactor, known)
                or _identifying(after, corrected, corrected_spans, redactor, known)):
            continue
        pair = Pair(" ".join(w.norm for w in before), " ".join(w.norm for w in after))
        if pair.heard != pair.corrected:
            pairs.append(pair)
    return pairs


def meeting_pairs(meeting: Meeting, redactor: Redactor) -> list[Pair]:
    """Every distinct pair the meeting's corrections give, most frequent in it first (ties: in
    order of appearance). Depends on this meeting alone, so a cap on how many are counted per
    meeting bounds what one meeting can change in the aggregate."""
    seen: dict[Pair, int] = {}
    for index in sorted(meeting.heard):
        if index in meeting.damaged or index >= len(meeting.segments):
            continue
        for pair in segment_pairs(meeting.heard[index], meeting.segments[index].text, redactor):
            seen[pair] = seen.get(pair, 0) + 1
    order = {pair: i for i, pair in enumerate(seen)}
    return sorted(seen, key=lambda p: (-seen[p], order[p]))
