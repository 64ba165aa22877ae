"""One source of a meeting (the microphone, or system audio): its device, the reader thread that
takes its chunks, its noise suppressor and the stretches during which it was captioned.

Times: a source's chunks carry its capture timeline; `offset` puts them on the meeting's
timeline (seconds since the meeting began). It is fixed from the first chunk's arrival (the
tightest bound on when that audio was heard), so captions of both sources line up, and every
later chunk keeps its own start: a dropped block or a mute stays a gap, in the live captions
and in the audio kept for the final pass alike.

Threads: the engine's control thread opens and closes the device and joins the reader; the
reader only reads, meters and queues copies (the transcriber's `feed`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from app.audio.capture import AudioChunk, block_level
from app.audio.echo import EchoSuppressor
from app.audio.errors import DeviceLostError
from app.consent import ConsentRequired, Gate
from app.meeting.sources import AudioSource, Device, OpenSource, Source
from app.transcription.live import LiveTranscriber

log = logging.getLogger(__name__)

SILENT = (-120.0, -120.0)
Hearing = Literal["raw", "denoised"]


@dataclass(eq=False)
class Stretch:
    """Captions of one source were on from `offset` (meeting seconds) while this ran."""

    source: Source
    transcriber: LiveTranscriber
    offset: float
    active: bool = True  # False: nothing more from it is shown, not even its last words
    fed_until: float = field(default=0.0)  # meeting seconds of audio handed to it

    @property
    def seconds(self) -> float:
        return max(0.0, self.fed_until - self.offset)


class Channel:
    def __init__(self, source: Source, gate: Gate, open_source: OpenSource, *,
                 meeting_time: Callable[[], float],
                 on_lost: Callable[[Source, DeviceLostError], None],
                 on_ended: Callable[[Source, str], None],
                 hearing: Hearing = "raw") -> None:
        self.source = source
        self.gate = gate
        self._open_source = open_source
        self._meeting_time = meeting_time
        self._on_lost = on_lost
        self._on_ended = on_ended
        self.hearing = hearing
        self.device: Device = None
        self.capture: AudioSource | None = None
        self.offset: float | None = None
        self.stretch: Stretch | None = None
        self.stretches: list[Stretch] = []
        self.denoiser: Any = None
        self.level: tuple[float, float] = SILENT
        self.lost = False
        self.lost_error: DeviceLostError | None = None  # the last loss, kept after close()
        self.muted = False
        self.ended_by: str | None = None  # "microphone"/"system_audio" (withdrawn), an error
        self.chunks = 0
        self._lost_blocks = 0  # blocks the devices closed so far could not keep
        # Echo control (app/audio/echo.py): the microphone's audio loses the others' echo
        # before the recogniser hears it; system audio is its reference.
        self.echo: EchoSuppressor | None = None
        self.reference: EchoSuppressor | None = None
        self._reader: threading.Thread | None = None
        self._stop_reading = threading.Event()

    @property
    def capturing(self) -> bool:
        return self.capture is not None

    @property
    def device_name(self) -> str | None:
        capture = self.capture
        return None if capture is None else capture.device_name

    @property
    def lost_blocks(self) -> int:
        """Blocks of audio the device delivered that were lost (overflows: the reader was not
        scheduled in time), over every device this channel opened, kept after close()."""
        capture = self.capture
        return self._lost_blocks + (0 if capture is None else capture.overflows)

    # -- device (control thread) ---------------------------------------------------------------
    def open(self, device: Device) -> None:
        if self.capture is not None:
            return
        capture = self._open_source(self.gate, self.source, device)
        capture.start()
        capture.muted = self.muted
        self.device = device
        self.capture = capture
        self.offset = None
        self.lost = False
        self.lost_error = None
        self.ended_by = None
        self._stop_reading = threading.Event()
        self._reader = threading.Thread(target=self._read_loop, args=(capture,),
                                        name=f"candor-read-{self.source}", daemon=True)
        self._reader.start()

    def close(self) -> None:
        """Close the device; what it captured before is still read and handed on (drain)."""
        capture, self.capture = self.capture, None
        if capture is not None:
            try:
                capture.stop()
            except Exception:
                log.warning("closing the %s failed", self.source, exc_info=True)
            self._lost_blocks += capture.overflows
        self._stop_reading.set()
        reader, self._reader = self._reader, None
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=10)
        self._flush_denoiser()
        self.level = SILENT
        self.lost = False

    def switch_device(self, device: Device) -> None:
        self.device = device
        if self.capture is not None:
            self.capture.switch_device(device)
            self.lost = False

    def set_muted(self, muted: bool) -> None:
        self.muted = muted
        if self.capture is not None:
            self.capture.muted = muted

    # -- reader thread -------------------------------------------------------------------------
    def _read_loop(self, capture: AudioSource) -> None:
        told_lost = False
        try:
            while not self._stop_reading.is_set():
                try:
                    chunk = capture.read(timeout=0.1)
                except DeviceLostError as err:
                    self.lost, self.lost_error = True, err
                    if not told_lost:
                        told_lost = True
                        self._on_lost(self.source, err)
                    self._stop_reading.wait(0.2)
                    continue
                told_lost = False
                if chunk is None:
                    # a stopped device returns at once: wait for the close, do not spin
                    if not capture.running and self._stop_reading.wait(0.1):
                        break
                    continue
                self._take(chunk)
            # what was captured before the close is still readable: hand it on too
            while (chunk := capture.read(timeout=0)) is not None:
                self._take(chunk)
        except ConsentRequired as err:
            self.ended_by = err.purposes[0] if err.purposes else self.source
            self._on_ended(self.source, self.ended_by)
        except DeviceLostError:
            pass  # lost while draining: everything before the loss was handed on
        except Exception as err:
            self.ended_by = type(err).__name__
            log.warning("%s capture ended: %s", self.source, type(err).__name__)
            self._on_ended(self.source, self.ended_by)

    def _take(self, chunk: AudioChunk) -> None:
        if self.offset is None:
            self.offset = max(0.0, self._meeting_time() - chunk.end)
        self.chunks += 1
        if self.reference is not None:
            self.reference.add_reference(chunk.samples, self.offset + chunk.start)
        denoiser = self.denoiser
        heard = [chunk]
        cleaned: list[AudioChunk] = []
        if denoiser is not None:
            try:
                cleaned = denoiser.process_chunk(chunk)
            except ConsentRequired:
                cleaned = []
        if cleaned:
            self.level = block_level(cleaned[-1].samples)
        elif denoiser is None:
            self.level = block_level(chunk.samples)
        if self.hearing == "denoised" and denoiser is not None:
            heard = cleaned
        self._feed(heard)

    def _feed(self, chunks: list[AudioChunk], *, last: bool = False) -> None:
        stretch = self.stretch
        if self.offset is None:
            return
        for piece in chunks:
            start = self.offset + piece.start
            samples = np.asarray(piece.samples, dtype=np.float32)
            if self.echo is not None:
                samples, start = self.echo.process(samples, start)
            self._hand_on(stretch, samples, start)
        if last and self.echo is not None:
            samples, start = self.echo.flush()
            self._hand_on(stretch, samples, start)

    def _hand_on(self, stretch: Stretch | None, samples: np.ndarray, start: float) -> None:
        if stretch is None or not stretch.active or not len(samples):
            return
        stretch.transcriber.feed(samples, start - stretch.offset)
        stretch.fed_until = max(stretch.fed_until, start + len(samples) / 16000)

    def _flush_denoiser(self) -> None:
        denoiser = self.denoiser
        rest: list[AudioChunk] = []
        if denoiser is not None:
            try:
                rest = denoiser.flush_chunks()
            except Exception:
                rest = []
        self._feed(rest if self.hearing == "denoised" else [], last=True)

    # -- denoiser (control thread) -------------------------------------------------------------
    def close_denoiser(self) -> None:
        denoiser, self.denoiser = self.denoiser, None
        if denoiser is not None:
            denoiser.close()
