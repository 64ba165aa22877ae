"""Live captions on a worker thread, under the consent gate.

`feed()` is called from the capture side and only queues a copy; the worker owns the streaming
policy and the model. Captions are handed to `on_caption` inside `gate.guard("transcription")`,
so none is emitted once a withdrawal is recorded. Withdrawing `transcription` stops the worker,
drops the meeting audio kept for the final pass and releases the model.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.segments import Segment
from app.transcription.engine import (
    SAMPLE_RATE,
    AnyEvent,
    TranscriptionCancelled,
    WhisperEngine,
)
from app.transcription.gating import TRANSCRIPTION, ConsentRequired, Gate
from app.transcription.streaming import (
    Caption,
    LagReport,
    PassRefused,
    StreamingConfig,
    StreamingPolicy,
)

log = logging.getLogger(__name__)

_STOP = object()


@dataclass(slots=True)
class _Piece:
    samples: np.ndarray
    start: float | None


class TranscriptionWithdrawn(RuntimeError):
    """`transcription` was withdrawn during the meeting: no final transcript is made."""


class LiveTranscriber:
    """Partial and final captions from a live stream of 16 kHz mono float32 audio."""

    def __init__(
        self,
        gate: Gate,
        engine: WhisperEngine,
        *,
        on_caption: Callable[[Caption], None],
        on_lag: Callable[[LagReport], None] | None = None,
        config: StreamingConfig | None = None,
        keep_audio: bool = True,
    ) -> None:
        self.gate = gate
        self.engine = engine
        self.on_caption = on_caption
        self.on_lag = on_lag
        self.policy = StreamingPolicy(engine, config,
                                      may_run=lambda: not self._withdrawn.is_set())
        self.keep_audio = keep_audio
        self._queue: queue.Queue[object] = queue.Queue()
        self._kept: list[np.ndarray] = []  # int16: the meeting's audio for the final pass
        self._kept_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._withdrawn = threading.Event()
        self._stopping = threading.Event()
        self._unsubscribe: Callable[[], None] | None = None
        self.error: BaseException | None = None

    @property
    def withdrawn(self) -> bool:
        return self._withdrawn.is_set()

    def start(self) -> LiveTranscriber:
        """Check consent, load the model (before audio piles up) and start the worker."""
        self.gate.require(TRANSCRIPTION)
        self._unsubscribe = self.gate.on_withdrawn(self._on_withdrawn)
        self.engine.load()
        self._thread = threading.Thread(target=self._run, name="candor-captions", daemon=True)
        self._thread.start()
        return self

    def _on_withdrawn(self, purpose: str) -> None:
        # Called from the thread that recorded the withdrawal: only set flags and drop refs.
        if purpose != TRANSCRIPTION:
            return
        self._withdrawn.set()
        with self._kept_lock:
            self._kept.clear()
        self.engine.release()
        self._queue.put(_STOP)

    def feed(self, samples: np.ndarray, start: float | None = None) -> None:
        """Queue a copy of a piece of audio (stream start time in seconds, if known)."""
        if self._withdrawn.is_set() or self._stopping.is_set():
            return
        piece = np.array(samples, dtype=np.float32, copy=True).reshape(-1)
        if self.keep_audio:
            with self._kept_lock:
                self._kept.append((np.clip(piece, -1.0, 1.0) * 32767).astype(np.int16))
        self._queue.put(_Piece(piece, start))

    def _emit(self, captions: list[Caption]) -> bool:
        for caption in captions:
            if self._withdrawn.is_set():
                return False
            try:
                with self.gate.guard(TRANSCRIPTION):
                    self.on_caption(caption)
            except ConsentRequired:
                self._withdrawn.set()
                return False
        return True

    def _drain(self, block: bool) -> bool:
        """Move queued audio into the policy; False once told to stop."""
        try:
            item = self._queue.get(timeout=0.05) if block else self._queue.get_nowait()
        except queue.Empty:
            return True
        while True:
            if item is _STOP:
                return False
            assert isinstance(item, _Piece)
            self.policy.insert(item.samples, item.start)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return True

    def _run(self) -> None:
        try:
            passes_before = -1
            while not self._withdrawn.is_set():
                idle = self.policy.stats.passes == passes_before
                passes_before = self.policy.stats.passes
                if not self._drain(block=idle):
                    break
                captions, lag = self.policy.process()
                if not self._emit(captions):
                    break
                if self.on_lag is not None:
                    self.on_lag(lag)
            if not self._withdrawn.is_set():
                self._emit(self.policy.flush())
        except PassRefused:
            pass  # withdrawn between two passes: nothing more is transcribed
        except BaseException as err:  # surfaced by finish(); the meeting must not hang
            log.exception("live captions stopped")
            self.error = err
        finally:
            if self._withdrawn.is_set():
                self.engine.release()

    def meeting_audio(self) -> np.ndarray:
        """The meeting so far as 16-bit samples (half the memory of float32)."""
        with self._kept_lock:
            if not self._kept:
                return np.zeros(0, dtype=np.int16)
            return np.concatenate(self._kept)

    def stop(self) -> None:
        """End live captions (the open hypothesis is committed) without a final pass."""
        self._stopping.set()
        self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def finish(self, *, on_progress: Callable[[float], None] | None = None,
               cancel: threading.Event | None = None) -> list[Segment]:
        """End the meeting: last captions, then one pass over the whole meeting's audio.

        The audio lives in memory only and is dropped here. Raises TranscriptionWithdrawn if
        `transcription` was withdrawn (nothing is transcribed after that).
        """
        self.stop()
        audio = self.meeting_audio()
        with self._kept_lock:
            self._kept.clear()
        if self._withdrawn.is_set() or not self.gate.allowed(TRANSCRIPTION):
            self.engine.release()
            raise TranscriptionWithdrawn("transcription was withdrawn during the meeting")
        if self.error is not None:
            log.warning("live captions had failed; the final pass still runs")
        began = time.perf_counter()
        try:
            segments = self.engine.transcribe_audio(audio, on_progress=on_progress,
                                                    cancel=AnyEvent(cancel, self._withdrawn))
        except TranscriptionCancelled:
            if self._withdrawn.is_set():
                raise TranscriptionWithdrawn(
                    "transcription was withdrawn during the final pass") from None
            raise
        log.info("final pass over %.1f s of meeting audio took %.1f s",
                 len(audio) / SAMPLE_RATE, time.perf_counter() - began)
        return segments

