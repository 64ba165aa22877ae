"""The streaming policy's own caption delay, independent of the machine's load.

Streams a recording through `StreamingPolicy` with the real tiny.en model, as if the CPU were
infinitely fast (a pass may run after every 64 ms chunk) or slower (`--every N` chunks), and
measures for each final caption the *stream* time at which it was committed minus the end of its
last word: what the policy itself adds to caption latency, with no CPU contention in it (the same
audio and settings always give the same figure). Also: live WER, the number of final captions and
of passes. benchmarks/live.py measures the same through the real audio path, in wall time.

Run: .venv/bin/python benchmarks/policy_latency.py [--every N] [--split-word S ...]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mix import SHARED, read_wav  # noqa: E402

from app.textmetrics import wer  # noqa: E402
from app.transcription.engine import WhisperEngine  # noqa: E402
from app.transcription.streaming import StreamingConfig, StreamingPolicy  # noqa: E402

RATE = 16000
CHUNK = 1024


def run(engine: WhisperEngine, audio: np.ndarray, reference: str, config: StreamingConfig,
        every: int) -> dict[str, float]:
    policy = StreamingPolicy(engine, config)
    delays: list[float] = []
    texts: list[str] = []
    for k, i in enumerate(range(0, len(audio), CHUNK)):
        policy.insert(audio[i : i + CHUNK], i / RATE)
        if k % every == 0:
            for caption in policy.process()[0]:
                if caption.kind == "final":
                    delays.append(policy.stream_time - caption.segment.end)
                    texts.append(caption.text)
    for caption in policy.flush():
        if caption.kind == "final":
            delays.append(policy.stream_time - caption.segment.end)
            texts.append(caption.text)
    return {
        "delay_p50": float(np.percentile(delays, 50)),
        "delay_p95": float(np.percentile(delays, 95)),
        "live_wer": wer(reference, " ".join(texts)),
        "final_captions": len(texts),
        "passes": policy.stats.passes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recording", default="real_concat.wav")
    parser.add_argument("--every", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--split-word", type=float, nargs="+",
                        default=[0.0, StreamingConfig().split_word, 10.0],
                        help="0 = off; 10 = hold every word whose successor is in the margin")
    args = parser.parse_args()
    audio = read_wav(SHARED / "speech" / args.recording)
    audio = np.concatenate([audio, np.zeros(RATE, np.float32)])
    reference = json.loads((SHARED / "speech" / "transcripts.json").read_text())[
        args.recording]["text"]
    engine = WhisperEngine("tiny.en")
    engine.load()
    rows = []
    for every in args.every:
        for split in args.split_word:
            config = replace(StreamingConfig(), split_word=split)
            rows.append({"every": every, "split_word": split,
                         **run(engine, audio, reference, config, every)})
    engine.release()
    print(json.dumps({"recording": args.recording, "runs": rows}, indent=2))
    print()
    print(f"{'every':>6}{'split s':>8}{'p50 s':>7}{'p95 s':>7}{'WER':>7}{'finals':>7}{'passes':>7}")
    for r in rows:
        print(f"{r['every']:>6}{r['split_word']:>8.2f}{r['delay_p50']:>7.2f}{r['delay_p95']:>7.2f}"
              f"{r['live_wer']:>7.3f}{r['final_captions']:>7}{r['passes']:>7}")


if __name__ == "__main__":
    main()
