"""Runs the window's meeting (app/meeting/binding.py over the one MeetingEngine): turns its
callbacks (from worker threads) into queued Qt signals and polls the levels for the meters.
Nothing here waits for a device, a model or the final pass: the engine's control thread does,
and `ended` follows when its Future is done."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.consent import ConsentGate
from app.meeting.binding import WindowMeeting
from app.meeting.engine import MeetingState
from app.meeting.features import FeatureSwitches
from app.meeting.sources import Source
from app.segments import Segment


class MeetingController(QObject):
    caption = Signal(str, object)  # kind, Segment
    state_changed = Signal()
    problem = Signal(str, str)  # kind, message
    level = Signal(float, float)  # the microphone's
    source_level = Signal(str, float, float)  # source, rms, peak
    lag = Signal(object)  # float seconds, or None
    ending_progress = Signal(float)
    ended = Signal(object)  # list[Segment]

    def __init__(
        self,
        gate: ConsentGate,
        switches: FeatureSwitches,
        store_provider: Callable[[], Any],
        meeting_factory: Callable[..., WindowMeeting] = WindowMeeting,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.gate = gate
        self.switches = switches
        self.store_provider = store_provider
        self.meeting_factory = meeting_factory
        self.meeting: WindowMeeting | None = None
        self.last: WindowMeeting | None = None  # the meeting that ended, until the next begins
        self.device: int | None = None
        self.noise_strength = "medium"
        self._meter = QTimer(self)
        self._meter.setInterval(50)
        self._meter.timeout.connect(self._poll)
        self._ending: Future[list[Segment]] | None = None

    # EngineEvents, called from worker threads: signals reach the GUI thread queued.
    def on_caption(self, kind: str, segment: Segment) -> None:
        self.caption.emit(kind, segment)

    def on_state(self) -> None:
        self.state_changed.emit()

    def on_problem(self, kind: str, message: str) -> None:
        self.problem.emit(kind, message)

    @property
    def running(self) -> bool:
        return self.meeting is not None

    @property
    def ending(self) -> bool:
        return self._ending is not None and not self._ending.done()

    def state(self) -> MeetingState:
        return self.meeting.state if self.meeting is not None else MeetingState()

    def start(self, title: str | None = None) -> WindowMeeting:
        meeting = self.meeting_factory(
            self.gate, self.switches, self, store=self.store_provider(), title=title,
            devices={"microphone": self.device},
        )
        self.meeting = meeting
        self.last = None
        meeting.start()
        meeting.engine.set_noise_strength(self.noise_strength)
        self._meter.start()
        self.state_changed.emit()
        return meeting

    def end(self, *, final_pass: bool = True) -> None:
        """End the meeting; the final pass runs on the engine's thread and `ended` follows."""
        meeting, self.meeting = self.meeting, None
        if meeting is None:
            return
        self._meter.stop()
        self.level.emit(-120.0, -120.0)
        self.last = meeting
        ending = meeting.end(final_pass=final_pass, on_progress=self.ending_progress.emit)
        self._ending = ending
        ending.add_done_callback(self._finished)
        self.state_changed.emit()

    def _finished(self, done: Future[list[Segment]]) -> None:
        # on the engine's thread: `ending` is already False when the signal arrives
        error = done.exception()
        if error is not None:
            self.problem.emit("final_pass", f"The meeting did not end cleanly: {error}")
        self.ended.emit([] if error is not None else done.result())

    def wait_ended(self, timeout: float | None = None) -> None:
        ending = self._ending
        if ending is not None:
            ending.exception(timeout)

    def has_unsaved_transcript(self) -> bool:
        for meeting in (self.meeting, self.last):
            if meeting is not None and meeting.has_unsaved_transcript:
                return True
        return False

    def _poll(self) -> None:
        meeting = self.meeting
        if meeting is None:
            return
        meeting.engine.poll_levels()
        state = meeting.state
        for source, source_state in state.sources.items():
            self.source_level.emit(source, *source_state.level)
        rms, peak = state.level
        self.level.emit(rms, peak)
        captioning = any(s.captions == "on" for s in state.sources.values())
        self.lag.emit(state.lag if captioning else None)

    # controls forwarded from the view
    def set_muted(self, muted: bool, source: Source = "microphone") -> None:
        if self.meeting is not None:
            self.meeting.engine.set_muted(source, muted)
            self.state_changed.emit()  # the status says "muted" at once (issue 13, defect 5)

    def choose_device(self, device: int | None) -> None:
        self.device = device
        if self.meeting is not None and self.meeting.state.capturing:
            # errors are reported by the engine (problem signal); the user can pick another
            self.meeting.engine.switch_device("microphone", device)

    def set_noise_strength(self, strength: str) -> None:
        self.noise_strength = strength
        if self.meeting is not None:
            self.meeting.engine.set_noise_strength(strength)

    def confirm_participants(self) -> None:
        if self.meeting is not None:
            try:
                self.meeting.confirm_participants()
            except Exception as err:  # e.g. system_audio withdrawn meanwhile: shown
                self.problem.emit("consent", str(err))

    def someone_objected(self) -> None:
        if self.meeting is not None:
            self.meeting.someone_objected()

    def captions_now(self) -> list[Segment]:
        """The meeting's final captions as they stand (after an objection: without theirs)."""
        return list(self.meeting.engine.finals) if self.meeting is not None else []

    def learn_noise(self) -> bool:
        return self.meeting is not None and self.meeting.engine.learn_noise(3.0)
