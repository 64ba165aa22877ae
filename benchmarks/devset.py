"""Development sets spoken by espeak-ng at run time: speech no Candor setting was tuned on.

Nothing here is committed as audio: each benchmark generates what it needs into a temporary (or
given) folder, 16 kHz mono 16-bit WAV, with the exact text as the reference. Several voices
(accents, male and female variants) and speaking rates, so a figure is a spread, not one
speaker's luck. Needs `espeak-ng` (Debian package `espeak-ng`; `./bootstrap test` installs it).

    python benchmarks/devset.py --out /tmp/devset            # the general meeting set, as JSON
    python benchmarks/devset.py --out /tmp/devset --limit 6  # a quick subset

Other benchmarks import it: `generate(texts, out_dir)` speaks any texts (e.g. a jargon list).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import shutil
import subprocess
import sys
import wave
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

RATE = 16000
# Accents and variants espeak-ng ships in Debian's package (no mbrola voices needed).
VOICES: tuple[str, ...] = (
    "en-us",
    "en-gb",
    "en-us+f3",
    "en-gb-scotland",
    "en-029+f2",
    "en-gb-x-rp+m3",
)
SPEEDS: tuple[int, ...] = (145, 170, 195)  # words per minute; espeak-ng's default is 175

# Meeting-like sentences written for these sets (not taken from ../shared/data, whose
# recordings the streaming policy was tuned on).
MEETING_SENTENCES: tuple[str, ...] = (
    "Good morning everyone, let's start with a quick round of updates.",
    "The release candidate is ready, but two tests still fail on the build server.",
    "Can you share your screen so we can look at the numbers together?",
    "I think we should move the deadline to the end of next week.",
    "The customer asked whether the report can be exported as a spreadsheet.",
    "We measured the latency again and it dropped to about one second.",
    "Let me summarise the decisions before we run out of time.",
    "Who is taking the action item for the security review?",
    "The budget for the third quarter has not been approved yet.",
    "Please send me the slides after the call and I will forward them.",
    "Our users mostly complain about the battery life on older laptops.",
    "If nobody objects, we will ship the update on Thursday afternoon.",
)


class EspeakMissing(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Utterance:
    path: str
    text: str
    voice: str
    speed: int
    seconds: float


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def _speak(text: str, voice: str, speed: int, out: Path) -> float:
    """espeak-ng writes 22.05 kHz; resample to the recogniser's 16 kHz with soxr."""
    import soxr

    raw = out.with_suffix(".espeak.wav")
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text],
        check=True,
        capture_output=True,
    )
    with wave.open(str(raw), "rb") as src:
        rate = src.getframerate()
        data = np.frombuffer(src.readframes(src.getnframes()), dtype=np.int16)
    raw.unlink()
    audio = soxr.resample(data.astype(np.float32) / 32768.0, rate, RATE)
    # a short pause either side, as a speaker leaves in a real turn
    pad = np.zeros(int(0.3 * RATE), dtype=np.float32)
    audio = np.concatenate([pad, audio, pad])
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    with wave.open(str(out), "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(RATE)
        dst.writeframes(pcm.tobytes())
    return len(pcm) / RATE


def generate(
    texts: Iterable[str],
    out_dir: Path,
    *,
    voices: Sequence[str] = VOICES,
    speeds: Sequence[int] = SPEEDS,
    limit: int | None = None,
) -> list[Utterance]:
    """Speak every text, cycling through voice x speed so each text gets a different speaker.

    Files are named by a hash of (text, voice, speed) and reused if already there.
    """
    if not espeak_available():
        raise EspeakMissing("espeak-ng is not installed (apt-get install espeak-ng)")
    out_dir.mkdir(parents=True, exist_ok=True)
    speakers = itertools.cycle(itertools.product(voices, speeds))
    result: list[Utterance] = []
    for index, text in enumerate(texts):
        if limit is not None and index >= limit:
            break
        voice, speed = next(speakers)
        digest = hashlib.sha1(f"{text}|{voice}|{speed}".encode()).hexdigest()[:12]
        path = out_dir / f"{index:03d}-{digest}.wav"
        if path.exists():
            with wave.open(str(path), "rb") as w:
                seconds = w.getnframes() / w.getframerate()
        else:
            seconds = _speak(text, voice, speed, path)
        result.append(Utterance(str(path), text, voice, speed, seconds))
    return result


def concatenate(utterances: Sequence[Utterance], out: Path, gap: float = 0.6) -> float:
    """One long recording of several utterances (a meeting turn), with pauses between."""
    pause = np.zeros(int(gap * RATE), dtype=np.int16)
    parts: list[np.ndarray] = []
    for u in utterances:
        with wave.open(u.path, "rb") as w:
            parts += [np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16), pause]
    pcm = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
    with wave.open(str(out), "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(RATE)
        dst.writeframes(pcm.tobytes())
    return len(pcm) / RATE


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args(argv)
    try:
        items = generate(MEETING_SENTENCES, args.out, limit=args.limit)
    except EspeakMissing as err:
        print(f"devset: {err}", file=sys.stderr)
        return 2
    print(json.dumps([asdict(u) for u in items], indent=2))
    print(f"{len(items)} utterances, {sum(u.seconds for u in items):.1f} s, "
          f"{len({u.voice for u in items})} voices", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
