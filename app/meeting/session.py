"""A headless meeting: capture -> (optional denoise) -> live captions -> sinks, under the gate.

The window and `candor listen` both run a meeting through this. Output goes to `SegmentSink`s
(the captions view, the store, a JSON printer): partial captions replace the previous partial,
final captions are appended, and at the end the final pass over the whole meeting's audio (kept
in memory only) is handed to `on_finished`. Sinks are called on the captions worker thread, and
inside `gate.guard("transcription")`, so nothing reaches a sink after `transcription` was
withdrawn; a sink must return quickly (queue to a UI thread, print, insert a row).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from app.consent import ConsentRequired, Gate
from app.consent.purposes import MICROPHONE, NOISE_SUPPRESSION, TRANSCRIPTION
from app.segments import Segment
from app.transcription.engine import WhisperEngine
from app.transcription.live import LiveTranscriber, TranscriptionWithdrawn
from app.transcription.streaming import Caption, LagReport, StreamingConfig

log = logging.getLogger(__name__)


class SegmentSink(Protocol):
    def on_partial(self, segment: Segment) -> None:
        """The open end of the current utterance (replaces the previous partial)."""

    def on_final(self, segment: Segment) -> None:
        """Text that will not change any more (clears the partial it covered)."""

    def on_finished(self, segments: Sequence[Segment]) -> None:
        """The meeting ended; `segments` is the final pass over the whole meeting's audio."""


