"""Do two spellings sound alike? Used to find which vocabulary terms a transcript may contain
("a conk woe" ~ "Okonkwo", "met for me" ~ "metformin") and to check that a biased pass put a
term where the unbiased one heard something that sounds like it.

A span and a term are compared with spaces and punctuation removed, by two measures from
maintained libraries: the Levenshtein similarity of their Metaphone codes (jellyfish: sounds,
so "Fibodox" ~ "Thibodeaux") and the Jaro-Winkler similarity of their letters (rapidfuzz:
spelling, so a close misspelling scores high even where Metaphone codes differ). The weights
were chosen on the benchmark's corrected passages, never on the unseen ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from app.textmetrics import normalise

PHONETIC_WEIGHT = 0.6
SPELLING_WEIGHT = 0.4
# A span much shorter or longer than the term cannot be it ("a" is not "Adebayo").
MIN_LENGTH_RATIO = 0.5
MAX_LENGTH_RATIO = 2.0
_LETTERS = re.compile(r"[^a-z]")


@lru_cache(maxsize=8192)
def _letters(text: str) -> str:
    return _LETTERS.sub("", normalise(text))


@lru_cache(maxsize=8192)
def _code(letters: str) -> str:
    import jellyfish

    return str(jellyfish.metaphone(letters)) if letters else ""


def similarity(span: str, term: str) -> float:
    """0.0 (nothing alike) .. 1.0 (same letters)."""
    from rapidfuzz.distance import JaroWinkler, Levenshtein

    a, b = _letters(span), _letters(term)
    if not a or not b or not MIN_LENGTH_RATIO <= len(a) / len(b) <= MAX_LENGTH_RATIO:
        return 0.0
    if a == b:
        return 1.0
    phonetic = Levenshtein.normalized_similarity(_code(a), _code(b))
    spelling = JaroWinkler.similarity(a, b)
    return PHONETIC_WEIGHT * phonetic + SPELLING_WEIGHT * spelling


@dataclass(frozen=True)
class SpanMatch:
    term: str
    start: int  # word positions in the text's normalised words
    end: int
    score: float


def best_match(words: list[str], term: str, extra_words: int = 2) -> SpanMatch:
    """The span of `words` (normalised) that sounds most like `term`, spans of up to the
    term's length plus `extra_words` ("Orbisync" heard as "Orbis Inc." is two words)."""
    size = len(term.split()) + extra_words
    best = SpanMatch(term, 0, 0, 0.0)
    for i in range(len(words)):
        for k in range(1, size + 1):
            if i + k > len(words):
                break
            score = similarity(" ".join(words[i : i + k]), term)
            if score > best.score:
                best = SpanMatch(term, i, i + k, score)
    return best
