"""Progress of long command-line work, on stderr so stdout stays the result.

On a terminal one line is rewritten in place; in a pipe or a log each step is its own line, and
only every `step` percent, so a log is not flooded.
"""

from __future__ import annotations

import sys


class StderrPercent:
    def __init__(self, label: str, *, step: int = 1) -> None:
        self.label = label
        self.step = max(1, step)
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, fraction: float) -> None:
        self.show(fraction)

    def show(self, fraction: float, detail: str = "") -> None:
        percent = int(100 * max(0.0, min(1.0, fraction)))
        due = self.last + (1 if self.tty else self.step)
        if percent <= self.last or (percent < due and percent != 100):
            return
        self.last = percent
        text = f"{self.label}: {percent}%" + (f" ({detail})" if detail else "")
        if self.tty:
            print("\r" + text, end="", file=sys.stderr, flush=True)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        """Ends the rewritten line, so what follows starts on a line of its own."""
        if self.tty and self.last >= 0:
            print(file=sys.stderr, flush=True)
