"""What the name detector knows about English words and people's names, loaded once, on demand.

- How ordinary a word is: wordfreq's Zipf frequency for English (its lists ship inside the
  package, nothing is downloaded; the English list costs ~0.3 s of CPU and ~30 MB the first
  time). Zipf 3 is about once per million words; 6 is "the"-like.
- Whether a word is a first name or a surname: the US Census 1990 name lists that the `names`
  package ships (5,494 first names, 88,799 surnames, public-domain data).

Nothing here is personal: these are public word lists. Loaded only when a redaction runs.
"""

from __future__ import annotations

import functools
from pathlib import Path

# Surnames beyond this rank of the Census list are too rare to be any help as a cue, and the
# long tail holds many ordinary words (measured: rank 20 000 is already zipf ≈ 2).
SURNAME_RANKS = 20_000


def _census(file: str) -> list[str]:
    import names

    lines = Path(names.FILES[file]).read_text(encoding="ascii").splitlines()
    return [line.split()[0].lower() for line in lines if line.strip()]


@functools.cache
def first_names() -> frozenset[str]:
    return frozenset(_census("first:male") + _census("first:female"))


@functools.cache
def surnames() -> frozenset[str]:
    return frozenset(_census("last")[:SURNAME_RANKS])


@functools.cache
def zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word.lower(), "en"))
