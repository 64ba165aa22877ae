"""What a correction teaches: the names and terms the recogniser got wrong.

The text before an edit is aligned with the text after it, word by word (difflib's
SequenceMatcher on normalised words). In each changed stretch, a word is term-like when the
recogniser never wrote it in this segment (it is not in the heard text) and it is
- rare in English (wordfreq's Zipf frequency below RARE_ZIPF: "metformin", "estoppel"), or
- a capitalised word inside a sentence that is not very common ("Kowalczyk", "Marc"), or
- spelled like a product (a digit, or a capital after the first letter: "PostgreSQL", "GPT4").
Neighbouring term-like words form one multi-word term ("habeas corpus", "Anna Kowalczyk"),
across a linking word such as "of" or "van". Everything else a correction fixes ("there" for
"their", a missing "the") is only a correction: biasing toward common words would hurt.

The inverse is also found: term-like words an edit took out again (an undo), so their count can
be taken back. Only terms are returned, never the sentence around them.
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from app.vocabulary.store import MAX_TERM_WORDS

# Zipf frequency = log10 of occurrences per billion words (wordfreq's English list). Measured on
# the benchmark's corrections: every jargon word is below 3.7 ("corpus" 3.64, "dashboard" 3.33,
# "metformin" 2.55), every everyday word a correction fixed is above 4.0 ("dose" 4.2,
# "contract" 4.94, "there" 6.31).
RARE_ZIPF = 3.8
# A capitalised word inside a sentence is a name unless it is very common as a word ("Friday"
# 4.96, "Mark" 5.0); first names are kept ("Anna" 4.37, "Marc" 4.03).
NAME_ZIPF = 4.5
LINKS = frozenset({"of", "de", "da", "di", "du", "van", "von", "der", "den", "la", "le", "al",
                   "bin", "ibn", "y"})
# Endings that make a heard word's variant ("protect" heard, "protects" typed): not a new word.
_ENDINGS = ("ing", "ed", "es", "s", "ly", "'s")
_WORD = re.compile(r"\w+(?:['’\-.]\w+)*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?]\s*$")


@dataclass(frozen=True)
class TermChanges:
    learned: tuple[str, ...]  # terms the edit put in that the recogniser did not write
    unlearned: tuple[str, ...]  # such terms an edit took out again


@dataclass(frozen=True)
class _Token:
    text: str
    norm: str
    sentence_start: bool


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for match in _WORD.finditer(text):
        before = text[: match.start()]
        start = not before.strip() or bool(_SENTENCE_END.search(before))
        word = match.group().strip(".")
        tokens.append(_Token(word, word.casefold(), start))
    return tokens


@lru_cache(maxsize=4096)
def zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


@dataclass(frozen=True)
class _Heard:
    words: frozenset[str]
    joined: frozenset[str]  # two neighbouring heard words written as one ("back end")

    @classmethod
    def of(cls, text: str) -> _Heard:
        norms = [t.norm for t in _tokens(text)]
        return cls(frozenset(norms), frozenset(a + b for a, b in itertools.pairwise(norms)))

    def has(self, norm: str) -> bool:
        if norm in self.words or norm in self.joined:
            return True
        return any(norm.endswith(e) and norm[: -len(e)] in self.words for e in _ENDINGS)


def _rare(token: _Token) -> bool:
    """Spelled or used like a name or a term, whatever was heard."""
    word = token.text
    if not any(c.isalpha() for c in word):
        return False
    if any(c.isdigit() for c in word) or any(c.isupper() for c in word[1:]):
        return True
    frequency = zipf(token.norm)
    if frequency < RARE_ZIPF:
        return True
    return word[0].isupper() and not token.sentence_start and frequency < NAME_ZIPF


def _terms_in(tokens: list[_Token], lo: int, hi: int, heard: _Heard) -> list[str]:
    """Runs of new term-like words in tokens[lo:hi], joined across single linking words.

    Not grown by rare neighbours outside the stretch: measured, that taught "Veltrix dashboard"
    and "Quorix backend" as often as "habeas corpus" (wordfreq cannot tell them apart: corpus
    3.64, dashboard 3.33, backend 2.86)."""
    flags = [_rare(t) and not heard.has(t.norm) for t in tokens[lo:hi]]
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i, flag in enumerate(flags):
        link = (start is not None and i + 1 < len(flags) and flags[i + 1]
                and tokens[lo + i].norm in LINKS and tokens[lo + i].text.islower())
        if flag or link:
            start = i if start is None else start
        elif start is not None:
            runs.append((lo + start, lo + i))
            start = None
    if start is not None:
        runs.append((lo + start, hi))
    terms = []
    for a, b in runs:
        # grown only over words an earlier edit put in ("Okonkwo" typed, then "Chidi" before it:
        # the term is "Chidi Okonkwo"), never over words the recogniser wrote
        def new_term_word(t: _Token) -> bool:
            return _rare(t) and not heard.has(t.norm)

        while a > 0 and b - a < MAX_TERM_WORDS and new_term_word(tokens[a - 1]):
            a -= 1
        while b < len(tokens) and b - a < MAX_TERM_WORDS and new_term_word(tokens[b]):
            b += 1
        terms.extend(_split([t.text for t in tokens[a:b]]))
    return terms


def _split(run: list[str]) -> list[str]:
    # A long run of rare words is not one term: keep its words apart rather than a phrase.
    if len(run) <= MAX_TERM_WORDS:
        return [" ".join(run)]
    return [w for w in run if w.casefold() not in LINKS]


def changed_terms(heard: str, before: str, after: str) -> TermChanges:
    """The terms an edit from `before` to `after` taught (and took back), given what the
    recogniser heard in this segment."""
    heard_words = _Heard.of(heard)
    old, new = _tokens(before), _tokens(after)
    matcher = difflib.SequenceMatcher(None, [t.norm for t in old], [t.norm for t in new],
                                      autojunk=False)
    learned: list[str] = []
    unlearned: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            learned += _terms_in(new, j1, j2, heard_words)
        if tag in ("replace", "delete"):
            unlearned += _terms_in(old, i1, i2, heard_words)
    kept = {t.casefold() for t in learned}
    after_norms = " " + " ".join(t.norm for t in new) + " "
    return TermChanges(
        learned=tuple(dict.fromkeys(learned)),
        # a term moved within the segment is still there: nothing to take back
        unlearned=tuple(dict.fromkeys(
            t for t in unlearned
            if t.casefold() not in kept and f" {t.casefold()} " not in after_norms
        )),
    )
