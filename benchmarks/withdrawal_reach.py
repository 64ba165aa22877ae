"""How fast a withdrawal recorded elsewhere stops `candor transcribe` and `candor denoise`.

Each run starts the command on a 9-minute recording (the shared speech, tiled), waits until it
reports progress, then records the withdrawal from this process (ConsentGate.withdraw returns
once the record is committed: that moment is t=0). Measured: when the command's reason line
arrived on its stderr, and when the process had exited. Wall-clock figures: the load average is
printed with them; on a busy 2-core machine interpreter exit alone takes ~0.3 s.

Run: flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/withdrawal_reach.py [--runs 5]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

from tests.support.data import SPEECH, read_wav, write_wav  # noqa: E402

CANDOR = Path(sys.executable).parent / "candor"


def one_run(command: list[str], purpose: str) -> dict[str, float]:
    from app.consent import open_gate

    gate = open_gate()
    gate.grant(purpose, via="cli")
    proc = subprocess.Popen([str(CANDOR), *command], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    lines: queue.Queue[tuple[float, str]] = queue.Queue()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put((time.monotonic(), line))

    threading.Thread(target=read, daemon=True).start()
    while True:  # until it reports work done (past the model load and the first window)
        _moment, line = lines.get(timeout=300)
        if line.strip().endswith("%") and int(line.strip().rsplit(" ", 1)[1][:-1]) >= 1:
            break
    gate.withdraw(purpose, via="cli")
    recorded = time.monotonic()
    proc.wait(timeout=120)
    exited = time.monotonic()
    said = float("nan")
    while not lines.empty():
        moment, line = lines.get()
        if "withdrawn" in line:
            said = moment
    gate.close()
    return {"reason_s": said - recorded, "exit_s": exited - recorded,
            "code": float(proc.returncode)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="candor-bench-reach-"))
    os.environ["CANDOR_HOME"] = str(work / "home")
    speech = np.concatenate([read_wav(SPEECH / n)[0] for n in ("real_concat.wav",
                                                                "harvard9_concat.wav")])
    long = write_wav(work / "nine-minutes.wav",
                     np.resize(speech, 9 * 60 * 16000).astype(np.float32))
    rows: dict[str, list[dict[str, float]]] = {"transcribe": [], "denoise": []}
    for _ in range(args.runs):
        rows["transcribe"].append(one_run(["transcribe", str(long)], "transcription"))
        rows["denoise"].append(one_run(["denoise", str(long), str(work / "out.wav")],
                                       "noise_suppression"))
    summary = {
        name: {
            "runs": len(runs),
            "exit_codes": sorted({int(r["code"]) for r in runs}),
            "reason_median_s": statistics.median(r["reason_s"] for r in runs),
            "reason_max_s": max(r["reason_s"] for r in runs),
            "exit_median_s": statistics.median(r["exit_s"] for r in runs),
            "exit_max_s": max(r["exit_s"] for r in runs),
        }
        for name, runs in rows.items()
    }
    summary["load_average_1m"] = os.getloadavg()[0]  # type: ignore[assignment]
    print(json.dumps(summary, indent=2))
    print()
    print(f"{'command':<12}{'reason p50':>11}{'max':>7}{'exit p50':>10}{'max':>7}  codes")
    for name in rows:
        s = summary[name]
        print(f"{name:<12}{s['reason_median_s']:>11.2f}{s['reason_max_s']:>7.2f}"
              f"{s['exit_median_s']:>10.2f}{s['exit_max_s']:>7.2f}  {s['exit_codes']}")
    print(f"load average {summary['load_average_1m']:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
