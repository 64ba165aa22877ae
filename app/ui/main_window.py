"""The main window: the meeting view, the way to Privacy & consent, and a status bar."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox, QToolBar

from app.consent import ConsentGate, open_gate
from app.meeting.features import FeatureSwitches
from app.settings import Settings
from app.storage import InstanceLock, MeetingStore, open_store
from app.ui.consent_panel import ConsentPanel
from app.ui.gate_bridge import GateBridge
from app.ui.meeting_controller import MeetingController
from app.ui.meeting_view import MeetingView
from app.ui.storage_ui import StorageUi
from app.ui.window_storage import WindowStorage

WINDOW_TITLE = "Candor"
IDLE_STATUS = "Nothing is running. Candor processes nothing until you allow it, and only here."


class MainWindow(QMainWindow):
    consent_panel_requested = Signal()

    def __init__(
        self,
        gate: ConsentGate | None = None,
        settings: Settings | None = None,
        store: MeetingStore | None = None,
        *,
        lock: InstanceLock | None = None,
    ) -> None:
        """`store` (default: the data directory's, opened here) and `lock` (the instance lock,
        held) become the window's: closing it closes the store and releases the lock. With the
        lock the window also does the start-up upkeep (crash recovery, retention)."""
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
        self.privacy_menu = privacy_menu

        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("main_toolbar")
        toolbar.addAction(self.consent_action)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

        # The store is looked up when each meeting starts: erasing everything replaces it.
        self.meeting = MeetingController(
            self.gate, self.switches, store_provider=lambda: self.storage.store, parent=self
        )
        self.meeting_view = MeetingView(
            self.gate, self.bridge, self.switches, self.settings, self.meeting, self
        )
        self.meeting_area = self.meeting_view
        self.meeting_view.consent_panel_requested.connect(self.consent_panel_requested)
        self.meeting_view.ai_activity_changed.connect(self._show_ai_activity)
        self.setCentralWidget(self.meeting_view)
        self.consent_panel_requested.connect(self.open_consent_panel)

        self.statusBar().showMessage(IDLE_STATUS)

        # --- stored meetings (issue 7): history, What Candor holds, notices, retention -------
        # The meeting session calls `self.storage.store` at each meeting's start (erasing
        # everything replaces the store) and `self.storage.notify_changed()` once it is stored.
        self.storage = WindowStorage(store or open_store(), self.gate, lock=lock, parent=self)
        self.storage_ui = StorageUi(self, self.storage, self.bridge,
                                    privacy_menu=self.privacy_menu, toolbar=self.toolbar)
        self.history_view = self.storage_ui.history
        # True while a meeting's transcript exists only in memory.
        self.has_unsaved_transcript: Callable[[], bool] = self.meeting.has_unsaved_transcript
        self.meeting.ended.connect(lambda _transcript: self.storage.notify_changed())
        self._close_confirmed = False
        self.storage.start()
        # --- end stored meetings ----------------------------------------------------------

        # Withdrawals made elsewhere (another window, `candor consent revoke`) stop work here too.
        self.gate.start_watching()

    def open_consent_panel(self) -> ConsentPanel:
        if self.consent_panel is None:
            # Withdraw-and-delete goes through the open store, so a meeting being recorded
            # under the withdrawn consent stops being stored at once.
            self.consent_panel = ConsentPanel(
                self.gate, self.bridge, self,
                count_data=self.storage.count_for_purpose,
                delete_data=self.storage.delete_for_purpose,
            )
        self.consent_panel.refresh()
        self.consent_panel.show()
        self.consent_panel.raise_()
        self.consent_panel.activateWindow()
        return self.consent_panel

    def _show_ai_activity(self, text: str) -> None:
        self.setWindowTitle(f"{WINDOW_TITLE} — ● {text}" if text else WINDOW_TITLE)
        self.statusBar().showMessage(f"● {text}" if text else IDLE_STATUS)

    def confirm_discard_transcript(self) -> bool:
        """Asked on closing while a transcript exists only in memory."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Discard this meeting's transcript?",
            "This meeting's transcript exists only in memory: it was not stored on this "
            "device. Closing Candor discards it for good. To keep it, choose Cancel and save "
            "it first.",
            parent=self,
        )
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(None)
        box.exec()
        return box.clickedButton() is discard

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.meeting.running:
            # Closing ends the meeting at once: the microphone closes, live captions stop, and
            # what was captioned so far is what is kept (or asked about, below).
            self.meeting.end(final_pass=False)
        self.meeting.wait_ended()
        unsaved = not self._close_confirmed and self.has_unsaved_transcript()
        if unsaved and not self.confirm_discard_transcript():
            event.ignore()
            return
        self._close_confirmed = True
        self.storage.close()
        self.switches.close()
        self.bridge.detach()
        self.gate.stop_watching()
        super().closeEvent(event)
