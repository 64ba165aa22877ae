"""Runs the window's meeting (app/meeting/binding.py over the one MeetingEngine): turns its
callbacks (from worker threads) into queued Qt signals and polls the levels for the meters.
Nothing here waits for a device, a model or the final pass: the engine's control thread does,
and `ended` follows when its Future is done. An ended meeting's final pass (and its sinks)
finishes in the background (app/meeting/endings.py) while the next meeting may already run."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.consent import ConsentGate
from app.meeting.binding import WindowMeeting
from app.meeting.endings import Ending, Endings, ending_name
from app.meeting.engine import MeetingState
from app.meeting.features import FeatureSwitches
from app.meeting.sources import Source
from app.segments import Segment


class _MeetingEvents:
    """One meeting's engine events: an ended meeting still finishing in the background may
    report state and problems, but its late captions never land in the next meeting's view."""

    def __init__(self, controller: MeetingController) -> None:
        self.controller = controller
        self.meeting: WindowMeeting | None = None

    def on_caption(self, kind: str, segment: Segment) -> None:
        current = self.controller.meeting
        if self.meeting is None or current is None or current is self.meeting:
            self.controller.on_caption(kind, segment)

    def on_state(self) -> None:
        self.controller.on_state()

    def on_problem(self, kind: str, message: str) -> None:
        self.controller.on_problem(kind, message)


class MeetingController(QObject):
    caption = Signal(str, object)  # kind, Segment
    state_changed = Signal()
    problem = Signal(str, str)  # kind, message
    level = Signal(float, float)  # the microphone's
    source_level = Signal(str, float, float)  # source, rms, peak
    lag = Signal(object)  # float seconds, or None
    ending_progress = Signal(object, str, float)  # WindowMeeting, its name, fraction
    ended = Signal(object, object)  # WindowMeeting, list[Segment]

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
        self.endings: Endings[WindowMeeting] = Endings()

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
        """A final pass is still running (of any meeting that ended)."""
        return self.endings.busy

    def state(self) -> MeetingState:
        return self.meeting.state if self.meeting is not None else MeetingState()

    def start(self, title: str | None = None) -> WindowMeeting:
        events = _MeetingEvents(self)
        meeting = self.meeting_factory(
            self.gate, self.switches, events, store=self.store_provider(), title=title,
            devices={"microphone": self.device},
        )
        events.meeting = meeting
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
        ending = self.endings.add(
            meeting, ending_name(meeting.title, meeting.engine.started_at),
            lambda progress: meeting.end(final_pass=final_pass, on_progress=progress),
            self._progress, self._finished)
        if ending in self.endings.running():
            self._progress(ending)  # "… 0 %" at once, not only once the model has loaded
        self.state_changed.emit()

    def _progress(self, ending: Ending[WindowMeeting]) -> None:
        self.ending_progress.emit(ending.meeting, ending.name, ending.fraction)

    def _finished(self, meeting: WindowMeeting, done: Future[list[Segment]]) -> None:
        # on the engine's thread, once the meeting no longer counts as ending
        error = done.exception()
        if error is not None:
            self.problem.emit("final_pass", f"The meeting did not end cleanly: {error}")
        self.ended.emit(meeting, [] if error is not None else done.result())

    def finishing_meeting_ids(self) -> frozenset[str]:
        """The stored meetings whose capture has ended and whose final pass still runs."""
        ids = (m.stored_meeting_id for m in self.endings.meetings())
        return frozenset(i for i in ids if i is not None)

    def abandon_endings(self) -> list[WindowMeeting]:
        """Everything is being erased: every final pass still running stops and keeps nothing
        (app/meeting/binding.py); `ended` still follows for each. Never waits."""
        abandoned = self.endings.meetings()
        for meeting in abandoned:
            meeting.abandon()
        if self.last in abandoned:
            self.last = None
        return abandoned

    def wait_ended(self, timeout: float | None = None) -> bool:
        """Wait for every final pass still running (quitting, tests); True if none is left."""
        return self.endings.wait(timeout)

    def has_unsaved_transcript(self) -> bool:
        for meeting in (self.meeting, self.last, *self.endings.meetings()):
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
