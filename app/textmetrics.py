"""Word error rate for measuring recognisers (benchmarks and tests).

`normalise` lowercases, turns hyphens and other punctuation into spaces (an apostrophe inside a
word stays: "don't"), and collapses whitespace. Numbers are not spelled out: "1,000" and
"one thousand" differ.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_NOT_WORD = re.compile(r"[^\w']+")
_LOOSE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = _NOT_WORD.sub(" ", text.replace("_", " "))
    text = _LOOSE_APOSTROPHE.sub(" ", text)
    return " ".join(text.split())


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, words in the reference), after normalising."""
    ref = normalise(reference).split()
    hyp = normalise(hypothesis).split()
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, start=1):
            current[j] = min(
                previous[j] + 1,  # deletion
                current[j - 1] + 1,  # insertion
                previous[j - 1] + (ref_word != hyp_word),  # substitution or match
            )
        previous = current
    return previous[-1], len(ref)


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of `hypothesis` against `reference` (0.0 = perfect; may exceed 1.0).

    An empty reference gives 0.0 for an empty hypothesis and 1.0 otherwise.
    """
    errors, words = word_errors(reference, hypothesis)
    if words == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / words


def pooled_wer(pairs: list[tuple[str, str]]) -> float:
    """WER over several (reference, hypothesis) pairs: all errors over all reference words."""
    errors = words = 0
    for reference, hypothesis in pairs:
        e, w = word_errors(reference, hypothesis)
        errors += e
        words += w
    return errors / words if words else 0.0
