"""How much silence a live pass's encoder needs: CPU, WER and caption delay by padded window.

Two sets: every shared speech recording (../shared/data/speech, real voices, with references),
and meeting turns spoken by espeak-ng at run time (benchmarks/devset.py: its meeting sentences,
one turn per voice, never tuned on). Each recording is streamed through `StreamingPolicy` with
the real tiny.en model, a pass after every 8 chunks of 64 ms (about the policy's 0.5 s step, as
if the CPU kept up), once per encoder setting: the window padded to `window` seconds and at least
`headroom` seconds more than its audio (30/30 = Whisper's fixed 30 s, what faster-whisper does).
Reported per setting: live WER over all recordings, the policy's caption delay p50/p95 (stream
time, no CPU contention in it), and the CPU time (process time, all threads) per second of audio
and per pass. The policy is deterministic for a given setting, so runs differ only in their CPU
figures: `--runs` repeats them for the spread.

Also the whole-file WER of the same recordings (the live/whole-file ratio goal is <= 1.25).

Run: .venv/bin/python benchmarks/encoder_window.py [--runs N] [--voices N]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mix import SHARED  # noqa: E402
from devset import MEETING_SENTENCES, VOICES, concatenate, generate  # noqa: E402

from app.textmetrics import word_errors  # noqa: E402
from app.transcription.engine import WhisperEngine  # noqa: E402
from app.transcription.streaming import StreamingConfig, StreamingPolicy  # noqa: E402

RATE = 16000
CHUNK = 1024
EVERY = 8
SETTINGS = [(30.0, 30.0), (20.0, 10.0), (15.0, 5.0), (10.0, 5.0)]


def stream(engine: WhisperEngine, audio: np.ndarray) -> tuple[str, list[float], int]:
    policy = StreamingPolicy(engine, StreamingConfig())
    delays: list[float] = []
    texts: list[str] = []

    def take(captions) -> None:
        for caption in captions:
            if caption.kind == "final":
                delays.append(policy.stream_time - caption.segment.end)
                texts.append(caption.text)

    for k, i in enumerate(range(0, len(audio), CHUNK)):
        policy.insert(audio[i : i + CHUNK], i / RATE)
        if k % EVERY == 0:
            take(policy.process()[0])
    take(policy.flush())
    return " ".join(texts), delays, policy.stats.passes


def espeak_turns(voices: int, folder: Path) -> dict[str, tuple[np.ndarray, str]]:
    """One meeting turn (all the meeting sentences) per voice, at 170 wpm."""
    from app.transcription.files import load_audio_file

    turns = {}
    for voice in VOICES[:voices]:
        spoken = generate(MEETING_SENTENCES, folder / voice, voices=[voice], speeds=[170])
        path = folder / f"{voice}.wav"
        concatenate(spoken, path)
        turns[f"espeak {voice}"] = (load_audio_file(path), " ".join(u.text for u in spoken))
    return turns


def measure(engine: WhisperEngine, recordings: dict[str, tuple[np.ndarray, str]],
            runs: int) -> list[dict[str, object]]:
    seconds = sum(len(a) for a, _ in recordings.values()) / RATE
    whole_errors = whole_words = 0
    for audio, reference in recordings.values():
        e, n = word_errors(reference, " ".join(s.text for s in engine.transcribe_audio(audio)))
        whole_errors, whole_words = whole_errors + e, whole_words + n
    whole_wer = whole_errors / whole_words
    rows: list[dict[str, object]] = []
    for window, headroom in SETTINGS:
        engine.window_seconds, engine.window_headroom = window, headroom
        cpu_runs: list[float] = []
        errors = words = passes = 0
        delays: list[float] = []
        for _run in range(runs):
            began = time.process_time()
            errors = words = passes = 0
            delays = []
            for audio, reference in recordings.values():
                text, d, p = stream(engine, np.concatenate([audio, np.zeros(RATE, np.float32)]))
                e, n = word_errors(reference, text)
                errors, words, passes = errors + e, words + n, passes + p
                delays += d
            cpu_runs.append(time.process_time() - began)
        rows.append({
            "window_s": window, "headroom_s": headroom, "live_wer": errors / words,
            "whole_file_wer": whole_wer, "ratio": (errors / words) / max(whole_wer, 1e-9),
            "delay_p50": float(np.percentile(delays, 50)),
            "delay_p95": float(np.percentile(delays, 95)),
            "passes": passes,
            "cpu_per_audio_s": [c / seconds for c in cpu_runs],
            "cpu_per_pass_s": [c / passes for c in cpu_runs],
        })
    return rows


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--voices", type=int, default=3, help="espeak-ng voices (turns)")
    args = parser.parse_args()
    from app.transcription.files import load_audio_file

    references = json.loads((SHARED / "speech" / "transcripts.json").read_text())
    shared = {n: (load_audio_file(SHARED / "speech" / n), references[n]["text"])
              for n in sorted(references) if (SHARED / "speech" / n).is_file()}
    turns = espeak_turns(args.voices, Path(tempfile.mkdtemp(prefix="candor-encoder-")))
    engine = WhisperEngine("tiny.en")
    engine.load()
    sets = {"shared speech": measure(engine, shared, args.runs),
            "espeak meeting turns": measure(engine, turns, args.runs)}
    engine.release()
    print(json.dumps({"every_chunks": EVERY, "runs": args.runs, "shared": sorted(shared),
                      "turns": sorted(turns), "sets": sets}, indent=2))
    for name, rows in sets.items():
        print(f"\n{name}")
        print(f"{'window':>7}{'headroom':>9}{'WER':>7}{'ratio':>7}{'p50 s':>7}{'p95 s':>7}"
              f"{'passes':>7}{'CPU/audio s':>14}")
        for r in rows:
            cpu = r["cpu_per_audio_s"]
            assert isinstance(cpu, list)
            print(f"{r['window_s']:>7.0f}{r['headroom_s']:>9.0f}{r['live_wer']:>7.3f}"
                  f"{r['ratio']:>7.2f}{r['delay_p50']:>7.2f}{r['delay_p95']:>7.2f}"
                  f"{r['passes']:>7}{min(cpu):>8.2f}–{max(cpu):.2f}")


if __name__ == "__main__":
    main()
