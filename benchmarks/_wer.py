"""Word error rate for the benchmarks (the lead may swap in app.textmetrics once it is merged)."""

from __future__ import annotations

import re

_PUNCT = re.compile(r"[^\w\s']")


def normalise(text: str) -> list[str]:
    text = _PUNCT.sub(" ", text.lower().replace("-", " "))
    return [w.strip("'") for w in text.split() if w.strip("'")]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def wer(reference: str, hypothesis: str) -> float:
    ref = normalise(reference)
    return edit_distance(ref, normalise(hypothesis)) / max(1, len(ref))


def errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word errors, reference words) - pool these across files for a pooled WER."""
    ref = normalise(reference)
    return edit_distance(ref, normalise(hypothesis)), len(ref)


def diff(reference: str, hypothesis: str) -> list[str]:
    """The word edits turning reference into hypothesis, e.g. ['what->like', '+under', '-in']."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    rows = len(ref) + 1
    cols = len(hyp) + 1
    d = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        d[i][0] = i
    for j in range(cols):
        d[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
    edits: list[str] = []
    i, j = len(ref), len(hyp)
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            if ref[i - 1] != hyp[j - 1]:
                edits.append(f"{ref[i - 1]}->{hyp[j - 1]}")
            i, j = i - 1, j - 1
        elif j and d[i][j] == d[i][j - 1] + 1:
            edits.append(f"+{hyp[j - 1]}")
            j -= 1
        else:
            edits.append(f"-{ref[i - 1]}")
            i -= 1
    return edits[::-1]
