"""A meeting in the window. Its features (microphone, noise suppression, live captions, keeping
the transcript) switch on and off while it runs, each only while its consent stands.

One reader thread takes the microphone's chunks and hands the raw audio to live captions (the
recogniser gets raw audio: measured, denoised audio made tiny.en's WER worse on most mixtures)
and to the noise suppressor, whose output drives the level meter so the user sees the noise go.
Every stretch during which captions were on keeps its audio in memory for the final pass at the
end; nothing is written to disk unless keeping the transcript is on (and then only text).

Plain Python: the window adapts `MeetingEvents` to Qt signals.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from app.consent import ConsentGate, ConsentRequired
from app.meeting.features import (
    LIVE_CAPTIONS,
    MICROPHONE,
    NOISE_SUPPRESSION,
    SAVE_TRANSCRIPT,
    FeatureSwitches,
)
from app.segments import Segment

log = logging.getLogger(__name__)

RATE = 16000


class MeetingEvents(Protocol):
    def on_caption(self, kind: str, segment: Segment) -> None: ...

    def on_state(self) -> None: ...

    def on_problem(self, kind: str, message: str) -> None: ...


@dataclass
class MeetingState:
    running: bool = False
    capturing: bool = False
    device_lost: bool = False
    captions: str = "off"  # off | loading | on
    denoising: bool = False
    storing: bool = False
    lag: float = 0.0
    level: tuple[float, float] = (-120.0, -120.0)
    stored_meeting_id: str | None = None

    def ai_activity(self) -> str:
        doing = []
        if self.captions in ("loading", "on"):
            doing.append("transcribing")
        if self.denoising:
            doing.append("removing noise")
        if not doing:
            return ""
        return " and ".join(doing).capitalize() + " on this device"


@dataclass
class _Stretch:
    """Captions were on from `offset` (meeting seconds) for as long as this transcriber ran."""

    transcriber: Any
    offset: float
    fed_until: float = field(default=0.0)  # meeting seconds covered so far (gaps filled)
    active: bool = True


class LiveMeeting:
    def __init__(
        self,
        gate: ConsentGate,
        switches: FeatureSwitches,
        events: MeetingEvents,
        *,
        device: int | str | None = None,
        store: Any = None,
        title: str | None = None,
        engine_factory: Callable[[], Any] | None = None,
        capture_factory: Callable[[ConsentGate, int | str | None], Any] | None = None,
        denoiser_factory: Callable[[ConsentGate], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gate = gate
        self.switches = switches
        self.events = events
        self.device = device
        self.store = store
        self.title = title
        self._engine_factory = engine_factory or _default_engine
        self._capture_factory = capture_factory or _default_capture
        self._denoiser_factory = denoiser_factory or _default_denoiser
        self.clock = clock
        self.state = MeetingState()
        self.started_at: datetime | None = None
        self._t0 = 0.0
        self._lock = threading.RLock()
        self._capture: Any = None
        self._capture_offset = 0.0
        self._denoiser: Any = None
        self._stretches: list[_Stretch] = []
        self._current: _Stretch | None = None
        self._engine: Any = None
        self._sink: Any = None
        self.finals: list[Segment] = []
        self.transcript: list[Segment] = []
        self.saved = False  # stored in the meeting store
        self.written_to: Path | None = None  # saved by the user to a file of their choosing
        self._reader: threading.Thread | None = None
        self._stop_reading = threading.Event()
        self._unsubscribe: Callable[[], None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            self.started_at = datetime.now(UTC)
            self._t0 = self.clock()
            self.state.running = True
            self._unsubscribe = self.switches.on_change(self._feature_changed)
            for feature in (MICROPHONE, NOISE_SUPPRESSION, SAVE_TRANSCRIPT, LIVE_CAPTIONS):
                if self.switches.is_on(feature):
                    self._apply(feature, True)
        self.events.on_state()

    def elapsed(self) -> float:
        return self.clock() - self._t0 if self.state.running else 0.0

    def end(
        self, on_progress: Callable[[float], None] | None = None, *, final_pass: bool = True
    ) -> list[Segment]:
        """End the meeting: close the microphone, stop captions, run the final pass over each
        stretch of captioned audio, and hand the transcript to the store if keeping is on.

        Without `final_pass` (closing the window) the live captions are the transcript."""
        with self._lock:
            if not self.state.running:
                return self.transcript
            self.state.running = False
            if self._unsubscribe is not None:
                self._unsubscribe()
            self._stop_capture()
            self._stop_denoiser()
            stretches, self._current = list(self._stretches), None
        total = max(sum(s.fed_until - s.offset for s in stretches), 1e-9)
        done = 0.0
        transcript: list[Segment] = []
        if not final_pass:
            for stretch in stretches:
                stretch.active = False
                stretch.transcriber.stop()
        for stretch in stretches if final_pass else ():
            share = (stretch.fed_until - stretch.offset) / total

            def progress(fraction: float, base: float = done, part: float = share) -> None:
                if on_progress is not None:
                    on_progress(min(1.0, base + fraction * part))

            transcript += self._final_pass(stretch, progress)
            done += share
        if self._engine is not None:
            self._engine.release()
        # The live captions stand in when the final pass could not run (no consent any more).
        self.transcript = transcript or list(self.finals)
        with self._lock:
            if self._sink is not None:
                self._sink.on_finished(self.transcript)
                self.saved = self._sink.meeting_id is not None and not getattr(
                    self._sink, "erased_at_end", False
                )
            self.state = MeetingState(stored_meeting_id=self.state.stored_meeting_id)
        self.events.on_state()
        return self.transcript

    def _final_pass(self, stretch: _Stretch, progress: Callable[[float], None]) -> list[Segment]:
        from app.transcription.live import TranscriptionWithdrawn

        try:
            segments = stretch.transcriber.finish(on_progress=progress)
        except TranscriptionWithdrawn:
            return []
        except Exception as err:
            log.exception("final pass failed")
            self.events.on_problem("final_pass", f"The final transcript could not be made: {err}")
            return []
        return [
            Segment(s.start + stretch.offset, s.end + stretch.offset, s.text, True)
            for s in segments
        ]

    @property
    def has_unsaved_transcript(self) -> bool:
        return bool(self.transcript or self.finals) and not self.saved and self.written_to is None

    def ended_transcript(self) -> list[Segment]:
        """What this meeting's transcript is once it ended (the live captions while it runs)."""
        return list(self.transcript or self.finals)

    def save_to_file(self, path: Path) -> str:
        """Write the transcript where the user chose (format from the extension); once written,
        closing no longer warns that it exists only in memory. Raises ExportError."""
        from app.storage.export import save_transcript

        started = self.started_at
        title = self.title or (f"Meeting {started.astimezone():%Y-%m-%d %H:%M}" if started
                               else "Meeting")
        metadata: dict[str, object] = {"source": "window", "title": title,
                    "started": started.isoformat() if started else None}
        fmt = save_transcript(path, self.ended_transcript(), title=title, metadata=metadata)
        self.written_to = path
        return fmt

    # -- features ------------------------------------------------------------------------------
    def _feature_changed(self, feature: str, on: bool) -> None:
        with self._lock:
            if not self.state.running:
                return
            self._apply(feature, on)
        self.events.on_state()

    def _apply(self, feature: str, on: bool) -> None:
        try:
            if feature == MICROPHONE:
                self._start_capture() if on else self._stop_capture()
            elif feature == NOISE_SUPPRESSION:
                self._start_denoiser() if on else self._stop_denoiser()
            elif feature == LIVE_CAPTIONS:
                self._start_captions() if on else self._stop_captions()
            elif feature == SAVE_TRANSCRIPT:
                self._start_storing() if on else self._stop_storing()
        except ConsentRequired as err:
            self.events.on_problem("consent", str(err))
        except Exception as err:  # shown to the user; the meeting goes on without the feature
            log.warning("%s could not start: %s", feature, err)
            self.events.on_problem(feature, str(err))
            threading.Thread(target=self.switches.turn_off, args=(feature,), daemon=True).start()

    def _start_capture(self) -> None:
        if self._capture is not None:
            return
        capture = self._capture_factory(self.gate, self.device)
        capture.start()
        self._capture = capture
        self._capture_offset = self.elapsed()
        self.state.capturing = True
        self.state.device_lost = False
        self._stop_reading.clear()
        self._reader = threading.Thread(target=self._read_loop, name="candor-meeting", daemon=True)
        self._reader.start()

    def _stop_capture(self) -> None:
        capture, self._capture = self._capture, None
        self._stop_reading.set()
        if capture is not None:
            capture.stop()
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=5)
        self._reader = None
        self.state.capturing = False
        self.state.level = (-120.0, -120.0)

    def _start_denoiser(self) -> None:
        if self._denoiser is None:
            self._denoiser = self._denoiser_factory(self.gate)
            self.state.denoising = True

    def _stop_denoiser(self) -> None:
        denoiser, self._denoiser = self._denoiser, None
        self.state.denoising = False
        if denoiser is not None:
            denoiser.close()

    def _start_captions(self) -> None:
        if self._current is not None:
            return
        from app.transcription.live import LiveTranscriber

        self.gate.require("transcription")
        if self._engine is None:
            self._engine = self._engine_factory()
        offset = self.elapsed()
        stretch = _Stretch(None, offset, offset)

        def caption(c: Any, stretch: _Stretch = stretch) -> None:
            self._caption(stretch, c.kind, c.segment)

        transcriber = LiveTranscriber(self.gate, self._engine, on_caption=caption, on_lag=self._lag)
        stretch.transcriber = transcriber
        self._stretches.append(stretch)
        self._current = stretch
        self.state.captions = "loading"

        def load() -> None:
            # Loading the model takes a second or two: never on the GUI thread.
            try:
                transcriber.start()
            except Exception as err:
                log.warning("live captions could not start: %s", err)
                self.events.on_problem(LIVE_CAPTIONS, str(err))
                self.switches.turn_off(LIVE_CAPTIONS)
                return
            with self._lock:
                if self._current is stretch:
                    self.state.captions = "on"
            self.events.on_state()

        threading.Thread(target=load, name="candor-model-load", daemon=True).start()

    def _stop_captions(self) -> None:
        stretch, self._current = self._current, None
        self.state.captions = "off"
        self.state.lag = 0.0
        if stretch is not None:
            stretch.active = False  # nothing more is shown from it, not even its last words
            threading.Thread(target=stretch.transcriber.stop, daemon=True).start()

    def _start_storing(self) -> None:
        if self._sink is not None or self.store is None:
            return
        from app.storage import StoredMeetingSink

        sink = StoredMeetingSink(
            self.store,
            self.gate,
            source="window",
            title=self.title,
            device=self._capture.device_name if self._capture is not None else None,
            model=getattr(getattr(self._engine, "location", None), "name", None) or "tiny.en",
            language="en",
            started=self.started_at,
        )
        for segment in self.finals:  # keeping it on mid-meeting keeps the meeting so far
            sink.on_final(segment)
        self._sink = sink
        self.state.storing = True
        self.state.stored_meeting_id = sink.meeting_id

    def _stop_storing(self) -> None:
        sink, self._sink = self._sink, None
        self.state.storing = False
        if sink is not None and sink.meeting_id is not None and self.store is not None:
            # "Keep transcript" off: this meeting is not kept; its text stays in memory here.
            self.store.delete(sink.meeting_id)
            self.state.stored_meeting_id = None

    # -- audio ---------------------------------------------------------------------------------
    def _read_loop(self) -> None:
        from app.audio.errors import DeviceLostError

        capture = self._capture
        while not self._stop_reading.is_set() and capture is not None:
            try:
                chunk = capture.read(timeout=0.1)
            except DeviceLostError as err:
                self.state.device_lost = True
                self.events.on_problem("device_lost", str(err))
                self._stop_reading.wait(0.5)
                continue
            except ConsentRequired:
                return  # the microphone was withdrawn; the switches turn it off
            if chunk is None:
                continue
            self._take(chunk)

    def _take(self, chunk: Any) -> None:
        start = chunk.start + self._capture_offset
        samples = np.asarray(chunk.samples, dtype=np.float32)
        # No lock here: end() holds the lock while it waits for this thread to finish.
        stretch, denoiser = self._current, self._denoiser
        if stretch is not None:
            gap = start - stretch.fed_until
            if gap > 1 / RATE:  # mute or a dropped block: keep the stretch's timeline in place
                stretch.transcriber.feed(np.zeros(round(gap * RATE), np.float32))
            stretch.transcriber.feed(samples)
            stretch.fed_until = start + len(samples) / RATE
        level_source = samples
        if denoiser is not None:
            cleaned = denoiser.process(samples)
            if len(cleaned):
                level_source = cleaned
        self.state.level = _level(level_source)

    # -- captions ------------------------------------------------------------------------------
    def _caption(self, stretch: _Stretch, kind: str, segment: Segment) -> None:
        # On the captions worker, inside gate.guard("transcription").
        if not stretch.active:
            return
        shifted = Segment(
            segment.start + stretch.offset,
            segment.end + stretch.offset,
            segment.text,
            kind == "final",
        )
        if kind == "final":
            self.finals.append(shifted)
            sink = self._sink
            if sink is not None:
                sink.on_final(shifted)
        self.events.on_caption(kind, shifted)

    def _lag(self, report: Any) -> None:
        self.state.lag = float(report.lag)

    # -- controls ------------------------------------------------------------------------------
    def set_muted(self, muted: bool) -> None:
        if self._capture is not None:
            self._capture.muted = muted

    def switch_device(self, device: int | str | None) -> None:
        self.device = device
        with self._lock:
            if self._capture is not None:
                self._capture.switch_device(device)
                self.state.device_lost = False
        self.events.on_state()

    def learn_noise(self, seconds: float = 3.0) -> bool:
        denoiser = self._denoiser
        if denoiser is None:
            return False
        denoiser.learn_next(seconds)
        return True

    def set_noise_strength(self, strength: str) -> None:
        if self._denoiser is not None:
            self._denoiser.strength = strength


def _level(samples: np.ndarray) -> tuple[float, float]:
    from app.audio.capture import block_level

    return block_level(samples) if len(samples) else (-120.0, -120.0)


def _default_engine() -> Any:
    from app.transcription.engine import WhisperEngine

    return WhisperEngine()


def _default_capture(gate: ConsentGate, device: int | str | None) -> Any:
    from app.audio.capture import AudioCapture

    return AudioCapture(gate, device)


def _default_denoiser(gate: ConsentGate) -> Any:
    from app.audio.denoise import StreamingDenoiser

    denoiser = StreamingDenoiser(gate)
    threading.Thread(target=denoiser.warm_up, daemon=True).start()
    return denoiser


def segments_text(segments: Sequence[Segment]) -> str:
    return " ".join(s.text.strip() for s in segments if s.text.strip())
