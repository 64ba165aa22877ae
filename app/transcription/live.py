"""Live captions on a worker thread, under the consent gate.

`feed()` is called from the capture side and only queues a copy; the worker owns the streaming
policy and the model. Captions are handed to `on_caption` inside `gate.guard("transcription")`,
so none is emitted once a withdrawal is recorded. Withdrawing `transcription` stops the worker,
drops the meeting audio kept for the final pass and releases the model.
"""

from __future__ import annotations

import bisect
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.consent import ConsentRequired, Gate
from app.consent.purposes import TRANSCRIPTION
from app.segments import Segment
from app.transcription.engine import (
    SAMPLE_RATE,
    AnyEvent,
    TranscriptionCancelled,
    WhisperEngine,
)
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


class PcmStore:
    """The meeting's audio in memory as 16-bit blocks (115 MB an hour), sliced like an array
    without ever joining it all: the final pass reads it piece by piece.

    Blocks keep their place on the stream's timeline: a block whose `start` lies past the end
    (a dropped block, a muted stretch) is preceded by silence, and one that overlaps the end is
    cut, so the final pass's times match the live captions'. The silence is a broadcast view of
    one zero: an hour's mute costs no memory.
    """

    def __init__(self) -> None:
        self._blocks: list[np.ndarray] = []
        self._starts: list[int] = []
        self._length = 0
        self._lock = threading.Lock()

    def append(self, samples: np.ndarray, start: float | None = None) -> None:
        block = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
        with self._lock:
            if start is not None:
                gap = round(start * SAMPLE_RATE) - self._length
                if gap > 0:
                    self._starts.append(self._length)
                    self._blocks.append(np.broadcast_to(np.int16(0), (gap,)))
                    self._length += gap
                elif gap < 0:
                    block = block[-gap:]
            if not len(block):
                return
            self._starts.append(self._length)
            self._blocks.append(block)
            self._length += len(block)

    def clear(self) -> None:
        with self._lock:
            self._blocks = []
            self._starts = []
            self._length = 0

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: slice) -> np.ndarray:
        lo, hi, step = index.indices(self._length)
        if step != 1:
            raise ValueError("only contiguous slices")
        with self._lock:
            first = max(0, bisect.bisect_right(self._starts, lo) - 1)
            parts = []
            for start, block in zip(self._starts[first:], self._blocks[first:], strict=True):
                if start >= hi:
                    break
                parts.append(block[max(0, lo - start) : max(0, hi - start)])
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)


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
        self._kept = PcmStore()  # the meeting's audio for the final pass (memory only)
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
        self._kept.clear()
        self.engine.release()
        self._queue.put(_STOP)

    def feed(self, samples: np.ndarray, start: float | None = None) -> None:
        """Queue a copy of a piece of audio (stream start time in seconds, if known)."""
        if self._withdrawn.is_set() or self._stopping.is_set():
            return
        piece = np.array(samples, dtype=np.float32, copy=True).reshape(-1)
        if self.keep_audio:
            self._kept.append(piece, start)
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
        """Move queued audio into the policy; False once told to stop.

        With `block`, sleep until audio (or the stop) arrives: without new audio no pass can
        become due, so waking on a timer would only cost wakeups."""
        try:
            item = self._queue.get() if block else self._queue.get_nowait()
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
                idle = self.policy.stats.passes == passes_before and not self.policy.pass_due
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

    def forget_audio(self) -> None:
        """Drop the audio kept for the final pass (someone objected to being captioned)."""
        self._kept.clear()

    def meeting_audio(self) -> PcmStore:
        """The meeting so far (16-bit), as kept for the final pass."""
        return self._kept

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
               cancel: threading.Event | None = None,
               engine: WhisperEngine | None = None) -> list[Segment]:
        """End the meeting: last captions, then one pass over the whole meeting's audio.

        `engine` is the model for the final pass (`model_for("final")`), the live one when
        None. The audio lives in memory only and is dropped here. Raises TranscriptionWithdrawn
        if `transcription` was withdrawn (nothing is transcribed after that).
        """
        self.stop()
        audio = self._kept
        if self._withdrawn.is_set() or not self.gate.allowed(TRANSCRIPTION):
            audio.clear()
            self.engine.release()
            raise TranscriptionWithdrawn("transcription was withdrawn during the meeting")
        if self.error is not None:
            log.warning("live captions had failed; the final pass still runs")
        began = time.perf_counter()
        final_engine = engine or self.engine
        try:
            segments = final_engine.transcribe_audio(audio, on_progress=on_progress,
                                                     cancel=AnyEvent(cancel, self._withdrawn))
        except TranscriptionCancelled:
            if self._withdrawn.is_set():
                raise TranscriptionWithdrawn(
                    "transcription was withdrawn during the final pass") from None
            raise
        finally:
            seconds = len(audio) / SAMPLE_RATE
            audio.clear()  # the audio was kept for this pass only
        log.info("final pass over %.1f s of meeting audio took %.1f s", seconds,
                 time.perf_counter() - began)
        return segments

