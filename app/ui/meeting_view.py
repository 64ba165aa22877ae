"""The meeting view: feature toggles that ask for consent, the AI indicator, and banners."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.consent import RECONSENT_NEEDED, ConsentGate, ConsentRequired
from app.meeting.features import FEATURES, LABELS, FeatureSwitches
from app.settings import Settings
from app.ui.consent_dialog import ask_for_purposes
from app.ui.gate_bridge import GateBridge

DESCRIPTIONS = {
    "microphone": "Capture your microphone for this meeting. Asks for permission the first time.",
    "noise_suppression": "Remove background noise on this device. Asks for permission first.",
    "live_captions": "Show live captions, transcribed on this device. Asks for permission first.",
    "save_transcript": "Keep this meeting's transcript, encrypted on this device.",
}


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
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.panel_button)
        buttons.addWidget(self.ok_button)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(buttons)


class MeetingView(QWidget):
    consent_panel_requested = Signal()
    ai_activity_changed = Signal(str)  # "" when no on-device AI is processing
    _feature_changed = Signal(str, bool)  # from any thread to the GUI thread

    def __init__(
        self,
        gate: ConsentGate,
        bridge: GateBridge,
        switches: FeatureSwitches,
        settings: Settings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.gate = gate
        self.switches = switches
        self.settings = settings
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

        self.reconsent_banner = QFrame(self)
        self.reconsent_banner.setObjectName("reconsent_banner")
        self.reconsent_banner.setStyleSheet("background: #fff4ce; color: #3b2f00;")
        self.reconsent_text = QLabel(self.reconsent_banner)
        self.reconsent_text.setWordWrap(True)
        self.reconsent_button = QPushButton("Review…", self.reconsent_banner)
        self.reconsent_button.setAccessibleName("Review changed notices")
        self.reconsent_button.setAccessibleDescription("Open Privacy and consent")
        self.reconsent_button.clicked.connect(self.consent_panel_requested)
        banner_layout = QHBoxLayout(self.reconsent_banner)
        banner_layout.addWidget(self.reconsent_text, 1)
        banner_layout.addWidget(self.reconsent_button)

        self.toggles: dict[str, QPushButton] = {}
        toolbar = QHBoxLayout()
        for feature in FEATURES:
            button = QPushButton(LABELS[feature], self)
            button.setObjectName(f"toggle_{feature}")
            button.setCheckable(True)
            button.setAccessibleName(LABELS[feature])
            button.setAccessibleDescription(DESCRIPTIONS[feature])
            button.toggled.connect(lambda on, f=feature: self._toggled(f, on))
            toolbar.addWidget(button)
            self.toggles[feature] = button
        toolbar.addStretch(1)
        self.panel_button = QPushButton("Privacy && consent", self)
        self.panel_button.setObjectName("meeting_consent_button")
        self.panel_button.setAccessibleName("Privacy and consent")
        self.panel_button.setAccessibleDescription("See, give and withdraw every permission")
        self.panel_button.clicked.connect(self.consent_panel_requested)
        toolbar.addWidget(self.panel_button)

        self.body = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.ai_indicator)
        layout.addWidget(self.welcome)
        layout.addWidget(self.reconsent_banner)
        layout.addLayout(toolbar)
        layout.addLayout(self.body, 1)

        self._feature_changed.connect(self._show_feature)
        self._unsubscribe = switches.on_change(self._feature_changed.emit)
        bridge.changed.connect(self.refresh)
        self._ai_activity = ""
        self.refresh()

    def _dismiss_welcome(self) -> None:
        self.settings.set("welcome_dismissed", True)
        self.welcome.hide()

    def refresh(self) -> None:
        reconsent = [
            self.gate.notices.current(s.purpose).title
            for s in self.gate.states()
            if s.state == RECONSENT_NEEDED
        ]
        self.reconsent_banner.setVisible(bool(reconsent))
        self.reconsent_text.setText(
            "The notice changed for " + ", ".join(reconsent) + ". These stay off until you read "
            "the new notice and give them again."
        )
        self.reconsent_text.setAccessibleName(self.reconsent_text.text())
        for feature in self.toggles:
            self._show_feature(feature, self.switches.is_on(feature))

    def _toggled(self, feature: str, on: bool) -> None:
        if not on:
            self.switches.turn_off(feature)
            return
        missing = self.switches.missing(feature)
        if missing and not ask_for_purposes(self.gate, missing, via="meeting_toolbar", parent=self):
            self._show_feature(feature, False)
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

    def set_ai_activity(self, text: str) -> None:
        """Show what on-device AI is processing now ("" hides the indicator)."""
        if text == self._ai_activity:
            return
        self._ai_activity = text
        self.ai_indicator.setVisible(bool(text))
        self.ai_indicator.setText(f"● {text}" if text else "")
        self.ai_indicator.setAccessibleName(f"{text}. Open Privacy and consent" if text else "")
        self.ai_activity_changed.emit(text)
