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
import math
from pathlib import Path

# Surnames beyond this rank of the Census list are too rare to be any help as a cue, and the
# long tail holds many ordinary words (measured: rank 20 000 is already zipf ≈ 2).
SURNAME_RANKS = 20_000


def _census_rows(file: str) -> list[tuple[str, float]]:
    import names

    lines = Path(names.FILES[file]).read_text(encoding="ascii").splitlines()
    rows = [line.split() for line in lines if line.strip()]
    return [(row[0].lower(), float(row[1])) for row in rows]  # name, percent of people


def _census(file: str) -> list[str]:
    return [name for name, _ in _census_rows(file)]


@functools.cache
def _first_name_percent() -> dict[str, float]:
    shares: dict[str, float] = {}
    for file in ("first:male", "first:female"):
        for name, percent in _census_rows(file):
            shares[name] = max(shares.get(name, 0.0), percent)
    return shares


@functools.cache
def first_names() -> frozenset[str]:
    return frozenset(_first_name_percent())


def word_over_name(word: str) -> float | None:
    """How much more often a first name appears in text than its share of people explains:
    Zipf frequency minus log10(percent of people with that name). Pure names score about
    4.8–5.1 (john 4.87, george 5.07, mark 5.08); names that are also ordinary words score
    higher (grace 5.28, jack 5.32, hope 6.91, will 8.19, paris 7.22). None: not a first name."""
    percent = _first_name_percent().get(word.lower())
    if not percent:
        return None
    return zipf(word) - math.log10(percent)


@functools.cache
def surnames() -> frozenset[str]:
    return frozenset(_census("last")[:SURNAME_RANKS])


@functools.cache
def zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word.lower(), "en"))
