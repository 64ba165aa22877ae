"""What a search for meetings means: every word of the query, in any order, case-insensitive.

Promise: "sunday best" finds "Sunday is the best part" — each whitespace-separated word of the
query must occur (as part of a word: "sun" finds "Sunday") and order does not matter. A segment
matches when it holds every word; a title likewise. A meeting whose words are spread over
several segments (say "budget" in one line, "Anna" in another) also matches: then every line
holding any of the words is listed, so the user sees where each one is. Comparison is by
Unicode casefold, so "STRASSE" finds "Straße".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Query:
    words: tuple[str, ...]  # casefolded, no duplicates, in the order typed

    @classmethod
    def parse(cls, text: str) -> Query:
        seen: dict[str, None] = {}
        for word in text.casefold().split():
            seen.setdefault(word, None)
        return cls(tuple(seen))

    def __bool__(self) -> bool:
        return bool(self.words)

    def found_in(self, text: str) -> set[str]:
        folded = text.casefold()
        return {w for w in self.words if w in folded}

    def matches(self, text: str) -> bool:
        return len(self.found_in(text)) == len(self.words)


def matching_lines(query: Query, title: str, lines: Sequence[str],
                   skip: Iterable[int] = ()) -> tuple[bool, list[int]] | None:
    """(title matched, indices of the lines to list) when the meeting matches, else None.
    Lines in `skip` (damaged ones) are never matched."""
    broken = set(skip)
    found = [(i, query.found_in(line)) for i, line in enumerate(lines) if i not in broken]
    whole = [i for i, words in found if len(words) == len(query.words)]
    title_match = query.matches(title)
    if whole or title_match:
        return title_match, whole
    everywhere = set(query.found_in(title)).union(*(words for _i, words in found))
    if len(everywhere) < len(query.words):
        return None
    return False, [i for i, words in found if words]
