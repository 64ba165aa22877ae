"""Consent gate and ledger figures: what a check costs on the hot paths (an audio callback asks
`allowed`, every stored caption passes `guard`), how long recording a yes or a withdrawal takes
(each is a durable, chained, keyed ledger append), how long a withdrawal takes to reach a
listener in another process's gate, and how `verify` scales with the ledger's length.

Run: flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/consent.py [--records 2000]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.consent import open_gate


def _timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_us": round(statistics.median(ordered) * 1e6, 2),
        "p95_us": round(ordered[int(0.95 * (len(ordered) - 1))] * 1e6, 2),
        "max_us": round(ordered[-1] * 1e6, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000, help="ledger length for verify")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="candor-bench-consent-"))
    os.environ["CANDOR_HOME"] = str(home)

    gate = open_gate()
    gate.grant("microphone", via="cli")
    gate.grant("transcript_storage", via="cli")
    allowed = _summary(_timed(lambda: gate.allowed("microphone"), 20000))

    def guarded() -> None:
        with gate.guard("transcript_storage"):
            pass

    guard = _summary(_timed(guarded, 2000))

    grant_withdraw: list[float] = []
    for _ in range(200):
        t0 = time.perf_counter()
        gate.withdraw("transcription", via="cli")
        gate.grant("transcription", via="cli")
        grant_withdraw.append((time.perf_counter() - t0) / 2)
    append = _summary(grant_withdraw)

    # A second gate on the same ledger stands for another process (the window while the CLI
    # withdraws): how long until its listener hears of the withdrawal.
    other = open_gate()
    other.start_watching()
    heard = threading.Event()
    other.on_withdrawn(lambda purpose: heard.set() if purpose == "transcription" else None)
    reach: list[float] = []
    for _ in range(20):
        gate.grant("transcription", via="cli")
        time.sleep(0.3)
        heard.clear()
        t0 = time.perf_counter()
        gate.withdraw("transcription", via="cli")
        heard.wait(5)
        reach.append(time.perf_counter() - t0)
    other.close()

    while gate.ledger.tail_seq() < args.records:
        gate.grant("noise_suppression", via="cli")
        gate.withdraw("noise_suppression", via="cli")
    t0 = time.perf_counter()
    result = gate.ledger.verify()
    verify_s = time.perf_counter() - t0
    records = gate.ledger.tail_seq()
    size = sum(p.stat().st_size for p in home.glob("consent*") if p.is_file())
    gate.close()
    shutil.rmtree(home, ignore_errors=True)

    figures = {
        "allowed": allowed,
        "guard": guard,
        "append_one_record": append,
        "withdrawal_reaches_other_gate_ms": {
            "median": round(statistics.median(reach) * 1e3, 1),
            "max": round(max(reach) * 1e3, 1),
        },
        "verify": {"records": records, "ok": result.ok, "seconds": round(verify_s, 3)},
        "ledger_bytes_per_record": round(size / records, 1) if records else None,
    }
    print(json.dumps(figures))
    print()
    print(f"{'allowed()':<34} median {allowed['median_us']:>8} µs  p95 {allowed['p95_us']} µs")
    print(f"{'guard() enter+exit':<34} median {guard['median_us']:>8} µs  p95 {guard['p95_us']} µs")
    print(f"{'record one grant/withdrawal':<34} median {append['median_us'] / 1e3:>8.2f} ms  "
          f"p95 {append['p95_us'] / 1e3:.2f} ms")
    w = figures["withdrawal_reaches_other_gate_ms"]
    print(f"{'withdrawal heard by other process':<34} median {w['median']:>8} ms  "
          f"max {w['max']} ms")
    print(f"{'verify':<34} {records} records in {verify_s:.3f} s  ({result.ok and 'intact'})")
    print(f"{'ledger size':<34} {figures['ledger_bytes_per_record']} bytes per record")


if __name__ == "__main__":
    main()
