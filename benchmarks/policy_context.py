"""How much context the live passes get, measured on speech no setting was tuned on.

Streams recordings through `StreamingPolicy` with the real tiny.en model (as
benchmarks/policy_latency.py does: a pass may run after every N-th 64 ms chunk, N = 2 and 4, a
slower CPU and a faster one, so each figure comes as a spread over timings) and reports the WER
of the final live captions against the reference, beside the whole-file WER of the same
recording. Recordings: espeak-ng sets generated at run time (benchmarks/devset.py): the
meeting benchmark's two halves ("you": 2 voices, "others": 3 harder ones) and all meeting
sentences over all voices and speeds ("all"); and the real recordings of ../shared/data the
policy was tuned on earlier (harvard9_concat, real_concat), so a loss there shows too.

Settings compared: "one utterance" (context_keep 4 s, context_gap 2 s, trim_after 8 s: Candor
before this benchmark) and the current defaults of StreamingConfig.

Run: flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/policy_context.py [--every 2 4]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mix import SHARED, read_wav  # noqa: E402
from devset import MEETING_SENTENCES, concatenate, generate  # noqa: E402

from app.textmetrics import wer  # noqa: E402
from app.transcription.engine import WhisperEngine  # noqa: E402
from app.transcription.streaming import StreamingConfig, StreamingPolicy  # noqa: E402

RATE = 16000
CHUNK = 1024
SETTINGS = {
    "one utterance": replace(StreamingConfig(), context_keep=4.0, context_gap=2.0,
                             trim_after=8.0),
    "current": StreamingConfig(),
}


def recordings(work: Path) -> dict[str, tuple[np.ndarray, str]]:
    half = len(MEETING_SENTENCES) // 2
    spoken = {
        "you": generate(MEETING_SENTENCES[:half], work / "you", voices=("en-us", "en-gb")),
        "others": generate(MEETING_SENTENCES[half:], work / "others",
                           voices=("en-us+f3", "en-gb-scotland", "en-029+f2")),
        "all": generate(MEETING_SENTENCES, work / "all"),
    }
    sets = {}
    for name, utterances in spoken.items():
        concatenate(utterances, work / f"{name}.wav")
        sets[name] = (read_wav(work / f"{name}.wav"), " ".join(u.text for u in utterances))
    texts = json.loads((SHARED / "speech" / "transcripts.json").read_text())
    for name in ("harvard9_concat.wav", "real_concat.wav"):
        sets[name.removesuffix(".wav")] = (read_wav(SHARED / "speech" / name),
                                           texts[name]["text"])
    return sets


def live_text(engine: WhisperEngine, audio: np.ndarray, config: StreamingConfig,
              every: int) -> tuple[str, StreamingPolicy]:
    policy = StreamingPolicy(engine, config)
    texts: list[str] = []
    for k, i in enumerate(range(0, len(audio), CHUNK)):
        policy.insert(audio[i : i + CHUNK], i / RATE)
        if k % every == 0:
            texts += [c.text for c in policy.process()[0] if c.kind == "final"]
    texts += [c.text for c in policy.flush() if c.kind == "final"]
    return " ".join(texts), policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, nargs="+", default=[2, 4])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="candor-policy-context-"))
    sets = recordings(work)
    engine = WhisperEngine("tiny.en")
    engine.load()
    whole = {name: wer(ref, " ".join(s.text for s in engine.transcribe_audio(audio)))
             for name, (audio, ref) in sets.items()}
    rows = []
    for label, config in SETTINGS.items():
        for every in args.every:
            for name, (audio, ref) in sets.items():
                started = time.process_time()
                text, policy = live_text(engine, audio, config, every)
                rows.append({"setting": label, "every": every, "recording": name,
                             "live_wer": wer(ref, text), "whole_file_wer": whole[name],
                             "passes": policy.stats.passes,
                             "context_retries": policy.stats.context_retries,
                             "cpu_seconds": time.process_time() - started,
                             "audio_seconds": len(audio) / RATE})
    engine.release()
    print(json.dumps({"settings": {k: asdict(v) for k, v in SETTINGS.items()}, "runs": rows},
                     indent=2))
    print(f"\n{'setting':>14} {'recording':>16} {'live WER (every ' + str(args.every) + ')':>26}"
          f" {'whole':>6} {'passes':>7} {'retries':>7} {'CPU s':>6}")
    for label in SETTINGS:
        for name in sets:
            mine = [r for r in rows if r["setting"] == label and r["recording"] == name]
            wers = " / ".join(f"{r['live_wer']:.3f}" for r in mine)
            print(f"{label:>14} {name:>16} {wers:>26} {whole[name]:>6.3f} "
                  f"{max(r['passes'] for r in mine):>7} "
                  f"{max(r['context_retries'] for r in mine):>7} "
                  f"{max(r['cpu_seconds'] for r in mine):>6.1f}")


if __name__ == "__main__":
    main()
