"""The main window: the meeting view, the way to Privacy & consent, and a status bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QToolBar, QVBoxLayout, QWidget

from app.consent import ConsentGate, open_gate
from app.meeting.binding import WindowMeeting
from app.meeting.features import FeatureSwitches
from app.settings import Settings
from app.storage import InstanceLock, MeetingStore, open_store
from app.ui.confirm import confirm_destructive
from app.ui.consent_dialog import ask_for_purposes
from app.ui.consent_panel import ConsentPanel
from app.ui.consent_review_view import ConsentReview
from app.ui.contribution_dialog import ContributionDialog, open_contribution_dialog
from app.ui.file_transcription import VIA as FILE_TRANSCRIPTION_VIA
from app.ui.file_transcription import FileTranscriptionWindow
from app.ui.gate_bridge import GateBridge
from app.ui.meeting_controller import MeetingController
from app.ui.meeting_view import MeetingView
from app.ui.models_page import ModelsPage
from app.ui.storage_ui import StorageUi
from app.ui.transcript_save import (
    PathChooser,
    ask_transcript_path,
    file_stem,
    save_transcript_as,
)
from app.ui.window_storage import WindowStorage

WINDOW_TITLE = "Candor"
IDLE_STATUS = "Nothing is running. Candor processes nothing until you allow it, and only here."
ERASED_NOTICE = "erased_elsewhere"
ERASED_TEXT = ("All data was erased from another Candor window or command: the meeting and its "
               "captions are gone, and every permission is back to not given.")
AUDIO_FILTER = (
    "Recordings (*.wav *.mp3 *.m4a *.ogg *.oga *.opus *.flac *.aac *.wma *.webm *.mp4 *.mkv "
    "*.mov);;All files (*)"
)


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

        self.transcribe_file_action = QAction("&Transcribe a file…", self)
        self.transcribe_file_action.setShortcut(QKeySequence("Ctrl+O"))
        self.transcribe_file_action.setToolTip(
            "Transcribe a recording on this device; nothing is stored unless you keep it"
        )
        self.transcribe_file_action.triggered.connect(self.transcribe_a_file)
        self.save_transcript_action = QAction("&Save transcript as…", self)
        self.save_transcript_action.setShortcut(QKeySequence.StandardKey.SaveAs)
        self.save_transcript_action.setToolTip(
            "Write the last meeting's transcript (kept only in memory) to a file"
        )
        self.save_transcript_action.triggered.connect(self.save_meeting_transcript)
        # Tests answer these instead of the platform's file dialogs.
        self.choose_audio_file: Callable[[], str] = self._ask_audio_file
        self.choose_transcript_path: PathChooser = self._ask_transcript_path
        self.file_transcription: FileTranscriptionWindow | None = None
        self.models_action = QAction("Speech &models…", self)
        self.models_action.setToolTip(
            "Download more accurate models, choose one for live captions and one for saved "
            "transcripts, test their speed here"
        )
        self.models_action.triggered.connect(self.open_models_page)
        self.models_window: QWidget | None = None
        self.models_page: ModelsPage | None = None

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.transcribe_file_action)
        file_menu.addAction(self.save_transcript_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        privacy_menu = self.menuBar().addMenu("&Privacy")
        privacy_menu.addAction(self.consent_action)
        self.privacy_menu = privacy_menu
        settings_menu = self.menuBar().addMenu("&Settings")
        settings_menu.addAction(self.models_action)

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
        self.share_action = QAction("Share anonymised &corrections…", self)
        self.share_action.setToolTip(
            "Preview and save an anonymised, aggregated file of your corrections; Candor never "
            "sends it")
        self.share_action.triggered.connect(self.share_corrections)
        self.privacy_menu.addAction(self.share_action)
        self.contribution_dialog: ContributionDialog | None = None
        self.consent_review = ConsentReview(
            self.gate, self.bridge, self.settings, self.storage_ui.notices,
            self.open_consent_panel, clock=lambda: self.storage.clock(), parent=self)
        self.consent_review.refresh()
        # True while a meeting's transcript exists only in memory.
        self.has_unsaved_transcript: Callable[[], bool] = self.meeting.has_unsaved_transcript
        self.meeting.ended.connect(lambda _transcript: self.storage.notify_changed())
        self.meeting.ended.connect(self._meeting_ended)
        self.meeting.state_changed.connect(self._update_save_transcript)
        self._update_save_transcript()
        self._close_confirmed = False
        self.storage.start()
        self.storage_ui.privacy_checks.start()  # in the background: the window is not held up
        # --- end stored meetings ----------------------------------------------------------

        # Withdrawals made elsewhere (another window, `candor consent revoke`) stop work here too.
        self.bridge.withdrawn.connect(self._erased_elsewhere)
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

    def open_models_page(self) -> ModelsPage:
        if self.models_window is None or self.models_page is None:
            self.models_window = QWidget(self, Qt.WindowType.Window)
            self.models_window.setWindowTitle("Speech models")
            self.models_page = ModelsPage(self.gate, self.models_window)
            layout = QVBoxLayout(self.models_window)
            layout.addWidget(self.models_page)
            self.models_window.resize(900, 480)
        self.models_page.refresh()
        self.models_window.show()
        self.models_window.raise_()
        return self.models_page

    def share_corrections(self) -> ContributionDialog:
        if self.contribution_dialog is not None:
            self.contribution_dialog.close()
            self.contribution_dialog.deleteLater()
        self.contribution_dialog = open_contribution_dialog(self.storage, self.gate, self)
        return self.contribution_dialog

    # -- transcribing a file, saving a transcript ----------------------------------------------
    def _ask_audio_file(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Transcribe a file", "", AUDIO_FILTER)
        return path

    def transcribe_a_file(self) -> FileTranscriptionWindow | None:
        """Ask for `transcription` if it is not given, then for a file, then transcribe it in
        the file window. None when the user declined or chose no file."""
        if self.file_transcription is not None and self.file_transcription.running:
            self.file_transcription.explain_busy()
            return self.file_transcription
        if not ask_for_purposes(self.gate, ["transcription"], via=FILE_TRANSCRIPTION_VIA,
                                parent=self):
            return None
        chosen = self.choose_audio_file()
        if not chosen:
            return None
        if self.file_transcription is None:
            self.file_transcription = FileTranscriptionWindow(self.gate, self.storage, self)
        self.file_transcription.start(Path(chosen))
        return self.file_transcription

    def _erased_elsewhere(self, _purpose: str) -> None:
        """Everything was erased by another Candor: the gate has stopped all work already; end
        the meeting, forget its transcript (it was erased too) and say what happened."""
        shown = ERASED_NOTICE in self.storage_ui.notices.notices
        if self.gate.ended_elsewhere != "erased" or shown:
            return
        if self.meeting.running:
            self.meeting.end(final_pass=False)
        self.meeting.wait_ended(5.0)
        self.meeting.last = None
        self.meeting_view.captions.clear()
        self._update_save_transcript()
        self.storage_ui.notices.set_notice(ERASED_NOTICE, ERASED_TEXT)
        self.storage.notify_changed()
        self.statusBar().showMessage(ERASED_TEXT)

    def _ended_meeting(self) -> WindowMeeting | None:
        last = self.meeting.last
        if self.meeting.running or self.meeting.ending or last is None:
            return None
        return last if last.ended_transcript() else None

    def _meeting_ended(self, _transcript: object) -> None:
        # `ended` is emitted just before the final-pass thread returns: let it return, so the
        # meeting no longer counts as ending.
        self.meeting.wait_ended(1.0)
        self._update_save_transcript()

    def _update_save_transcript(self) -> None:
        self.save_transcript_action.setEnabled(self._ended_meeting() is not None)

    def _ask_transcript_path(self, suggested: str) -> str:
        return ask_transcript_path(self, "Save transcript", suggested)

    def save_meeting_transcript(self) -> Path | None:
        """Write the ended meeting's transcript to a file the user chooses; afterwards closing
        no longer warns that it exists only in memory."""
        meeting = self._ended_meeting()
        if meeting is None:
            return None
        saved = save_transcript_as(self, "Save transcript",
                                   file_stem(meeting.title or "", "Meeting transcript"),
                                   self.choose_transcript_path, meeting.save_to_file)
        if saved is not None:
            self.statusBar().showMessage(f"Saved the meeting's transcript to {saved}.", 10000)
        return saved

    def _show_ai_activity(self, text: str) -> None:
        self.setWindowTitle(f"{WINDOW_TITLE} — ● {text}" if text else WINDOW_TITLE)
        self.statusBar().showMessage(f"● {text}" if text else IDLE_STATUS)

    def confirm_discard_transcript(self) -> bool:
        """Asked on closing while a transcript exists only in memory."""
        return confirm_destructive(
            self,
            "Discard this meeting's transcript?",
            "This meeting's transcript exists only in memory: it was not stored on this "
            "device. Closing Candor discards it for good. To keep it, choose Cancel and save "
            "it first.",
            "Discard",
        )

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
        if self.file_transcription is not None:
            self.file_transcription.shutdown()
        if self.models_page is not None:
            self.models_page.shutdown()
        self.storage.close()
        self.switches.close()
        self.bridge.detach()
        self.gate.stop_watching()
        super().closeEvent(event)
