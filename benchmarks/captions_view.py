"""What drawing live captions costs the GUI thread as a meeting grows: an hour of captions (two
speakers, a final every 3 s, five partial updates before each) fed to the real CaptionsView,
with and without the compact caption window open. Per update: the median, 95th percentile and
worst milliseconds, for the first and the last hundred finals (a redraw that grew with the
meeting would show there).

Run: QT_QPA_PLATFORM=offscreen flock /tmp/candor-cpu.lock .venv/bin/python \
         benchmarks/captions_view.py [--minutes 60]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtWidgets import QApplication

from app.segments import Segment
from app.ui.captions_view import CaptionsView

SENTENCE = "ask not what your country can do for you ask what you can do for your country"
WORDS = SENTENCE.split(" ")


def run(minutes: int, compact: bool) -> dict[str, float]:
    view = CaptionsView()
    view.resize(700, 400)
    view.show()
    if compact:
        view.open_caption_window()
    finals = minutes * 20
    timings: list[list[float]] = []
    for i in range(finals):
        source = "microphone" if (i // 3) % 2 else "system"
        start = i * 3.0
        per_final: list[float] = []
        for k in range(1, 6):
            partial = Segment(start, start + k * 0.5, " ".join(WORDS[:k * 3]), False, source)
            began = time.perf_counter()
            view.set_partial(partial)
            QApplication.processEvents()
            per_final.append(time.perf_counter() - began)
        began = time.perf_counter()
        view.add_final(Segment(start, start + 2.5, " ".join(WORDS), True, source))
        QApplication.processEvents()
        per_final.append(time.perf_counter() - began)
        timings.append(per_final)
    first = [t * 1000 for row in timings[:100] for t in row]
    last = [t * 1000 for row in timings[-100:] for t in row]
    view.close()
    view.deleteLater()
    return {
        "finals": finals,
        "first_median_ms": statistics.median(first),
        "first_p95_ms": statistics.quantiles(first, n=20)[-1],
        "last_median_ms": statistics.median(last),
        "last_p95_ms": statistics.quantiles(last, n=20)[-1],
        "last_max_ms": max(last),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=60)
    args = parser.parse_args()
    QApplication.instance() or QApplication([])
    results = {"view": run(args.minutes, False), "view_and_compact": run(args.minutes, True)}
    print(json.dumps(results, indent=2))
    print(f"{'case':18} {'finals':>6} {'first med':>9} {'first p95':>9} {'last med':>8} "
          f"{'last p95':>8} {'last max':>8}  (ms per update)")
    for name, r in results.items():
        print(f"{name:18} {r['finals']:6.0f} {r['first_median_ms']:9.2f} {r['first_p95_ms']:9.2f} "
              f"{r['last_median_ms']:8.2f} {r['last_p95_ms']:8.2f} {r['last_max_ms']:8.2f}")


if __name__ == "__main__":
    main()
