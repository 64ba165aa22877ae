"""What an idle microphone capture costs: CPU time and wakeups of its threads, nothing playing.

A private PulseAudio virtual microphone delivers silence in real time (as a quiet room does) to
one AudioCapture for `--seconds` (default 20), `--repeats` times (default 3); a reader thread
takes the chunks as the meeting engine's reader does. Per run: CPU seconds per wall second of the
whole process (user, system), of the capture worker and of PortAudio's callback thread, and the
worker's voluntary context switches per second (each is one sleep and wake-up: a polling loop
shows here even when it costs little CPU).

Compare two versions of the capture with `--repo PATH` (a checkout whose `app/` is imported):
    git archive main | tar -x -C /tmp/before
    flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/capture_idle.py --repo /tmp/before
    flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/capture_idle.py
The machine is shared: the load average is printed with the figures, and thread CPU time (not
wall-clock) is the figure to trust. Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def thread_stats(native_id: int | None) -> tuple[float, float, int] | None:
    """(user s, system s, voluntary context switches) of one thread of this process."""
    if native_id is None:
        return None
    task = Path(f"/proc/self/task/{native_id}")
    try:
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        status = (task / "status").read_text()
    except OSError:
        return None
    switches = next(int(line.split()[1]) for line in status.splitlines()
                    if line.startswith("voluntary_ctxt_switches"))
    return int(fields[11]) / TICK, int(fields[12]) / TICK, switches


def one_run(capture_cls: Any, gate: Any, seconds: float) -> dict[str, float]:
    capture = capture_cls(gate)
    capture.start()
    stop = threading.Event()
    chunks = 0

    def read() -> None:
        nonlocal chunks
        while not stop.is_set():
            if capture.read(timeout=0.5) is not None:
                chunks += 1

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    # the first block of a fresh stream can take a moment: measure from the steady state
    deadline = time.monotonic() + 10
    while chunks == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker, callback = capture.worker_thread_id, capture.callback_thread_id
    w0, c0, p0 = thread_stats(worker), thread_stats(callback), os.times()
    t0 = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    w1, c1, p1 = thread_stats(worker), thread_stats(callback), os.times()
    stop.set()
    reader.join(timeout=5)
    capture.stop()
    if w0 is None or w1 is None:
        raise SystemExit("the capture worker thread was not found")
    result = {
        "wall_s": wall,
        "process_user_per_s": (p1.user - p0.user) / wall,
        "process_system_per_s": (p1.system - p0.system) / wall,
        "worker_cpu_per_s": (w1[0] + w1[1] - w0[0] - w0[1]) / wall,
        "worker_wakeups_per_s": (w1[2] - w0[2]) / wall,
        "chunks_per_s": chunks / (time.monotonic() - t0),
    }
    if c0 and c1:
        result["callback_cpu_per_s"] = (c1[0] + c1[1] - c0[0] - c0[1]) / wall
        result["callback_wakeups_per_s"] = (c1[2] - c0[2]) / wall
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--repo", type=Path, default=ROOT,
                        help="the checkout whose app/ is measured (default: this one)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))  # tests.support from this checkout
    sys.path.insert(0, str(args.repo.resolve()))
    os.environ.setdefault("CANDOR_HOME", tempfile.mkdtemp(prefix="candor-bench-"))

    import app
    from app.audio.capture import AudioCapture
    from app.consent import open_gate
    from tests.support.virtual_mic import VirtualMic

    runs = []
    with VirtualMic():
        gate = open_gate()
        gate.grant("microphone", via="benchmark")
        for _ in range(args.repeats):
            runs.append(one_run(AudioCapture, gate, args.seconds))
    keys = list(runs[0])
    report = {
        "benchmark": "capture_idle",
        "repo": str(Path(app.__file__).resolve().parents[1]),
        "seconds": args.seconds,
        "load_average": os.getloadavg(),
        "runs": runs,
        "median": {k: statistics.median(r[k] for r in runs if k in r) for k in keys},
    }
    print(json.dumps(report, indent=2))
    print()
    print(f"{'figure':<24}" + "".join(f"{'run ' + str(i + 1):>10}" for i in range(len(runs)))
          + f"{'median':>10}")
    for key in keys:
        print(f"{key:<24}" + "".join(f"{r.get(key, float('nan')):>10.3f}" for r in runs)
              + f"{report['median'][key]:>10.3f}")


if __name__ == "__main__":
    main()
