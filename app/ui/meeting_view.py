"""The meeting view: start and end a meeting, feature toggles that ask for consent, the
microphone controls, live captions, the AI indicator and the banners that explain problems."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.consent import RECONSENT_NEEDED, ConsentGate, ConsentRequired
from app.meeting.elapsed import elapsed_name, elapsed_text
from app.meeting.endings import progress_text
from app.meeting.features import FEATURES, LABELS, FeatureSwitches
from app.segments import Segment
from app.settings import Settings
from app.ui.audio_controls import AudioControls
from app.ui.captions_view import CaptionsView
from app.ui.consent_dialog import ask_for_purposes
from app.ui.flow_layout import FlowLayout
from app.ui.gate_bridge import GateBridge
from app.ui.meeting_controller import MeetingController
from app.ui.status_text import start_plan

DESCRIPTIONS = {
    "microphone": "Capture your microphone for this meeting. Asks for permission the first time.",
    "noise_suppression": "Remove background noise on this device. Asks for permission first.",
    "live_captions": "Show live captions, transcribed on this device. Asks for permission first.",
    "system_audio": "Caption the other participants from what this computer plays, on this "
    "device, once you confirm they were told. Asks for permission first.",
    "save_transcript": "Keep this meeting's transcript, encrypted on this device.",
}
TOGGLE_STYLE = "QPushButton:checked { background: #2e7d32; color: white; font-weight: bold; }"


class WelcomeCard(QFrame):
    dismissed = Signal()
    panel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        text = QLabel(
            "<b>Welcome to Candor.</b> Everything is off. Candor uses your microphone, removes "
            "noise or writes captions only after you switch that feature on and allow it — "
            "each permission separately — and all of it runs on this device. You can see and "
            "withdraw every permission at any time in Privacy & consent.",
            self,
        )
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        self.ok_button = QPushButton("Got it", self)
        self.ok_button.setAccessibleName("Dismiss welcome")
        self.ok_button.setAccessibleDescription("Hide this message; nothing is switched on")
        self.panel_button = QPushButton("Open Privacy && consent", self)
        self.panel_button.setAccessibleName("Open Privacy and consent")
        self.panel_button.setAccessibleDescription("See every permission; all start not given")
        self.ok_button.clicked.connect(self.dismissed)
        self.panel_button.clicked.connect(self.panel_requested)
        buttons = FlowLayout()  # side by side at the right, stacked when the page is narrow
        buttons.add_stretch()
        buttons.addWidget(self.panel_button)
        buttons.addWidget(self.ok_button)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(buttons)


class Banner(QFrame):
    """A message with one action and a dismiss button."""

    def __init__(self, name: str, action: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setStyleSheet(f"QFrame#{name} {{ background: #fff4ce; }} QLabel {{ color: #3b2f00; }}")
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.action = QPushButton(action, self)
        self.action.setAccessibleName(action.rstrip("…"))
        self.close_button = QPushButton("Dismiss", self)
        self.close_button.setAccessibleName("Dismiss message")
        self.close_button.setAccessibleDescription("Hide this message")
        self.close_button.clicked.connect(self.hide)
        # The message above its buttons: beside them it made the page wider than a 640 or
        # 800 px window (three buttons and the text's minimum).
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        self.buttons = FlowLayout()
        self.buttons.add_stretch()
        self.buttons.addWidget(self.action)
        self.buttons.addWidget(self.close_button)
        layout.addLayout(self.buttons)
        self.hide()

    def add_action(self, button: QPushButton) -> None:
        """Another action, before Dismiss."""
        self.buttons.insertWidget(self.buttons.count() - 1, button)

    def show_message(self, text: str, description: str = "") -> None:
        self.text.setText(text)
        self.text.setAccessibleName(text)
        self.action.setAccessibleDescription(description or text)
        self.show()


class MeetingView(QWidget):
    consent_panel_requested = Signal()
    correct_requested = Signal()  # the meeting just ended: open its transcript's editor
    ai_activity_changed = Signal(str)  # "" when no on-device AI is processing
    _feature_changed = Signal(str, bool)  # from any thread to the GUI thread

    def __init__(
        self,
        gate: ConsentGate,
        bridge: GateBridge,
        switches: FeatureSwitches,
        settings: Settings,
        controller: MeetingController,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.gate = gate
        self.switches = switches
        self.settings = settings
        self.controller = controller
        self.setObjectName("meeting_view")
        self.setAccessibleName("Meeting")

        self.ai_indicator = QPushButton(self)
        self.ai_indicator.setObjectName("ai_indicator")
        self.ai_indicator.setFlat(True)
        self.ai_indicator.setStyleSheet("color: #b00020; font-weight: bold; text-align: left;")
        self.ai_indicator.setAccessibleDescription(
            "On-device AI is processing now. Activate to see or withdraw permissions."
        )
        self.ai_indicator.clicked.connect(self.consent_panel_requested)
        self.ai_indicator.hide()

        self.welcome = WelcomeCard(self)
        self.welcome.dismissed.connect(self._dismiss_welcome)
        self.welcome.panel_requested.connect(self.consent_panel_requested)
        self.welcome.setVisible(not settings.get("welcome_dismissed", False))

        self.reconsent_banner = Banner("reconsent_banner", "Review…", self)
        self.reconsent_text = self.reconsent_banner.text
        self.reconsent_button = self.reconsent_banner.action
        self.reconsent_button.clicked.connect(self.consent_panel_requested)
        self.problem_banner = Banner("problem_banner", "Use selected microphone", self)
        self.problem_banner.action.clicked.connect(self._continue_with_selected_device)
        # The others are captioned only once the user confirms they were told (one click).
        self.participants_banner = Banner("participants_banner", "They were told", self)
        self.participants_banner.action.clicked.connect(self._participants_told)
        self.copy_announcement = QPushButton("Copy announcement", self.participants_banner)
        self.copy_announcement.setAccessibleName("Copy announcement")
        self.copy_announcement.setAccessibleDescription(
            "Copy the announcement to paste into the call's chat")
        self.copy_announcement.clicked.connect(self._copy_announcement)
        self.participants_banner.add_action(self.copy_announcement)
        self._announcement = ""
        # Distinct from the AI indicator: the others' voices are being processed.
        self.others_indicator = QLabel("● Captioning the others", self)
        self.others_indicator.setObjectName("others_indicator")
        self.others_indicator.setStyleSheet("color: #0b57d0; font-weight: bold;")
        self.others_indicator.setAccessibleName(
            "The other participants are being captioned on this device")
        self.others_indicator.hide()
        self.objected_button = QPushButton("Someone objected", self)
        self.objected_button.setObjectName("objected_button")
        self.objected_button.setAccessibleName("Someone objected")
        self.objected_button.setAccessibleDescription(
            "Stop captioning the others now and delete what was captioned from them")
        self.objected_button.clicked.connect(controller.someone_objected)
        self.objected_button.hide()

        self.meeting_button = QPushButton("Start meeting", self)
        self.meeting_button.setObjectName("meeting_button")
        self.meeting_button.setAccessibleName("Start meeting")
        self.meeting_button.setAccessibleDescription(
            "Begin a meeting. Only the features switched on below run."
        )
        self.meeting_button.clicked.connect(self._meeting_clicked)
        # The meeting just ended is correctable here, kept or not (issue 12 §1).
        self.correct_button = QPushButton("&Correct transcript…", self)
        self.correct_button.setObjectName("correct_ended_button")
        self.correct_button.setAccessibleName("Correct transcript")
        self.correct_button.setAccessibleDescription(
            "Correct the transcript of the meeting that just ended, segment by segment")
        self.correct_button.clicked.connect(self.correct_requested)
        self.correct_button.hide()
        # How long the running meeting has lasted; hidden between meetings. `clock` is
        # monotonic so a changed wall clock never makes it jump; tests may replace it.
        self.clock: Callable[[], float] = time.monotonic
        self._meeting_began: float | None = None
        self.meeting_timer = QLabel(self)
        self.meeting_timer.setObjectName("meeting_timer")
        self.meeting_timer.hide()
        self._timer_tick = QTimer(self)
        self._timer_tick.setInterval(250)  # a second's change shows within a quarter second
        self._timer_tick.timeout.connect(self._show_elapsed)
        self.meeting_status = QLabel("No meeting in progress.", self)
        self.meeting_status.setObjectName("meeting_status")
        self.meeting_status.setWordWrap(True)  # a long state wraps instead of widening the page
        # The final passes still running in the background, while the next meeting may run.
        self.final_pass_status = QLabel(self)
        self.final_pass_status.setObjectName("final_pass_status")
        self.final_pass_status.setWordWrap(True)
        self.final_pass_status.hide()
        self._final_passes: dict[int, str] = {}  # id(meeting) -> its progress line
        # Before each start, what it will open and run (the switches keep the last meeting's).
        self.start_plan = QLabel(self)
        self.start_plan.setObjectName("start_plan")
        self.start_plan.setWordWrap(True)
        # Wraps when the indicators do not fit beside the button and the status (a 640 or
        # 800 px window, the others captioned); insertWidget and addWidget work as in a row.
        meeting_bar = FlowLayout()
        self.meeting_status.setSizePolicy(QSizePolicy.Policy.Expanding,
                                          QSizePolicy.Policy.Preferred)
        meeting_bar.addWidget(self.meeting_button)
        meeting_bar.addWidget(self.meeting_timer)
        meeting_bar.addWidget(self.meeting_status)
        meeting_bar.addWidget(self.correct_button)
        meeting_bar.addWidget(self.ai_indicator)
        meeting_bar.addWidget(self.others_indicator)
        meeting_bar.addWidget(self.objected_button)

        self.toggles: dict[str, QPushButton] = {}
        # The switches wrap onto a second line rather than widen the page: in one row they
        # were wider than a 640 or 800 px window and the page scrolled sideways.
        toolbar = FlowLayout()
        for feature in FEATURES:
            button = QPushButton(LABELS[feature], self)
            button.setObjectName(f"toggle_{feature}")
            button.setCheckable(True)
            button.setStyleSheet(TOGGLE_STYLE)
            button.setAccessibleName(LABELS[feature])
            button.setAccessibleDescription(DESCRIPTIONS[feature])
            button.toggled.connect(lambda on, f=feature: self._toggled(f, on))
            toolbar.addWidget(button)
            self.toggles[feature] = button
        toolbar.add_stretch()
        self.panel_button = QPushButton("Privacy && consent", self)
        self.panel_button.setObjectName("meeting_consent_button")
        self.panel_button.setAccessibleName("Privacy and consent")
        self.panel_button.setAccessibleDescription("See, give and withdraw every permission")
        self.panel_button.clicked.connect(self.consent_panel_requested)
        toolbar.addWidget(self.panel_button)

        self.audio = AudioControls(self)
        self.audio.device_chosen.connect(controller.choose_device)
        self.audio.refresh_requested.connect(self.refresh_devices)
        self.audio.mute_toggled.connect(controller.set_muted)
        self.audio.others_mute_toggled.connect(lambda m: controller.set_muted(m, "system"))
        self.audio.strength_chosen.connect(controller.set_noise_strength)
        self.audio.learn_noise_requested.connect(self._learn_noise)
        self.captions = CaptionsView(self)

        self.body = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.welcome)
        layout.addWidget(self.reconsent_banner)
        layout.addWidget(self.problem_banner)
        layout.addWidget(self.participants_banner)
        layout.addLayout(meeting_bar)
        layout.addWidget(self.final_pass_status)
        layout.addWidget(self.start_plan)
        layout.addLayout(toolbar)
        layout.addWidget(self.audio)
        layout.addWidget(self.captions, 1)
        layout.addLayout(self.body)

        self._feature_changed.connect(self._show_feature)
        self._unsubscribe = switches.on_change(self._feature_changed.emit)
        bridge.changed.connect(self.refresh)
        controller.caption.connect(self._caption)
        controller.state_changed.connect(self._show_meeting_state)
        controller.problem.connect(self._problem)
        controller.level.connect(self.audio.set_level)
        controller.source_level.connect(self.audio.set_source_level)
        controller.lag.connect(self.captions.set_lag)
        controller.ending_progress.connect(self._ending_progress)
        controller.ended.connect(self._ended)
        self._ai_activity = ""
        self._continuing = False  # the user asked to continue on another microphone
        self.refresh()
        self.refresh_devices(rescan=False)
        self._show_meeting_state()

    # -- consent and toggles ---------------------------------------------------------------
    def _dismiss_welcome(self) -> None:
        self.settings.set("welcome_dismissed", True)
        self.welcome.hide()

    def refresh(self) -> None:
        reconsent = [
            self.gate.notices.current(s.purpose).title
            for s in self.gate.states()
            if s.state == RECONSENT_NEEDED
        ]
        if reconsent:
            self.reconsent_banner.show_message(
                "The notice changed for " + ", ".join(reconsent) + ". These stay off until you "
                "read the new notice and give them again.",
                "Open Privacy and consent to read the changed notices",
            )
        else:
            self.reconsent_banner.hide()
        for feature in self.toggles:
            self._show_feature(feature, self.switches.is_on(feature))

    def _toggled(self, feature: str, on: bool) -> None:
        if not on:
            self.switches.turn_off(feature)
            return
        missing = self.switches.missing(feature)
        if missing:
            # Off while its permission is asked: a switch looks on only once it is on
            # (issue 13, defect 2); turning it on below shows it on.
            self._show_feature(feature, False)
            if not ask_for_purposes(self.gate, missing, via="meeting_toolbar", parent=self):
                return
        try:
            self.switches.turn_on(feature)
        except ConsentRequired:  # withdrawn meanwhile (another window, the CLI)
            self._show_feature(feature, False)

    def _show_feature(self, feature: str, on: bool) -> None:
        button = self.toggles[feature]
        if button.isChecked() != on:
            button.blockSignals(True)
            button.setChecked(on)
            button.blockSignals(False)
        missing = self.switches.missing(feature)
        state = "on" if on else "off"
        if missing and not on:
            state += "; needs permission: " + ", ".join(missing)
        button.setAccessibleDescription(f"{DESCRIPTIONS[feature]} Now {state}.")
        if feature == "noise_suppression":
            self.audio.set_noise_controls_enabled(on)
        self._show_start_plan()

    def _show_start_plan(self) -> None:
        plan = start_plan(f for f in self.toggles if self.switches.is_on(f))
        self.start_plan.setText(plan)
        self.start_plan.setAccessibleName(plan)
        self.start_plan.setVisible(not self.controller.running)
        self.meeting_button.setAccessibleDescription(
            plan if not self.controller.running else "End the meeting")

    # -- the meeting -----------------------------------------------------------------------
    def _meeting_clicked(self) -> None:
        if self.controller.running:
            self.controller.end()
        else:
            self.captions.clear()
            self.problem_banner.hide()
            self.controller.start()

    def _show_meeting_state(self) -> None:
        running = self.controller.running
        ending = self.controller.ending
        state = self.controller.state()
        self.meeting_button.setText("End meeting" if running else "Start meeting")
        self.meeting_button.setAccessibleName(self.meeting_button.text())
        self._follow_timer(running)
        # Never disabled while a final pass runs: the next meeting can start (defect 11).
        if not running and ending and self.controller.last is not None and \
                self.meeting_status.text().startswith("Meeting in progress"):
            self.meeting_status.setText(
                "Meeting ended. Its live captions are shown until the final transcript "
                "replaces them.")
        if running:
            parts = []
            muted = state.sources["microphone"].muted
            parts.append("microphone muted" if state.capturing and muted
                         else "microphone on" if state.capturing else "microphone off")
            if state.captions == "loading":
                parts.append("loading the speech model…")
            if state.storing:
                parts.append("transcript kept on this device")
            self.meeting_status.setText("Meeting in progress: " + ", ".join(parts) + ".")
        elif not ending:
            self.meeting_status.setText(
                self.meeting_status.text() if self.controller.last else "No meeting in progress."
            )
        self.meeting_status.setAccessibleName(self.meeting_status.text())
        others = running and state.others_captioned
        self.others_indicator.setVisible(others)
        self.objected_button.setVisible(others)
        self.audio.set_others_visible(running and state.sources["system"].capturing)
        if self._continuing and not state.device_lost:
            self._continuing = False
            self.problem_banner.hide()
        self.set_ai_activity(state.ai_activity() if running else "")
        # the compact caption window shows nothing once captions are off (as _caption drops them)
        self.captions.set_live(running and any(
            s.captions == "on" for s in state.sources.values()))
        self._show_start_plan()

    def _follow_timer(self, running: bool) -> None:
        if running and self._meeting_began is None:
            self._meeting_began = self.clock()
            self._timer_tick.start()
        elif not running and self._meeting_began is not None:
            self._meeting_began = None
            self._timer_tick.stop()
        self._show_elapsed()

    def _show_elapsed(self) -> None:
        began = self._meeting_began
        if began is None:
            self.meeting_timer.hide()
            return
        seconds = self.clock() - began
        self.meeting_timer.setText(elapsed_text(seconds))
        self.meeting_timer.setAccessibleName(elapsed_name(seconds))
        self.meeting_timer.show()

    def _caption(self, kind: str, segment: Segment) -> None:
        # Captions reach this thread queued: one sent just before the user withdrew consent (or
        # turned captions off) may arrive just after. Nothing may appear once they said no.
        state = self.controller.state().sources[segment.source or "microphone"]
        if state.captions != "on":
            return
        if kind == "final":
            self.captions.add_final(segment)
        elif kind == "gap":
            self.captions.add_gap(segment)
        else:
            self.captions.set_partial(segment)

    def _ending_progress(self, meeting: object, name: str, fraction: float) -> None:
        self._final_passes[id(meeting)] = progress_text(name, fraction)
        self._show_final_passes()

    def _show_final_passes(self) -> None:
        text = "\n".join(self._final_passes.values())
        self.final_pass_status.setText(text)
        self.final_pass_status.setAccessibleName(text)
        self.final_pass_status.setVisible(bool(text))

    def show_transcript(self, transcript: list[Segment]) -> None:
        """The ended meeting's transcript as it now reads (after a correction, say)."""
        self.captions.clear()
        for segment in transcript:
            self.captions.add_final(segment)

    def _ended(self, meeting: object, transcript: list[Segment]) -> None:
        self._final_passes.pop(id(meeting), None)
        self._show_final_passes()
        if meeting is not self.controller.last or self.controller.running:
            # the next meeting has begun: its captions stay; the ended one is in History
            self._show_meeting_state()
            return
        if transcript:
            self.show_transcript(transcript)
        if self.controller.last is not None and self.controller.last.saved:
            text = "Meeting ended. Its transcript is kept, encrypted, on this device."
        elif transcript:
            text = (
                "Meeting ended. Its transcript is only in memory: turn on Keep transcript "
                "before the next meeting, or it is discarded when Candor closes."
            )
        else:
            text = "Meeting ended. Nothing was transcribed."
        self.meeting_status.setText(text)
        self._show_meeting_state()

    def _participants_told(self) -> None:
        self.participants_banner.hide()
        self.controller.confirm_participants()

    def _copy_announcement(self) -> None:
        from PySide6.QtGui import QGuiApplication

        QGuiApplication.clipboard().setText(self._announcement)

    def _problem(self, kind: str, message: str) -> None:
        if kind == "participants":
            self._announcement = message
            self.participants_banner.show_message(
                "Before the others are captioned, tell them, for example in the call's chat: "
                f"\u201c{message}\u201d",
                "Confirm that the other participants were told they are captioned",
            )
            return
        if kind == "objected":
            self.captions.clear()
            for segment in self.controller.captions_now():
                self.captions.add_final(segment)
        if kind == "device_lost":
            self.refresh_devices(rescan=False)
            self.problem_banner.action.show()
            self.problem_banner.show_message(
                f"{message} Everything said so far is kept. Pick a microphone above and continue.",
                "Continue the meeting with the microphone chosen above",
            )
        else:
            self.problem_banner.action.hide()
            self.problem_banner.show_message(message)

    def _continue_with_selected_device(self) -> None:
        # the switch happens on the meeting's thread; the banner goes once the state says so
        self._continuing = True
        self.controller.choose_device(self.audio.selected_device())

    def refresh_devices(self, rescan: bool = True) -> None:
        from app.audio import devices
        from app.audio.errors import AudioError

        try:
            found = devices.rescan() if rescan else devices.list_input_devices()
        except AudioError as err:
            self._problem("devices", str(err))
            return
        self.audio.set_devices(found, self.controller.device)

    def _learn_noise(self) -> None:
        if self.controller.learn_noise():
            self.meeting_status.setText("Learning the room's noise: stay quiet for 3 seconds…")
        else:
            self._problem(
                "noise", "Start a meeting with noise suppression on to learn the room's noise."
            )

    def set_ai_activity(self, text: str) -> None:
        """Show what on-device AI is processing now ("" hides the indicator)."""
        if text == self._ai_activity:
            return
        self._ai_activity = text
        self.ai_indicator.setVisible(bool(text))
        self.ai_indicator.setText(f"● {text}" if text else "")
        self.ai_indicator.setAccessibleName(f"{text}. Open Privacy and consent" if text else "")
        self.ai_activity_changed.emit(text)
