"""Where a recording holds speech, so no text is written over silence or noise.

Whisper writes text where nobody speaks: over an hour of digital silence tiny.en wrote "you"
every 30 s window (109 lines); over white noise at -60 to -45 dBFS it wrote "." lines, some
above the model's own no-speech guard. Its no-speech probability cannot tell these from quiet
speech. Silero VAD (the one faster-whisper bundles) can, and it is level-robust: measured on
the shared data, it found no speech in 60 s of digital silence, 1-LSB dither, white noise at
-60/-45/-30 dBFS, fan noise at -35 dBFS and three of five room noises at -40 dBFS (1-2 s in the
other two, hum bursts), and all of jfk.wav at -30, -40, -50 and -60 dBFS. It costs ~0.1 s of
CPU per minute of audio, far less than decoding it.

So a piece of a recording with no speech in it is not decoded at all, and a segment that lies
outside every speech region (with the regions' own 0.4 s padding) is dropped. Segments over
speech are kept exactly as the recogniser wrote them, so accuracy on speech is unchanged
(benchmarks/transcribe.py: same WER).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000
# Below this peak a piece is digital silence (or 1-2 LSB of dither): no model needed to know.
SILENT_PEAK = 4.0 / 32768.0


@dataclass(frozen=True, slots=True)
class SpeechRegion:
    start: float  # seconds from the start of the audio given
    end: float


def speech_regions(audio: np.ndarray) -> list[SpeechRegion]:
    """Stretches of `audio` (16 kHz float32) that hold speech, padded as Silero pads them."""
    samples = np.asarray(audio, dtype=np.float32)
    if len(samples) == 0 or float(np.max(np.abs(samples))) < SILENT_PEAK:
        return []
    from app.transcription.offline import force_offline

    force_offline()
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    spans = get_speech_timestamps(samples, VadOptions(), sampling_rate=SAMPLE_RATE)
    return [SpeechRegion(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in spans]


def over_speech(start: float, end: float, regions: list[SpeechRegion]) -> bool:
    """Whether the segment [start, end] (seconds, same origin as the regions) meets speech."""
    return any(r.start < end and start < r.end for r in regions)


def unheard_spans(regions: list[SpeechRegion], since: float, until: float,
                  shortest: float, bridge: float = 0.5) -> list[tuple[float, float]]:
    """The stretches of speech in [since, until] at least `shortest` seconds long, regions less
    than `bridge` apart counted as one: speech that no transcribed segment covers."""
    spans: list[tuple[float, float]] = []
    for region in regions:
        lo, hi = max(region.start, since), min(region.end, until)
        if hi <= lo:
            continue
        if spans and lo - spans[-1][1] < bridge:
            spans[-1] = (spans[-1][0], hi)
        else:
            spans.append((lo, hi))
    return [(lo, hi) for lo, hi in spans if hi - lo >= shortest]
