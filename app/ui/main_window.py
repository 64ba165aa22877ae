"""The main window: the meeting view, the way to Privacy & consent, and a status bar."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QToolBar

from app.consent import ConsentGate, open_gate
from app.meeting.features import FeatureSwitches
from app.settings import Settings
from app.ui.consent_panel import ConsentPanel
from app.ui.gate_bridge import GateBridge
from app.ui.meeting_view import MeetingView

WINDOW_TITLE = "Candor"
IDLE_STATUS = "Nothing is running. Candor processes nothing until you allow it, and only here."


class MainWindow(QMainWindow):
    consent_panel_requested = Signal()

    def __init__(self, gate: ConsentGate | None = None, settings: Settings | None = None) -> None:
        super().__init__()
        self.gate = gate or open_gate()
        self.settings = settings or Settings()
        self.bridge = GateBridge(self.gate, self)
        self.switches = FeatureSwitches(self.gate)
        self.consent_panel: ConsentPanel | None = None
        self.setWindowTitle(WINDOW_TITLE)
        self.resize(960, 640)

        self.consent_action = QAction("Privacy && consent…", self)
        self.consent_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.consent_action.setToolTip("See, give and withdraw every permission Candor uses")
        self.consent_action.triggered.connect(self.consent_panel_requested)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.quit_action)
        privacy_menu = self.menuBar().addMenu("&Privacy")
        privacy_menu.addAction(self.consent_action)

        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("main_toolbar")
        toolbar.addAction(self.consent_action)
        self.addToolBar(toolbar)

        self.meeting_view = MeetingView(self.gate, self.bridge, self.switches, self.settings, self)
        self.meeting_area = self.meeting_view
        self.meeting_view.consent_panel_requested.connect(self.consent_panel_requested)
        self.meeting_view.ai_activity_changed.connect(self._show_ai_activity)
        self.setCentralWidget(self.meeting_view)
        self.consent_panel_requested.connect(self.open_consent_panel)

        self.statusBar().showMessage(IDLE_STATUS)
        # Withdrawals made elsewhere (another window, `candor consent revoke`) stop work here too.
        self.gate.start_watching()

    def open_consent_panel(self) -> ConsentPanel:
        if self.consent_panel is None:
            self.consent_panel = ConsentPanel(self.gate, self.bridge, self)
        self.consent_panel.refresh()
        self.consent_panel.show()
        self.consent_panel.raise_()
        self.consent_panel.activateWindow()
        return self.consent_panel

    def _show_ai_activity(self, text: str) -> None:
        self.setWindowTitle(f"{WINDOW_TITLE} — ● {text}" if text else WINDOW_TITLE)
        self.statusBar().showMessage(f"● {text}" if text else IDLE_STATUS)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.switches.close()
        self.bridge.detach()
        self.gate.stop_watching()
        super().closeEvent(event)
