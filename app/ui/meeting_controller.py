"""Runs a `LiveMeeting` for the window: turns its callbacks (from worker threads) into queued Qt
signals, polls the level for the meter, and runs the end-of-meeting pass off the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.consent import ConsentGate
from app.meeting.features import FeatureSwitches
from app.meeting.live_meeting import LiveMeeting, MeetingState
from app.segments import Segment


class MeetingController(QObject):
    caption = Signal(str, object)  # kind, Segment
    state_changed = Signal()
    problem = Signal(str, str)  # kind, message
    level = Signal(float, float)
    lag = Signal(object)  # float seconds, or None
    ending_progress = Signal(float)
    ended = Signal(object)  # list[Segment]

    def __init__(
        self,
        gate: ConsentGate,
        switches: FeatureSwitches,
        store_provider: Callable[[], Any],
        meeting_factory: Callable[..., LiveMeeting] = LiveMeeting,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.gate = gate
        self.switches = switches
        self.store_provider = store_provider
        self.meeting_factory = meeting_factory
        self.meeting: LiveMeeting | None = None
        self.last: LiveMeeting | None = None  # the meeting that ended, until the next begins
        self.device: int | None = None
        self.noise_strength = "medium"
        self._meter = QTimer(self)
        self._meter.setInterval(50)
        self._meter.timeout.connect(self._poll)
        self._ending: threading.Thread | None = None

    # MeetingEvents, called from worker threads: signals reach the GUI thread queued.
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
        return self._ending is not None and self._ending.is_alive()

    def state(self) -> MeetingState:
        return self.meeting.state if self.meeting is not None else MeetingState()

    def start(self, title: str | None = None) -> LiveMeeting:
        meeting = self.meeting_factory(
            self.gate,
            self.switches,
            self,
            device=self.device,
            store=self.store_provider(),
            title=title,
        )
        self.meeting = meeting
        self.last = None
        meeting.start()
        if meeting._denoiser is not None:
            meeting.set_noise_strength(self.noise_strength)
        self._meter.start()
        self.state_changed.emit()
        return meeting

    def end(self, *, final_pass: bool = True) -> None:
        """End the meeting; the final pass runs on a worker thread and `ended` follows."""
        meeting, self.meeting = self.meeting, None
        if meeting is None:
            return
        self._meter.stop()
        self.level.emit(-120.0, -120.0)
        self.last = meeting

        def run() -> None:
            transcript = meeting.end(on_progress=self.ending_progress.emit, final_pass=final_pass)
            self.ended.emit(transcript)

        self._ending = threading.Thread(target=run, name="candor-final-pass", daemon=True)
        self._ending.start()
        self.state_changed.emit()

    def wait_ended(self, timeout: float | None = None) -> None:
        if self._ending is not None:
            self._ending.join(timeout)

    def has_unsaved_transcript(self) -> bool:
        for meeting in (self.meeting, self.last):
            if meeting is not None and meeting.has_unsaved_transcript:
                return True
        return False

    def _poll(self) -> None:
        meeting = self.meeting
        if meeting is None:
            return
        rms, peak = meeting.state.level
        self.level.emit(rms, peak)
        state = meeting.state
        self.lag.emit(state.lag if state.captions == "on" else None)

    # controls forwarded from the view
    def set_muted(self, muted: bool) -> None:
        if self.meeting is not None:
            self.meeting.set_muted(muted)

    def choose_device(self, device: int | None) -> None:
        self.device = device
        if self.meeting is not None and self.meeting.state.capturing:
            try:
                self.meeting.switch_device(device)
            except Exception as err:  # shown; the user can pick another
                self.problem.emit("device", str(err))

    def set_noise_strength(self, strength: str) -> None:
        self.noise_strength = strength
        if self.meeting is not None:
            self.meeting.set_noise_strength(strength)

    def learn_noise(self) -> bool:
        return self.meeting is not None and self.meeting.learn_noise(3.0)
