"""Correcting what was heard toward vocabulary terms by how it sounds, with no second decode.

tiny.en writes a term it does not know as everyday words that sound like it ("met for me" for
metformin, "a Sicilian" for amoxicillin, "as topple" for estoppel). Each span of up to a term's
length plus EXTRA_WORDS words is compared with the term by pronunciation: espeak-ng's phonemes
(`espeak-ng -q -x`, the Debian package the test set is spoken with) of the span's words joined,
against the term's, by the Levenshtein similarity of the phoneme strings and of their consonant
skeletons (every vowel run one symbol: accents and reduced vowels differ most). Without espeak-ng
the letters' Metaphone codes stand in (jellyfish), less discerning but never failing.

A span is replaced when it sounds at least `threshold` alike (more for a short term), best
first, spans never overlapping, each term at most once per text (measured: a second place was a
false match far more often than a second mention). Thresholds were chosen on the benchmark's
corrected passages and its dev split, and checked for false replacements on correct English
(benchmarks/vocabulary.py).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from app.textmetrics import normalise

log = logging.getLogger(__name__)

EXTRA_WORDS = 3  # "land with the McSine" is four heard words for levothyroxine
# A span's phonemes much shorter or longer than the term's cannot be it ("takes" is not Veltrix).
MIN_LENGTH_RATIO = 0.8
MAX_LENGTH_RATIO = 1.25
# A short term is asked to sound more alike: with few phonemes, everyday words match it by
# chance ("repairs" ~ habeas). Per phoneme short of SHORT_TERM, SHORT_PENALTY more similarity.
SHORT_TERM = 9
SHORT_PENALTY = 0.04
_STRIP = re.compile(r"[',:;_%=|#\s\-]")  # espeak-ng's stress, length and boundary marks
_VOWELS = frozenset("aeiouAEIOU@03VY&")
_WORD = re.compile(r"[a-z0-9']+")


class _Phonemes:
    """Phonemes of single words, from espeak-ng in one batch per call, remembered."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}
        self._lock = threading.Lock()
        self._espeak = shutil.which("espeak-ng")

    def of(self, words: Sequence[str]) -> list[str]:
        with self._lock:
            missing = [w for w in dict.fromkeys(words) if w not in self._known]
            if missing:
                self._known.update(zip(missing, self._lookup(missing), strict=True))
            return [self._known[w] for w in words]

    def _lookup(self, words: list[str]) -> list[str]:
        if self._espeak is not None:
            try:
                done = subprocess.run(
                    [self._espeak, "-q", "-x", "-v", "en-us"], input="\n".join(words) + "\n",
                    capture_output=True, text=True, timeout=10, check=True)
                lines = done.stdout.splitlines()
                if len(lines) == len(words):
                    return [_STRIP.sub("", line) for line in lines]
                log.warning("espeak-ng gave %d lines for %d words: using Metaphone",
                            len(lines), len(words))
            except (OSError, subprocess.SubprocessError) as err:
                log.warning("espeak-ng failed (%s): using Metaphone", err)
            self._espeak = None
        import jellyfish

        return [str(jellyfish.metaphone(w)) for w in words]


_PHONEMES = _Phonemes()


def _skeleton(phonemes: str) -> str:
    out: list[str] = []
    for c in phonemes:
        symbol = "V" if c in _VOWELS else c
        if not (symbol == "V" and out and out[-1] == "V"):
            out.append(symbol)
    return "".join(out)


def sound_similarity(heard: str, term: str) -> float:
    """0.0 (nothing alike) .. 1.0 (same sounds) of two pronunciations (phoneme strings)."""
    from rapidfuzz.distance import Levenshtein

    if not heard or not term or not MIN_LENGTH_RATIO <= len(heard) / len(term) <= MAX_LENGTH_RATIO:
        return 0.0
    full = Levenshtein.normalized_similarity(heard, term)
    skeleton = Levenshtein.normalized_similarity(_skeleton(heard), _skeleton(term))
    return 0.5 * full + 0.5 * skeleton


def pronounce(text: str) -> str:
    words = _WORD.findall(normalise(text))
    return "".join(_PHONEMES.of(words))


@dataclass(frozen=True)
class Replacement:
    heard: str  # the words replaced, as written
    term: str
    score: float


@dataclass(frozen=True)
class Corrected:
    text: str
    replacements: tuple[Replacement, ...]


def correct(text: str, terms: Sequence[str], threshold: float) -> Corrected:
    """`text` with every span that sounds like a term (at `threshold` or more) spelled as it.

    `terms` are the spellings to match: pass a name's forms (bias.forms) to match a surname said
    alone. A term already written in the text is left as it is, and not put in again."""
    tokens = text.split()
    words: list[str] = []
    owner: list[int] = []  # token index of each normalised word
    for index, token in enumerate(tokens):
        for word in _WORD.findall(normalise(token)):
            words.append(word)
            owner.append(index)
    if not words or not terms:
        return Corrected(text, ())
    sounds = _PHONEMES.of(words)
    candidates: list[tuple[float, int, int, str]] = []
    taken = [False] * len(words)
    for term in dict.fromkeys(terms):
        parts = _WORD.findall(normalise(term))
        if not parts:
            continue
        present = False
        for i in range(len(words) - len(parts) + 1):  # already there: keep it as it is
            if words[i : i + len(parts)] == parts:
                taken[i : i + len(parts)] = [True] * len(parts)
                present = True
        if present:  # and it is not put in a second time
            continue
        target = "".join(_PHONEMES.of(parts))
        needed = threshold + SHORT_PENALTY * max(0, SHORT_TERM - len(target))
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + len(parts) + EXTRA_WORDS) + 1):
                score = sound_similarity("".join(sounds[i:j]), target)
                if score >= needed:
                    candidates.append((score, i, j, term))
    candidates.sort(key=lambda c: -c[0])
    chosen: list[tuple[int, int, str, float]] = []
    used: set[str] = set()
    for score, i, j, term in candidates:
        if term in used or any(taken[i:j]):
            continue
        # whole tokens only: "D.R.'s" is one token of several words
        a, b = owner[i], owner[j - 1]
        span = [k for k, o in enumerate(owner) if a <= o <= b]
        if any(taken[k] for k in span):
            continue
        for k in span:
            taken[k] = True
        used.add(term)
        chosen.append((a, b, term, score))
    out = list(tokens)
    replacements = []
    for a, b, term, score in sorted(chosen, reverse=True):
        trail = re.sub(r"^.*?([.,;:!?]*)$", r"\1", out[b])
        replacements.append(Replacement(" ".join(out[a : b + 1]), term, score))
        out[a : b + 1] = [term + trail]
    return Corrected(" ".join(out), tuple(reversed(replacements)))
