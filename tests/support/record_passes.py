"""Record the real recogniser's streaming passes over a recording, for a replay test.

    .venv/bin/python -m tests.support.record_passes [--lead 0.2] [--every 4] [--out FILE]

Feeds jfk.wav (after `--lead` seconds of silence, then 1 s of silence) to the streaming policy
in 1024-sample chunks, letting a pass run after every `--every`-th chunk (a slower CPU), and
writes every pass's window and words as JSON (tests/support/jfk_live_passes.json by default).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, cast

import numpy as np

from app.transcription.engine import PassResult, WhisperEngine
from app.transcription.streaming import StreamingPolicy
from tests.support.data import SHARED_DATA, read_wav

RATE = 16000
CHUNK = 1024


class Recording:
    """The real engine, with every streaming pass written down."""

    def __init__(self, engine: WhisperEngine) -> None:
        self.engine = engine
        self.passes: list[dict[str, Any]] = []

    def transcribe_window(self, audio: np.ndarray, *, offset: float, prompt: str = "",
                          max_new_tokens: int | None = None) -> PassResult:
        result = self.engine.transcribe_window(audio, offset=offset, prompt=prompt,
                                               max_new_tokens=max_new_tokens)
        self.passes.append({
            "offset": round(offset, 6), "seconds": round(len(audio) / RATE, 6), "prompt": prompt,
            "words": [[round(w.start, 3), round(w.end, 3), w.text, round(w.probability, 3)]
                      for w in result.words],
        })
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lead", type=float, default=0.2)
    parser.add_argument("--every", type=int, default=4)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).with_name("jfk_live_passes.json"))
    args = parser.parse_args()
    samples, _ = read_wav(SHARED_DATA / "speech" / "jfk.wav")
    audio = np.concatenate([np.zeros(round(args.lead * RATE), np.float32), samples,
                            np.zeros(RATE, np.float32)])
    engine = WhisperEngine("tiny.en")
    recording = Recording(engine)
    policy = StreamingPolicy(cast(WhisperEngine, recording))
    for k, i in enumerate(range(0, len(audio), CHUNK)):
        policy.insert(audio[i : i + CHUNK], i / RATE)
        if k % args.every == 0:
            policy.process()
    policy.flush()
    engine.release()
    rows = ",\n".join("  " + json.dumps(p) for p in recording.passes)
    header = json.dumps({"recording": "jfk.wav", "model": "tiny.en", "lead_silence": args.lead,
                         "process_every_chunks": args.every, "chunk": CHUNK})[:-1]
    args.out.write_text(f'{header}, "passes": [\n{rows}\n]}}\n')
    print(f"{len(recording.passes)} passes written to {args.out}")


if __name__ == "__main__":
    main()
