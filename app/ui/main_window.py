"""The main window: a shell of named pages (Meeting, History, Privacy & consent, What Candor
holds, Settings; app.ui.pages), the menus, and a status bar that says in a sentence what runs.

Every page follows the state it shows at once: a withdrawal, a deletion, an erase or a save
re-reads what each page displays (issue 13, defect 4).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from app.consent import ConsentGate, open_gate
from app.meeting.binding import WindowMeeting
from app.meeting.features import FeatureSwitches
from app.settings import Settings
from app.storage import InstanceLock, MeetingStore, UnknownMeeting, open_store
from app.ui.confirm import confirm_destructive
from app.ui.consent_dialog import ask_for_purposes
from app.ui.consent_panel import ConsentPanel, ConsentTab
from app.ui.consent_review_view import ConsentReview
from app.ui.contribution_dialog import ContributionDialog, open_contribution_dialog
from app.ui.elided_label import ElidedLabel
from app.ui.file_transcription import VIA as FILE_TRANSCRIPTION_VIA
from app.ui.file_transcription import FileTranscriptionWindow
from app.ui.gate_bridge import GateBridge
from app.ui.meeting_controller import MeetingController
from app.ui.meeting_view import MeetingView
from app.ui.models_page import ModelsPage
from app.ui.page_frame import fitted
from app.ui.pages import PAGE_BY_ID, PAGES, PageId
from app.ui.settings_page import SettingsPage, noise_strength
from app.ui.shell import Shell
from app.ui.status_text import IDLE, status_sentence
from app.ui.storage_ui import StorageUi
from app.ui.theme import apply_saved_theme
from app.ui.transcript_editor import TranscriptEditor
from app.ui.transcript_save import (
    PathChooser,
    ask_transcript_path,
    file_stem,
    save_transcript_as,
)
from app.ui.window_storage import WindowStorage

WINDOW_TITLE = "Candor"
IDLE_STATUS = IDLE
ERASED_NOTICE = "erased_elsewhere"
ERASED_TEXT = ("All data was erased from another Candor window or command: the meeting and its "
               "captions are gone, and every permission is back to not given.")
# Qt adds " — Candor" (the display name) to a title that does not already end with it, so the
# name goes last, once: "● Transcribing on this device — Candor".
TITLE_SEPARATOR = " — "
MIN_WIDTH, MIN_HEIGHT = 640, 480  # the smallest size every page was checked at (tests/ui)
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
        self._ai_text = ""
        self.setWindowTitle(WINDOW_TITLE)
        self.setMinimumSize(MIN_WIDTH, MIN_HEIGHT)
        self.resize(1000, 680)
        apply_saved_theme(self.settings)

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
        self.correct_transcript_action = QAction("&Correct transcript…", self)
        self.correct_transcript_action.setToolTip(
            "Correct the last meeting's transcript, segment by segment")
        self.correct_transcript_action.triggered.connect(self.correct_ended_meeting)
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
        file_menu.addAction(self.correct_transcript_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        privacy_menu = self.menuBar().addMenu("&Privacy")
        privacy_menu.addAction(self.consent_action)
        self.privacy_menu = privacy_menu
        self.shell = Shell(self)

        # The store is looked up when each meeting starts: erasing everything replaces it.
        self.meeting = MeetingController(
            self.gate, self.switches, store_provider=lambda: self.storage.store, parent=self
        )
        self.meeting_view = MeetingView(
            self.gate, self.bridge, self.switches, self.settings, self.meeting, self
        )
        self.meeting_area = self.meeting_view
        # The AI indicator and the meeting's consent buttons lead to the permissions (defect 13).
        self.meeting_view.consent_panel_requested.connect(self.consent_panel_requested)
        self.meeting_view.ai_activity_changed.connect(self._show_ai_activity)
        self.meeting_view.correct_requested.connect(self.correct_ended_meeting)
        self.consent_panel_requested.connect(lambda: self.open_consent_panel("permissions"))

        self.status_line = ElidedLabel(IDLE_STATUS, self)
        self.status_line.setObjectName("status_line")
        self.status_line.setAccessibleName("What Candor is doing")
        self.statusBar().addWidget(self.status_line, 3)

        # --- stored meetings (issue 7): history, What Candor holds, notices, retention -------
        # The meeting session calls `self.storage.store` at each meeting's start (erasing
        # everything replaces the store) and `self.storage.notify_changed()` once it is stored.
        self.storage = WindowStorage(store or open_store(), self.gate, lock=lock, parent=self)
        self.storage_ui = StorageUi(self, self.storage, self.bridge,
                                    privacy_menu=self.privacy_menu, go_to=self.show_page)
        self.history_view = self.storage_ui.history
        self.share_action = QAction("Share anonymised &corrections…", self)
        self.share_action.setToolTip(
            "Preview and save an anonymised, aggregated file of your corrections; Candor never "
            "sends it")
        self.share_action.triggered.connect(self.share_corrections)
        self.privacy_menu.addAction(self.share_action)
        self.contribution_dialog: ContributionDialog | None = None
        # Withdraw-and-delete goes through the open store, so a meeting being recorded under
        # the withdrawn consent stops being stored at once.
        self.consent_panel = ConsentPanel(
            self.gate, self.bridge,
            count_data=self.storage.count_for_purpose,
            delete_data=self.storage.delete_for_purpose,
            describe_data=self.storage.describe_for_purpose,
        )
        self.settings_page = SettingsPage(self.settings, self.storage)
        self.settings_page.noise_strength_chosen.connect(self.meeting.set_noise_strength)
        self.settings_page.models_requested.connect(self.open_models_page)
        self.meeting.set_noise_strength(noise_strength(self.settings))
        self.storage_ui.transparency.retention_requested.connect(
            lambda: self.show_page("settings"))
        pages: dict[PageId, QWidget] = {
            "meeting": self.meeting_view,
            "history": self.history_view,
            "privacy": self.consent_panel,
            "holdings": self.storage_ui.transparency,
            "settings": self.settings_page,
        }
        go_menu = self.menuBar().addMenu("&Go")
        self.go_menu = go_menu
        self.page_actions: dict[PageId, QAction] = {}
        self.pages = pages
        for spec in PAGES:
            self.shell.add_page(spec, fitted(pages[spec.id]))
            action = QAction(spec.title.replace("&", "&&"), self)
            action.setShortcut(QKeySequence(spec.shortcut))
            action.setToolTip(spec.description)
            action.triggered.connect(lambda _c=False, page=spec.id: self.show_page(page))
            go_menu.addAction(action)
            self.page_actions[spec.id] = action
        go_menu.addSeparator()
        go_menu.addAction(self.models_action)
        self.shell.page_shown.connect(self._page_shown)
        self.setCentralWidget(self.shell)
        self.show_page("meeting")
        # Every page re-reads at once whatever changed what it shows.
        self.storage.changed.connect(self.consent_panel.refresh)
        self.storage.changed.connect(self._follow_stored_meeting)
        self.bridge.changed.connect(self._follow_stored_meeting)
        self.meeting.state_changed.connect(self._show_status)
        self.consent_review = ConsentReview(
            self.gate, self.bridge, self.settings, self.storage_ui.notices,
            self.open_consent_panel, clock=lambda: self.storage.clock(), parent=self)
        self.consent_review.refresh()
        # True while a meeting's transcript exists only in memory.
        self.has_unsaved_transcript: Callable[[], bool] = self.meeting.has_unsaved_transcript
        self.meeting.ended.connect(lambda *_ended: self.storage.notify_changed())
        self.meeting.ended.connect(self._meeting_ended)
        self.meeting.state_changed.connect(self._update_save_transcript)
        self._update_save_transcript()
        self._close_confirmed = False
        self._close_when_finished = False
        self._follows_unsaved_corrections = False
        self.storage.finishing_meetings = self.meeting.finishing_meeting_ids
        self.storage.abandon_finishing = self._abandon_final_passes
        self.storage.start()
        self.storage_ui.privacy_checks.start()  # in the background: the window is not held up
        # --- end stored meetings ----------------------------------------------------------

        # Withdrawals made elsewhere (another window, `candor consent revoke`) stop work here too.
        self.bridge.withdrawn.connect(self._erased_elsewhere)
        self.gate.start_watching()

    # -- pages -----------------------------------------------------------------------------
    def show_page(self, page: PageId) -> QWidget:
        self.shell.show_page(page)
        return self.pages[page]

    def _page_shown(self, page: str) -> None:
        if page == "settings":
            self.settings_page.refresh()
        self._show_title()

    def open_consent_panel(self, tab: ConsentTab = "permissions") -> ConsentPanel:
        self.show_page("privacy")
        self.consent_panel.show_tab(tab)
        self.consent_panel.refresh()
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

    def _show_title(self) -> None:
        parts = []
        if self._ai_text:
            parts.append(f"● {self._ai_text}")
        page = self.shell.current
        if page is not None and page != "meeting":
            parts.append(PAGE_BY_ID[page].title)
        self.setWindowTitle(TITLE_SEPARATOR.join([*parts, WINDOW_TITLE]))

    def _show_status(self) -> None:
        state = self.meeting.state()
        text = status_sentence(running=self.meeting.running, ending=self.meeting.ending,
                               capturing=state.capturing, ai_activity=self._ai_text,
                               muted=state.sources["microphone"].muted)
        self.status_line.setText(text)
        self.status_line.setAccessibleName(f"What Candor is doing: {text}")

    def _follow_stored_meeting(self) -> None:
        """The last meeting's stored transcript was deleted (withdraw and delete, the history,
        erase everything, the CLI): the meeting page no longer shows it nor says it is kept,
        and its copy in memory goes with it."""
        last = self.meeting.last
        if last is None or self.meeting.ending or not last.saved or not self.storage.is_open:
            return
        meeting_id = last.state.stored_meeting_id
        if meeting_id is None:
            return
        try:
            self.storage.store.summary(meeting_id)
            return
        except UnknownMeeting:
            pass
        self.meeting.last = None
        self.meeting_view.captions.clear()
        self.meeting_view.meeting_status.setText(
            "Meeting ended. Its transcript was deleted; nothing of it is kept.")
        self.meeting_view.meeting_status.setAccessibleName(
            self.meeting_view.meeting_status.text())
        self._update_save_transcript()

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

    def _abandon_final_passes(self) -> None:
        """Everything is being erased: the final passes still running stop and keep nothing;
        an ended meeting's live captions, shown until its final transcript, go too."""
        was_shown = self.meeting.last
        abandoned = self.meeting.abandon_endings()
        if not abandoned or self.meeting.running or was_shown not in abandoned:
            return
        self.meeting_view.captions.clear()
        self.meeting_view.meeting_status.setText(
            "Meeting ended. Everything was erased; nothing of it is kept.")
        self.meeting_view.meeting_status.setAccessibleName(
            self.meeting_view.meeting_status.text())
        self._update_save_transcript()

    def _erased_elsewhere(self, _purpose: str) -> None:
        """Everything was erased by another Candor: the gate has stopped all work already; end
        the meeting, forget its transcript (it was erased too) and say what happened."""
        shown = ERASED_NOTICE in self.storage_ui.notices.notices
        if self.gate.ended_elsewhere != "erased" or shown:
            return
        if self.meeting.running:
            self.meeting.end(final_pass=False)
        # Never waited for: what is still ending (this meeting's end, a final pass in the
        # background) stops and keeps nothing.
        self.meeting.abandon_endings()
        self.meeting.last = None
        self.meeting_view.captions.clear()
        self._update_save_transcript()
        self.storage_ui.notices.set_notice(ERASED_NOTICE, ERASED_TEXT)
        self.storage.notify_changed()
        self.status_line.setText(ERASED_TEXT)
        self.status_line.setAccessibleName(f"What Candor is doing: {ERASED_TEXT}")
        self.statusBar().showMessage(ERASED_TEXT)

    def _ended_meeting(self) -> WindowMeeting | None:
        last = self.meeting.last
        if self.meeting.running or self.meeting.ending or last is None:
            return None
        return last if last.ended_transcript() else None

    def _meeting_ended(self, _meeting: object, _transcript: object) -> None:
        # `ended` arrives once the meeting no longer counts as ending (app/meeting/endings.py)
        self._update_save_transcript()
        self._show_status()
        if self._close_when_finished and not self.meeting.ending:
            self.close()

    def _update_save_transcript(self) -> None:
        ended = self._ended_meeting()
        self.save_transcript_action.setEnabled(ended is not None)
        self.correct_transcript_action.setEnabled(ended is not None)
        self.meeting_view.correct_button.setVisible(ended is not None)
        editor = self.storage_ui.editor
        if editor is not None and editor.unsaved is not None and (
                ended is None or ended.saved or editor.unsaved is not self._edits_of(ended)):
            # what it corrects is gone (erased, deleted, or a new meeting began)
            self.storage_ui.close_unsaved_editor()

    @staticmethod
    def _edits_of(meeting: WindowMeeting) -> object:
        from app.storage.models import MeetingInProgress

        try:
            return meeting.transcript_edits()
        except MeetingInProgress:
            return None

    def correct_ended_meeting(self) -> TranscriptEditor | None:
        """Open the editor on the meeting just ended: its stored transcript when it was kept,
        else the transcript in memory (its corrections are what Save transcript as… writes)."""
        from app.storage.models import MeetingInProgress

        meeting = self._ended_meeting()
        if meeting is None:
            return None
        stored = meeting.state.stored_meeting_id
        if meeting.saved and stored is not None:
            return self.storage_ui.open_editor(stored)
        try:
            edits = meeting.transcript_edits()
        except MeetingInProgress as err:
            self.statusBar().showMessage(f"Not yet: {err}.", 10000)
            return None
        editor = self.storage_ui.open_unsaved_editor(
            edits, meeting.title or "The meeting just ended")
        if not self._follows_unsaved_corrections:
            editor.corrected.connect(self._unsaved_corrected)
            self._follows_unsaved_corrections = True
        return editor

    def _unsaved_corrected(self, meeting_id: str) -> None:
        ended = self._ended_meeting()
        if meeting_id or ended is None or ended.saved:
            return
        self.meeting_view.show_transcript(ended.ended_transcript())

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
            # The meeting page said it would be discarded: it no longer is (defect 4).
            text = f"Meeting ended. Its transcript was saved to {saved}."
            self.meeting_view.meeting_status.setText(text)
            self.meeting_view.meeting_status.setAccessibleName(text)
            self.statusBar().showMessage(f"Saved the meeting's transcript to {saved}.", 10000)
        return saved

    def _show_ai_activity(self, text: str) -> None:
        self._ai_text = text
        self._show_title()
        self._show_status()

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

    def confirm_close_while_finishing(self) -> bool:
        """Asked on closing while a final transcript is still being made; the safe choice,
        the default, is to wait for it and close then."""
        names = ", ".join(e.name for e in self.meeting.endings.running()) or "the meeting"
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Close Candor")
        box.setText(f"Candor is still making the final transcript of {names}.")
        box.setInformativeText("Close Candor once it is done (it is then stored as usual), or "
                               "keep Candor open.")
        wait = box.addButton("Close when done", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep Candor open", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(wait)
        box.exec()
        return box.clickedButton() is wait

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.meeting.running:
            # Closing ends the meeting at once: the microphone closes, live captions stop, and
            # what was captioned so far is what is kept (or asked about, below).
            self.meeting.end(final_pass=False)
        if self.meeting.ending and not self.meeting.wait_ended(0.5):
            # Never cut a final pass short, never block on it: close once it is done.
            event.ignore()
            self._close_when_finished = self.confirm_close_while_finishing()
            if self._close_when_finished:
                self.statusBar().showMessage(
                    "Candor closes once the final transcript is made.")
            return
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
