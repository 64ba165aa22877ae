"""Time from launching `candor` to its window being on screen, under a virtual X server.

    .venv/bin/python benchmarks/startup.py [--runs N]

Measured from outside the process (xwininfo sees the mapped window), with a fresh CANDOR_HOME
each run. Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CANDOR = Path(sys.executable).parent / "candor"


def _window_mapped(env: dict[str, str]) -> bool:
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree"], env=env, capture_output=True, text=True
    ).stdout
    return any('"Candor"' in line and "x" in line for line in tree.splitlines())


def one_run(display: str) -> float:
    home = tempfile.mkdtemp(prefix="candor-startup-")
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "CANDOR_HOME": home,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    began = time.perf_counter()
    app = subprocess.Popen([str(CANDOR)], env=env, stderr=subprocess.DEVNULL)
    try:
        while not _window_mapped(env):
            if app.poll() is not None:
                raise RuntimeError("candor exited before its window appeared")
            if time.perf_counter() - began > 60:
                raise RuntimeError("no window after 60 s")
            time.sleep(0.01)
        return time.perf_counter() - began
    finally:
        app.terminate()
        app.wait(10)
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("Xvfb") or not shutil.which("xwininfo"):
        print("needs Xvfb and xwininfo (./bootstrap test installs them)", file=sys.stderr)
        return 2
    display = ":97"
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        one_run(display)  # warm the file cache, as a second launch of the day would be
        times = [one_run(display) for _ in range(args.runs)]
    finally:
        xvfb.terminate()
        xvfb.wait()
    result = {
        "benchmark": "startup",
        "runs": args.runs,
        "launch_to_window_s": {
            "median": round(statistics.median(times), 3),
            "min": round(min(times), 3),
            "max": round(max(times), 3),
        },
    }
    print(json.dumps(result))
    print(f"\nlaunch to window shown (xcb, Xvfb), {args.runs} runs")
    print(
        f"  median {result['launch_to_window_s']['median']:.2f} s   "
        f"min {min(times):.2f} s   max {max(times):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
