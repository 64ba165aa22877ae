"""Decoding again the speech no segment covers (engine.UNHEARD_SECONDS): what it costs and
what it changes on the shared recordings, on them under real noises, and on espeak-ng meeting
turns.

For each recording: WER and CPU seconds of the whole-recording pass (as a file or a meeting's
final pass) without and with it, and how many stretches were decoded again. A stretch decoded
again where nothing was lost is the risk (repeated words); the WER says whether it happened.

Run: flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/unheard.py [--turns N]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import devset  # noqa: E402
from _mix import SHARED, make_mixtures, read_wav  # noqa: E402

import app.transcription.engine as engine_module  # noqa: E402
from app.textmetrics import word_errors  # noqa: E402
from app.transcription.engine import WhisperEngine  # noqa: E402


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("decoded again"):
            self.count += 1


def recordings(work: Path, turns: int) -> list[tuple[str, np.ndarray, str]]:
    reference = json.loads((SHARED / "speech" / "transcripts.json").read_text())
    out = []
    for name in ("real_concat.wav", "harvard9_concat.wav", "jfk.wav", "lj050_0131.wav"):
        out.append((name, read_wav(SHARED / "speech" / name), reference[name]["text"]))
    for label, path in make_mixtures(work):  # real noises under the same speech
        out.append((label, read_wav(path), reference["real_concat.wav"]["text"]))
    spoken = devset.generate(devset.MEETING_SENTENCES, work / "espeak")
    per_turn = max(1, len(spoken) // turns)
    for index in range(turns):
        group = spoken[index * per_turn:(index + 1) * per_turn]
        if not group:
            break
        path = work / f"turn-{index}.wav"
        devset.concatenate(group, path)
        out.append((f"espeak turn {index}", read_wav(path), " ".join(u.text for u in group)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=4)
    args = parser.parse_args()
    counter = _Count()
    logging.getLogger("app.transcription.engine").addHandler(counter)
    logging.getLogger("app.transcription.engine").setLevel(logging.INFO)
    engine = WhisperEngine(None)
    engine.load()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for label, samples, reference in recordings(Path(work), args.turns):
            pcm = np.clip(samples * 32768, -32768, 32767).astype(np.int16)
            row: dict[str, object] = {"recording": label, "seconds": len(pcm) / 16000}
            for mode, unheard in (("without", 1e9), ("with", engine_module.UNHEARD_SECONDS)):
                engine_module.UNHEARD_SECONDS = unheard
                counter.count = 0
                began = time.process_time()
                text = " ".join(s.text for s in engine.iter_audio(pcm))
                cpu = time.process_time() - began
                errors, words = word_errors(reference, text)
                row[f"wer_{mode}"] = errors / words
                row[f"cpu_{mode}"] = cpu
                row[f"decoded_again_{mode}"] = counter.count
            rows.append(row)
    print(json.dumps({"unheard_seconds": engine_module.UNHEARD_SECONDS, "rows": rows}, indent=2))
    print()
    print(f"{'recording':<36}{'s':>6}{'WER without':>13}{'with':>7}{'CPU without':>13}{'with':>7}"
          f"{'again':>7}")
    for r in rows:
        print(f"{r['recording']:<36}{r['seconds']:>6.1f}{r['wer_without']:>13.3f}"
              f"{r['wer_with']:>7.3f}{r['cpu_without']:>13.2f}{r['cpu_with']:>7.2f}"
              f"{r['decoded_again_with']:>7}")


if __name__ == "__main__":
    main()
