"""Voice activity detection on a live stream, with the Silero VAD that faster-whisper bundles.

faster-whisper's own helper scores a whole array at once and starts from a fresh state on every
call. Live audio arrives in pieces, so this keeps the model's recurrent state and the 64-sample
context between calls: scoring a stream piece by piece gives the same probabilities as scoring it
whole, at a cost of one 32 ms window per 32 ms of audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 512  # samples per Silero decision (32 ms)
CONTEXT = 64  # samples of the previous window the model sees


def _silero_session() -> Any:
    from app.transcription.offline import force_offline

    force_offline()
    from faster_whisper.vad import get_vad_model

    return get_vad_model().session


class StreamingVadScorer:
    """Speech probability for every 32 ms window of a stream fed in arbitrary pieces."""

    def __init__(self) -> None:
        self._session = _silero_session()
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self.windows_scored = 0

    def score(self, samples: np.ndarray) -> np.ndarray:
        """Probabilities for the complete windows now available (leftover samples wait)."""
        audio = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        count = len(audio) // WINDOW
        self._pending = audio[count * WINDOW :]
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        windows = audio[: count * WINDOW].reshape(count, WINDOW)
        contexts = np.empty((count, CONTEXT), dtype=np.float32)
        contexts[0] = self._context
        if count > 1:
            contexts[1:] = windows[:-1, -CONTEXT:]
        batch = np.concatenate([contexts, windows], axis=1)
        feeds = {"input": batch, "h": self._h, "c": self._c}
        out, self._h, self._c = self._session.run(None, feeds)
        self._context = windows[-1, -CONTEXT:].copy()
        self.windows_scored += count
        return np.asarray(out, dtype=np.float32).reshape(-1)


@dataclass(slots=True)
class VadEvent:
    kind: str  # "speech_start" | "speech_end"
    time: float  # seconds of stream time


class SpeechTracker:
    """Turns window probabilities into speech start/end events with hysteresis.

    Speech starts at a window above `threshold`; it ends once `min_silence` seconds in a row stay
    below `neg_threshold` (the end time is where that silence began). The same rule Silero's own
    segmenter uses, made incremental.
    """

    def __init__(self, *, threshold: float = 0.5, neg_threshold: float | None = None,
                 min_silence: float = 0.5, start_time: float = 0.0) -> None:
        self.threshold = threshold
        self.neg_threshold = neg_threshold if neg_threshold is not None else max(
            threshold - 0.15, 0.01)
        self.min_silence = min_silence
        self.in_speech = False
        self._silence_from: float | None = None
        self.start_time = start_time
        self.windows = 0  # windows seen; counting avoids drift from adding 0.032 many times
        self.last_speech_time: float | None = None

    @property
    def time(self) -> float:
        """Stream time of the next window."""
        return self.start_time + self.windows * WINDOW / SAMPLE_RATE

    def update(self, probabilities: np.ndarray) -> list[VadEvent]:
        events: list[VadEvent] = []
        for p in probabilities:
            t = self.time
            self.windows += 1
            if p >= self.threshold:
                self.last_speech_time = self.time
                self._silence_from = None
                if not self.in_speech:
                    self.in_speech = True
                    events.append(VadEvent("speech_start", t))
            elif self.in_speech and p < self.neg_threshold:
                if self._silence_from is None:
                    self._silence_from = t
                if self.time - self._silence_from >= self.min_silence:
                    self.in_speech = False
                    events.append(VadEvent("speech_end", self._silence_from))
                    self._silence_from = None
        return events
