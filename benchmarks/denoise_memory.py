"""`candor denoise` on a long recording: peak memory and CPU time of the whole process, and how
the CPU splits between learning the noise (pass 1) and removing it (pass 2).

The recording is jfk.wav over fan noise at 5 dB SNR, tiled to --minutes (16 kHz mono). The peak
memory is the child's ru_maxrss from wait4(2), so other processes on the machine do not
distort it; CPU is user+system time of the child. --source runs another checkout of Candor
(e.g. `git archive main | tar -x -C /tmp/candor-main`) with this virtualenv, for a before/after.

Run: flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/denoise_memory.py --minutes 60 \
         [--source /tmp/candor-main]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.data import NOISE, SPEECH, read_wav  # noqa: E402
from tests.support.mixing import noisy_meeting  # noqa: E402

RATE = 16000


def long_recording(path: Path, minutes: float) -> Path:
    speech, _ = read_wav(SPEECH / "jfk.wav")
    noise, _ = read_wav(NOISE / "noise_humfan.wav")
    _clean, mixture, _ = noisy_meeting(speech, noise, 5.0)
    frames = int(minutes * 60 * RATE)
    import wave

    with wave.open(str(path), "wb") as wav:  # written in pieces: the benchmark stays small too
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        pcm = (np.clip(mixture, -1, 1) * 32767).astype("<i2").tobytes()
        written = 0
        while written < frames:
            n = min(len(mixture), frames - written)
            wav.writeframes(pcm[: 2 * n])
            written += n
    return path


def run_denoise(source: Path, recording: Path, env: dict[str, str]) -> dict[str, float]:
    out = recording.with_name("out.wav")
    out.unlink(missing_ok=True)
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "app", "denoise", str(recording), str(out)],
                            cwd=source, env={**env, "PYTHONPATH": str(source)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"denoise failed: {err[-2000:]}")
    out.unlink(missing_ok=True)
    return {"peak_rss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime,
            "wall_s": wall}


def pass_split(recording: Path, seconds: float) -> dict[str, float]:
    """CPU of the learning pass against the whole, in this process, over the first `seconds`."""
    from app.audio.denoise import QuietTracker, StreamingDenoiser
    from app.audio.wavio import WavReader
    from app.consent import open_gate

    gate = open_gate()
    gate.grant("noise_suppression", via="cli")
    with WavReader(recording) as reader:
        blocks = []
        for block in reader.blocks(RATE):
            blocks.append(block[:, 0])
            if len(blocks) * 1.0 >= seconds:
                break
    tracker = QuietTracker(RATE)
    t0 = time.process_time()
    for block in blocks:
        tracker.feed(block)
    tracker.finish()
    learn = time.process_time() - t0
    denoiser = StreamingDenoiser(gate, rate=RATE, strength="medium")
    denoiser.learn_noise(tracker.quiet_audio())
    t0 = time.process_time()
    for block in blocks:
        denoiser.process(block)
    denoiser.flush()
    remove = time.process_time() - t0
    gate.close()
    return {"learn_cpu_s": learn, "denoise_cpu_s": remove,
            "learn_share": learn / (learn + remove)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="the Candor checkout to run (default: this one)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="candor-bench-denoise-"))
    home = work / "home"
    env = {**os.environ, "CANDOR_HOME": str(home),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    os.environ.update(CANDOR_HOME=str(home),
                      PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    subprocess.run([sys.executable, "-m", "app", "consent", "grant", "noise_suppression",
                    "--yes"], cwd=ROOT, env=env, check=True, capture_output=True)
    recording = long_recording(work / "long.wav", args.minutes)
    result = {
        "source": str(args.source),
        "minutes": args.minutes,
        "input_mb": recording.stat().st_size / 1e6,
        **run_denoise(args.source, recording, env),
        "load_average_1m": os.getloadavg()[0],
        **pass_split(recording, min(600.0, args.minutes * 60)),
    }
    recording.unlink()
    print(json.dumps(result, indent=2))
    print()
    print(f"{'minutes':>8}{'input MB':>10}{'peak MB':>9}{'CPU s':>8}{'wall s':>8}{'learn %':>9}")
    print(f"{result['minutes']:>8.0f}{result['input_mb']:>10.0f}{result['peak_rss_mb']:>9.0f}"
          f"{result['cpu_s']:>8.0f}{result['wall_s']:>8.0f}{100 * result['learn_share']:>9.0f}")


if __name__ == "__main__":
    main()
