"""Text from silence: what `candor transcribe` writes for recordings with nobody speaking, and
what it costs. An hour of digital silence, and ten minutes each of 1-LSB dither and white noise
at -45 dBFS; the lines of transcript (should be 0) and the child's CPU time (ru_utime+ru_stime
from wait4, so other work on the machine does not count). --source runs another checkout
(e.g. `git archive main | tar -x -C /tmp/candor-main`) for a before/after.

Run: flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/silence.py [--source /tmp/candor-main]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RATE = 16000


def write(path: Path, minutes: float, make: np.random.Generator, kind: str) -> Path:
    """Written a minute at a time, so the benchmark itself stays small."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        for _ in range(int(minutes)):
            if kind == "silence":
                block = np.zeros(60 * RATE, dtype="<i2")
            elif kind == "dither":
                block = make.integers(-1, 2, 60 * RATE).astype("<i2")
            else:  # white noise at -45 dBFS
                block = (make.standard_normal(60 * RATE) * 10 ** (-45 / 20) * 32767).astype("<i2")
            wav.writeframes(block.tobytes())
    return path


def transcribe(source: Path, path: Path, env: dict[str, str]) -> dict[str, float]:
    proc = subprocess.Popen([sys.executable, "-m", "app", "transcribe", str(path)], cwd=source,
                            env={**env, "PYTHONPATH": str(source)}, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"transcribe failed on {path}")
    lines = [line for line in out.splitlines() if line.strip()]
    return {"lines": len(lines), "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024, "sample": lines[:3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="candor-bench-silence-"))
    env = {**os.environ, "CANDOR_HOME": str(work / "home"), "HF_HUB_OFFLINE": "1",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    subprocess.run([sys.executable, "-m", "app", "consent", "grant", "transcription", "--yes"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    make = np.random.default_rng(0)
    rows = {}
    for kind, minutes in (("silence", 60), ("dither", 10), ("white -45 dBFS", 10)):
        path = write(work / f"{kind.split()[0]}.wav", minutes, make, kind.split()[0])
        rows[f"{kind}, {minutes} min"] = transcribe(args.source, path, env)
        path.unlink()
    print(json.dumps({"source": str(args.source), "cases": rows}, indent=2))
    print()
    print(f"{'case':<26}{'lines':>7}{'CPU s':>8}{'peak MB':>9}")
    for name, row in rows.items():
        print(f"{name:<26}{row['lines']:>7}{row['cpu_s']:>8.0f}{row['peak_rss_mb']:>9.0f}")


if __name__ == "__main__":
    main()