class ChunkSource(Protocol):
    """What the session reads audio from (app.audio.capture.AudioCapture, or a test source)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def read(self, timeout: float | None = None) -> Any: ...  # AudioChunk | None


@dataclass(slots=True)
class SessionStatus:
    lag: float = 0.0  # seconds of audio not yet covered by captions
    skipped: float = 0.0  # seconds skipped for live captions to catch up
    ended_by: str | None = None  # why capture ended early: "device_lost", "microphone", ...


class MeetingSession:
    def __init__(
        self,
        gate: Gate,
        *,
        sinks: Sequence[SegmentSink] = (),
        capture: ChunkSource | None = None,
        device: int | str | None = None,
        engine: WhisperEngine | None = None,
        model: str | None = None,
        language: str | None = "en",
        denoise: bool = False,
        config: StreamingConfig | None = None,
        on_status: Callable[[SessionStatus], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gate = gate
        self.sinks = list(sinks)
        self._capture = capture
        self._device = device
        self.engine = engine or WhisperEngine(model, language=language)
        self.denoise = denoise
        self.config = config
        self.on_status = on_status
        self.clock = clock
        self.status = SessionStatus()
        self._t0: float | None = None  # clock time of audio time 0
        self._transcriber: LiveTranscriber | None = None
        self._denoiser: Any = None
        self._reader: threading.Thread | None = None
        self._stop_reading = threading.Event()
        self._finished = False
        self.final_segments: list[Segment] = []
        self.captions: list[Caption] = []

    # ---- timing ------------------------------------------------------------------------------

    def elapsed(self) -> float:
        """Seconds since capture began (the capture timeline's 0), by this session's clock."""
        if self._t0 is None:
            return 0.0
        return self.clock() - self._t0

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> MeetingSession:
        """Check consent, load the model, open the microphone, start captions."""
        needed = [MICROPHONE, TRANSCRIPTION] + ([NOISE_SUPPRESSION] if self.denoise else [])
        require_all = getattr(self.gate, "require_all", None)
        if require_all is not None:
            require_all(needed)
        else:
            for purpose in needed:
                self.gate.require(purpose)
        if self.denoise:
            from app.transcription.denoising import make_denoiser

            self._denoiser = make_denoiser(self.gate)
        self._transcriber = LiveTranscriber(
            self.gate, self.engine, on_caption=self._on_caption, on_lag=self._on_lag,
            config=self.config,
        ).start()
        if self._capture is None:
            from app.audio.capture import AudioCapture

            self._capture = AudioCapture(self.gate, self._device)
        try:
            self._capture.start()
        except BaseException:
            self._transcriber.stop()
            self.engine.release()
            raise
        self._reader = threading.Thread(target=self._read_loop, name="candor-meeting-audio",
                                        daemon=True)
        self._reader.start()
        return self

    @property
    def capture_ended(self) -> bool:
        return self._reader is not None and not self._reader.is_alive()

    def _read_loop(self) -> None:
        assert self._capture is not None
        assert self._transcriber is not None
        try:
            while not self._stop_reading.is_set():
                chunk = self._capture.read(timeout=0.1)
                if chunk is None:
                    if not getattr(self._capture, "running", True):
                        break
                    continue
                self._take(chunk)
            # what was captured before stop() is still readable: hand it on too
            while (chunk := self._capture.read(timeout=0)) is not None:
                self._take(chunk)
        except ConsentRequired:
            self.status.ended_by = MICROPHONE
            log.info("microphone withdrawn: the meeting's capture ended")
        except Exception as err:
            self.status.ended_by = type(err).__name__
            log.warning("capture ended: %s", err)
        finally:
            self._flush_denoiser()

    def _take(self, chunk: Any) -> None:
        assert self._transcriber is not None
        samples = np.asarray(chunk.samples, dtype=np.float32).reshape(-1)
        start = float(chunk.start)
        arrived = self.clock()
        # The earliest-arriving chunk bounds when audio time 0 happened most tightly.
        t0 = arrived - (start + len(samples) / 16000)
        self._t0 = t0 if self._t0 is None else min(self._t0, t0)
        if self._denoiser is None:
            self._transcriber.feed(samples, start)
            return
        # denoised chunks keep their place on the capture timeline (a gap restarts the stream)
        for out in self._denoiser.process_chunk(chunk):
            self._transcriber.feed(out.samples, out.start)

    def _flush_denoiser(self) -> None:
        if self._denoiser is None or self._transcriber is None:
            return
        try:
            for out in self._denoiser.flush_chunks():
                self._transcriber.feed(out.samples, out.start)
        finally:
            self._denoiser.close()

    # ---- output ------------------------------------------------------------------------------

    def _on_caption(self, caption: Caption) -> None:
        # Called inside gate.guard("transcription") on the captions worker.
        self.captions.append(caption)
        for sink in self.sinks:
            try:
                if caption.kind == "final":
                    sink.on_final(caption.segment)
                else:
                    sink.on_partial(caption.segment)
            except Exception:
                log.exception("a caption sink failed; the captions go on")

    def _on_lag(self, report: LagReport) -> None:
        changed = (abs(report.lag - self.status.lag) >= 0.25
                   or report.skipped != self.status.skipped)
        self.status.lag = report.lag
        self.status.skipped = report.skipped
        if changed and self.on_status is not None:
            self.on_status(self.status)

    def stop(self, *, final_pass: bool = True,
             on_progress: Callable[[float], None] | None = None) -> list[Segment]:
        """End the meeting: close the microphone, finish captions, run the final pass.

        Returns the final transcript (also handed to every sink's `on_finished`); empty when
        `transcription` was withdrawn or `final_pass` is False.
        """
        if self._finished:
            return self.final_segments
        self._finished = True
        if self._capture is not None:
            self._capture.stop()
        self._stop_reading.set()
        if self._reader is not None:
            self._reader.join()
        transcriber = self._transcriber
        if transcriber is None:
            return []
        segments: list[Segment] = []
        try:
            if final_pass:
                segments = transcriber.finish(on_progress=on_progress)
            else:
                transcriber.stop()
        except TranscriptionWithdrawn:
            log.info("no final pass: transcription was withdrawn")
        finally:
            self.engine.release()
        self.final_segments = segments
        if not final_pass or transcriber.withdrawn:
            return segments
        try:
            with self.gate.guard(TRANSCRIPTION):
                for sink in self.sinks:
                    try:
                        sink.on_finished(segments)
                    except Exception:
                        log.exception("a sink failed to take the final transcript")
        except ConsentRequired:  # withdrawn between the pass and the hand-over
            log.info("final transcript not handed over: transcription was withdrawn")
            self.final_segments = []
        return self.final_segments

    @property
    def transcriber(self) -> LiveTranscriber | None:
        return self._transcriber
