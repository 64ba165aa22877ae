"""Contribution files: how many true (heard → corrected) pairs survive the noise, against ε.

A synthetic year of one user's corrections: `--meetings` meetings, each correcting 0–3 of
`--pairs` recurring confusions drawn with Zipf-like weights (a few jargon terms fixed in most
meetings, a long tail fixed rarely), capped at MAX_PAIRS_PER_MEETING per meeting as the real
aggregate is. For each ε, `--runs` fresh OpenDP draws (make_laplace_threshold, calibrated as
app/contribution/release.py does) are made and we report:

- eligible: pairs seen in ≥ k meetings (the most any mechanism may release);
- survived: released true pairs, mean and range over the runs (no false pair can be released:
  the mechanism only sees keys that exist);
- smallest count released, threshold in meetings, mean |noisy − true| of released counts;
- CPU time per draw.

    .venv/bin/python benchmarks/contribution.py [--json] [--meetings N] [--pairs N] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.contribution.aggregate import DEFAULT_K, MAX_PAIRS_PER_MEETING, Aggregate
from app.contribution.pairs import Pair
from app.contribution.release import calibrate, draw

EPSILONS = (0.25, 0.5, 1.0, 2.0, 4.0, 10.0)


def synthetic(meetings: int, pairs: int, rng: random.Random) -> Counter[Pair]:
    universe = [Pair(f"heard{i}", f"term{i}") for i in range(pairs)]
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(pairs)]
    counts: Counter[Pair] = Counter()
    for _ in range(meetings):
        fixed = rng.choices(universe, weights, k=rng.randint(0, 3))
        counts.update(list(dict.fromkeys(fixed))[:MAX_PAIRS_PER_MEETING])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetings", type=int, default=250)  # about a working year
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    counts = synthetic(args.meetings, args.pairs, random.Random(args.seed))
    eligible = {p: n for p, n in counts.items() if n >= DEFAULT_K}
    aggregate = Aggregate(eligible, DEFAULT_K, args.meetings, args.meetings, ("tiny.en",))
    rows = []
    for epsilon in EPSILONS:
        calibration = calibrate(epsilon)
        survived, errors, smallest, cpu = [], [], [], []
        for _ in range(args.runs):
            start = time.process_time()
            release = draw(aggregate, epsilon)
            cpu.append(time.process_time() - start)
            released = dict(release.pairs)
            assert set(released) <= set(eligible)
            survived.append(len(released))
            errors += [abs(n - eligible[p]) for p, n in released.items()]
            smallest += [eligible[p] for p in released]
        rows.append({
            "epsilon": epsilon, "delta": calibration.delta, "scale": calibration.scale,
            "threshold_meetings": calibration.threshold + DEFAULT_K - 1,
            "eligible": len(eligible),
            "survived_mean": statistics.fmean(survived), "survived_min": min(survived),
            "survived_max": max(survived),
            "smallest_true_count_released": min(smallest) if smallest else None,
            "mean_abs_error": statistics.fmean(errors) if errors else None,
            "cpu_ms_per_draw_median": 1000 * statistics.median(cpu),
        })
    result = {"meetings": args.meetings, "pairs": args.pairs, "runs": args.runs,
              "k": DEFAULT_K, "max_pairs_per_meeting": MAX_PAIRS_PER_MEETING,
              "true_counts_top": sorted(counts.values(), reverse=True)[:10], "rows": rows}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.meetings} meetings, {args.pairs} recurring confusions, k={DEFAULT_K}, "
          f"≤{MAX_PAIRS_PER_MEETING} pairs/meeting, {args.runs} draws per ε; "
          f"largest true counts {result['true_counts_top']}")
    print(f"{'ε':>5} {'δ':>8} {'thr':>4} {'eligible':>8} {'survived (min–max)':>20} "
          f"{'min true':>8} {'|err|':>6} {'ms/draw':>8}")
    for r in rows:
        print(f"{r['epsilon']:>5g} {r['delta']:>8.1e} {r['threshold_meetings']:>4} "
              f"{r['eligible']:>8} {r['survived_mean']:>9.1f} ({r['survived_min']}–"
              f"{r['survived_max']}){'':>3} {r['smallest_true_count_released'] or '-':>8} "
              f"{(r['mean_abs_error'] or 0):>6.2f} {r['cpu_ms_per_draw_median']:>8.2f}")


if __name__ == "__main__":
    main()
