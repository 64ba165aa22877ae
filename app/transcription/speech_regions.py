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
# Audio scored by Silero per run (speech_probabilities).
SCORE_BLOCK_S = 10.0


@dataclass(frozen=True, slots=True)
class SpeechRegion:
    start: float  # seconds from the start of the audio given
    end: float


def speech_regions(audio: np.ndarray) -> list[SpeechRegion]:
    """Stretches of `audio` (16 kHz float32) that hold speech, padded as Silero pads them."""
    samples = np.asarray(audio, dtype=np.float32)
    if len(samples) == 0 or float(np.max(np.abs(samples))) < SILENT_PEAK:
        return []
    spans = speech_spans(speech_probabilities(samples), len(samples))
    return [SpeechRegion(lo / SAMPLE_RATE, hi / SAMPLE_RATE) for lo, hi in spans]


def speech_probabilities(samples: np.ndarray) -> np.ndarray:
    """Silero's speech probability per 512-sample window, as faster-whisper's
    get_speech_timestamps computes them (same padding), scored SCORE_BLOCK_S at a time.

    faster-whisper hands the model up to 10,000 windows (320 s) in one run: measured, +90 MB
    of RSS for a 120 s final-pass piece, which then stays in the heap. The streaming scorer
    carries Silero's state and context from block to block and gives the same probabilities
    (equal, measured on real speech) with no growth."""
    from app.transcription.vad import WINDOW, StreamingVadScorer

    padded = np.pad(samples, (0, WINDOW - len(samples) % WINDOW))  # as faster-whisper pads
    scorer = StreamingVadScorer()
    block = int(SCORE_BLOCK_S * SAMPLE_RATE) // WINDOW * WINDOW
    return np.concatenate([scorer.score(padded[lo : lo + block])
                           for lo in range(0, len(padded), block)])


def speech_spans(probabilities: np.ndarray, length: int) -> list[tuple[int, int]]:
    """Speech [start, end) in samples from window probabilities: faster-whisper's
    get_speech_timestamps (1.2.x) with its default VadOptions (threshold 0.5, no shortest
    speech, no longest, 2 s of silence ends speech, 400 ms padding each side), on
    probabilities computed elsewhere. Kept equal to it by tests/test_speech_regions.py."""
    window, threshold = 512, 0.5
    neg_threshold = max(threshold - 0.15, 0.01)
    min_speech = 0.0
    pad = SAMPLE_RATE * 400 / 1000
    min_silence = SAMPLE_RATE * 2000 / 1000
    min_silence_at_max_speech = SAMPLE_RATE * 98 / 1000
    triggered = False
    speeches: list[dict[str, int]] = []
    current: dict[str, int] = {}
    temp_end = prev_end = next_start = 0
    for i, p in enumerate(probabilities.tolist()):
        at = window * i
        if p >= threshold and temp_end:
            temp_end = 0
            if next_start < prev_end:
                next_start = at
        if p >= threshold and not triggered:
            triggered = True
            current["start"] = at
            continue
        # (no longest speech: faster-whisper's max_speech_duration_s is infinite here)
        if p < neg_threshold and triggered:
            if not temp_end:
                temp_end = at
            if at - temp_end > min_silence_at_max_speech:
                prev_end = temp_end
            if at - temp_end < min_silence:
                continue
            current["end"] = temp_end
            if current["end"] - current["start"] > min_speech:
                speeches.append(current)
            current = {}
            prev_end = next_start = temp_end = 0
            triggered = False
    if current and length - current["start"] > min_speech:
        current["end"] = length
        speeches.append(current)
    for i, speech in enumerate(speeches):
        if i == 0:
            speech["start"] = int(max(0, speech["start"] - pad))
        if i != len(speeches) - 1:
            silence = speeches[i + 1]["start"] - speech["end"]
            if silence < 2 * pad:
                speech["end"] += int(silence // 2)
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - silence // 2))
            else:
                speech["end"] = int(min(length, speech["end"] + pad))
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - pad))
        else:
            speech["end"] = int(min(length, speech["end"] + pad))
    return [(s["start"], s["end"]) for s in speeches]


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
