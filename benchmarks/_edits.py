"""Which words differ: the edits behind a word error rate (app.textmetrics counts them)."""

from __future__ import annotations

from app.textmetrics import normalise


def diff(reference: str, hypothesis: str) -> list[str]:
    """The word edits turning reference into hypothesis, e.g. ['what->like', '+under', '-in']."""
    ref, hyp = normalise(reference).split(), normalise(hypothesis).split()
    rows, cols = len(ref) + 1, len(hyp) + 1
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
