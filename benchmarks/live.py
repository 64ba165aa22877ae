"""Live captions through a real audio path: recordings played into the virtual microphone
(PulseAudio null sink), captured by `candor listen --json`, compared with the whole-file
transcript of the same recording.

Reported per recording: WER of the final live captions, whole-file WER (the same model over the
file at once) and their ratio (goal <= 1.25), WER of the meeting's final pass, caption latency
`emitted_at - end` of final captions p50/p95 (goals 1.5 s / 3 s), partial-caption latency, the
largest lag, the peak memory of the listen process (goal <= 450 MB) and its CPU time (user +
system, and cores = CPU seconds per second of the run). Recordings: the clean
real_concat.wav and noisy mixtures of it (real noises, see benchmarks/_mix.py).

Run: flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/live.py [--repeats N] [--clean-only]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _edits import diff  # noqa: E402
from _mix import SHARED, make_mixtures, read_wav  # noqa: E402

from app.textmetrics import word_errors  # noqa: E402
from tests.support.virtual_mic import VirtualMic  # noqa: E402

CANDOR = Path(sys.executable).parent / "candor"
GOALS = {"wer_ratio": 1.25, "latency_p50": 1.5, "latency_p95": 3.0, "peak_mb": 450}


def whole_file_text(path: Path) -> str:
    from app.transcription.engine import WhisperEngine
    from app.transcription.files import load_audio_file

    engine = WhisperEngine(None)
    text = " ".join(s.text for s in engine.transcribe_audio(load_audio_file(path)))
    engine.release()
    return text


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def listen_once(mic: VirtualMic, wav: Path, seconds: float, env: dict[str, str]) -> dict:
    process = subprocess.Popen(
        [str(CANDOR), "listen", "--json", "--seconds", f"{seconds:.1f}"],
        env={**mic.env(), **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: list[dict] = []
    err_lines: list[str] = []
    listening = threading.Event()

    def read_out() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(json.loads(line))

    def read_err() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            err_lines.append(line)
            if "listening" in line:
                listening.set()

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    readers = [threading.Thread(target=read_out), threading.Thread(target=read_err)]
    for reader in readers:
        reader.start()
    if not listening.wait(60):
        process.kill()
        raise RuntimeError("listen did not start: " + "".join(err_lines))
    mic.play(wav)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, peak_rss_mb(process.pid) or 0.0)
        time.sleep(0.25)
    for reader in readers:
        reader.join()
    wall = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the listen process, now reaped
    if process.returncode != 0:
        raise RuntimeError(f"listen failed ({process.returncode}): {''.join(err_lines)}")
    return {"lines": lines, "peak_mb": peak, "cpu_user": after.ru_utime - before.ru_utime,
            "cpu_system": after.ru_stime - before.ru_stime, "wall": wall}


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def analyse(label: str, reference: str, whole: str, run: dict) -> dict:
    finals = [r for r in run["lines"] if r["type"] == "final"]
    partials = [r for r in run["lines"] if r["type"] == "partial"]
    transcript = next((r for r in run["lines"] if r["type"] == "transcript"), None)
    live_text = " ".join(r["text"] for r in finals)
    final_pass = " ".join(s["text"] for s in transcript["segments"]) if transcript else ""
    words = word_errors(reference, whole)[1]
    whole_err = word_errors(reference, whole)[0]
    live_err = word_errors(reference, live_text)[0]
    pass_err = word_errors(reference, final_pass)[0]
    latency = [r["emitted_at"] - r["end"] for r in finals]
    partial_latency = [r["emitted_at"] - r["end"] for r in partials]
    return {
        "recording": label,
        "words": words,
        "live_wer": live_err / words,
        "whole_file_wer": whole_err / words,
        "wer_ratio": (live_err / whole_err) if whole_err else (1.0 if live_err == 0 else
                                                                float("inf")),
        "final_pass_wer": pass_err / words,
        "latency_p50": percentile(latency, 50),
        "latency_p95": percentile(latency, 95),
        "latency_max": max(latency) if latency else float("nan"),
        "partial_latency_p50": percentile(partial_latency, 50),
        "final_captions": len(finals),
        "partial_captions": len(partials),
        "peak_mb": run["peak_mb"],
        "cpu_user_s": run["cpu_user"],
        "cpu_system_s": run["cpu_system"],
        "cpu_cores": (run["cpu_user"] + run["cpu_system"]) / run["wall"],
        "live_edits": diff(reference, live_text),
        "whole_file_edits": diff(reference, whole),
        "final_pass_edits": diff(reference, final_pass),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--clean-only", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="candor-live-"))
    recordings = [("real_concat (clean)", SHARED / "speech" / "real_concat.wav")]
    if not args.clean_only:
        recordings += make_mixtures(work)
    reference = json.loads((SHARED / "speech" / "transcripts.json").read_text())[
        "real_concat.wav"]["text"]
    home = work / "home"
    env = {"CANDOR_HOME": str(home), "HF_HUB_OFFLINE": "1",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    os.environ.update(env)
    for purpose in ("microphone", "transcription"):
        subprocess.run([str(CANDOR), "consent", "grant", purpose, "--yes"],
                       env={**os.environ, **env}, check=True, capture_output=True)
    results = []
    with VirtualMic() as mic:
        for label, wav in recordings:
            whole = whole_file_text(wav)
            duration = len(read_wav(wav)) / 16000
            for repeat in range(args.repeats):
                run = listen_once(mic, wav, duration + 6.0, env)
                row = analyse(label, reference, whole, run)
                row["repeat"] = repeat
                results.append(row)
    clean = [r for r in results if r["recording"].endswith("(clean)")]
    summary = {
        "goals": GOALS,
        "clean": {
            "live_wer": statistics.mean(r["live_wer"] for r in clean),
            "whole_file_wer": clean[0]["whole_file_wer"],
            "wer_ratio": statistics.mean(r["wer_ratio"] for r in clean),
            "latency_p50": statistics.median(r["latency_p50"] for r in clean),
            "latency_p95": max(r["latency_p95"] for r in clean),
            "peak_mb": max(r["peak_mb"] for r in results),
        },
        "runs": results,
    }
    print(json.dumps(summary, indent=2))
    print()
    print(f"{'recording':<34}{'live WER':>9}{'whole':>7}{'ratio':>7}{'pass':>7}"
          f"{'p50 s':>7}{'p95 s':>7}{'max s':>7}{'MB':>6}{'usr s':>7}{'sys s':>7}{'cores':>6}")
    for r in results:
        print(f"{r['recording']:<34}{r['live_wer']:>9.3f}{r['whole_file_wer']:>7.3f}"
              f"{r['wer_ratio']:>7.2f}{r['final_pass_wer']:>7.3f}{r['latency_p50']:>7.2f}"
              f"{r['latency_p95']:>7.2f}{r['latency_max']:>7.2f}{r['peak_mb']:>6.0f}"
              f"{r['cpu_user_s']:>7.1f}{r['cpu_system_s']:>7.1f}{r['cpu_cores']:>6.2f}")
    print(f"goals: WER ratio <= {GOALS['wer_ratio']}, latency p50 <= {GOALS['latency_p50']} s, "
          f"p95 <= {GOALS['latency_p95']} s, peak memory <= {GOALS['peak_mb']} MB")


if __name__ == "__main__":
    main()
