"""The stored-data parts of the main window, attached in one place so main_window.py stays small:
the Meetings menu, the History and "What Candor holds" pages, notices the user must see (a
damaged database set aside, unreadable retention settings) and a discreet status-bar note of
what the retention clock erased.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.meeting.transcript_edits import TranscriptEdits
from app.privacy.results import PrivacyReport
from app.ui.confirm import confirm_destructive
from app.ui.elided_label import ElidedLabel
from app.ui.gate_bridge import GateBridge
from app.ui.history_view import HistoryView
from app.ui.pages import PageId
from app.ui.privacy_checks_view import PrivacyChecks, PrivacyChecksBox, attach, failure_note
from app.ui.theme import accents
from app.ui.transcript_editor import TranscriptEditor
from app.ui.transparency_view import TransparencyView
from app.ui.vocabulary_view import VocabularyView
from app.ui.window_storage import WindowStorage

SET_ASIDE_KEYS = ("recovery", "set_aside")  # notices about a damaged database set aside


class Notice(QFrame):
    dismissed = Signal(str)

    def __init__(self, key: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName("notice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.dismiss_button = QPushButton("Dismiss", self)
        self.dismiss_button.setAccessibleName("Dismiss notice")
        self.dismiss_button.clicked.connect(lambda: self.dismissed.emit(self.key))
        self.action_buttons: dict[str, QPushButton] = {}
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self.set_text(text)

    def add_action(self, label: str, description: str, callback: Callable[[], None]
                   ) -> QPushButton:
        """A button beside Dismiss that acts on what the notice says."""
        button = QPushButton(label, self)
        button.setAccessibleName(label)
        button.setAccessibleDescription(description)
        button.clicked.connect(callback)
        layout = self.layout()
        assert isinstance(layout, QHBoxLayout)
        layout.insertWidget(layout.count() - 1, button, 0, Qt.AlignmentFlag.AlignTop)
        self.action_buttons[label] = button
        return button

    def set_text(self, text: str) -> None:
        self.label.setText(text)
        self.setAccessibleName(text)
        self.dismiss_button.setAccessibleDescription(f"Hide this message: {text}")


class NoticeArea(QWidget):
    """Messages about stored data, one per key; a new message with the same key replaces the
    old one, an empty message removes it."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("storage_notices")
        self.setAccessibleName("Notices about stored data")
        colours = accents(self.palette())
        self.setStyleSheet(f"QFrame#notice {{ background: {colours.warning_background}; "
                           f"color: {colours.warning_text}; }}")
        self.notices: dict[str, Notice] = {}
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(4, 4, 4, 4)

    def set_notice(self, key: str, text: str) -> None:
        if not text:
            self.remove(key)
            return
        notice = self.notices.get(key)
        if notice is None:
            notice = Notice(key, text, self)
            notice.dismissed.connect(self.remove)
            self._layout.addWidget(notice)
            self.notices[key] = notice
        else:
            notice.set_text(text)
        self.changed.emit()

    def remove(self, key: str) -> None:
        notice = self.notices.pop(key, None)
        if notice is not None:
            notice.hide()
            notice.deleteLater()
            self.changed.emit()

    def texts(self) -> list[str]:
        return [n.label.text() for n in self.notices.values()]


class StorageUi(QObject):
    def __init__(
        self,
        window: QMainWindow,
        storage: WindowStorage,
        bridge: GateBridge,
        *,
        privacy_menu: QMenu,
        go_to: Callable[[PageId], QWidget],
    ) -> None:
        super().__init__(window)
        self.window = window
        self.storage = storage
        self.bridge = bridge
        self.go_to = go_to
        self.editor: TranscriptEditor | None = None
        self.editor_window: QWidget | None = None
        self.vocabulary: VocabularyView | None = None

        self.history_action = QAction("Meeting &history", window)
        self.history_action.setShortcut(QKeySequence("Ctrl+Shift+H"))
        self.history_action.setToolTip("Stored meetings: open, search, rename, export, delete")
        self.history_action.triggered.connect(self.show_history)
        self.search_action = QAction("&Search meetings…", window)
        self.search_action.setShortcut(QKeySequence.StandardKey.Find)
        self.search_action.setToolTip("Find words in every stored meeting")
        self.search_action.triggered.connect(self.search_meetings)
        self.holdings_action = QAction("What Candor &holds…", window)
        self.holdings_action.setShortcut(QKeySequence("Ctrl+Shift+D"))
        self.holdings_action.setToolTip(
            "Everything Candor stores, where, how protected and until when; export or erase it"
        )
        self.holdings_action.triggered.connect(self.open_transparency)
        self.learned_action = QAction("What Candor &learned…", window)
        self.learned_action.setToolTip(
            "The names and terms Candor learned from your corrections or you added; remove any"
        )
        self.learned_action.triggered.connect(self.open_vocabulary)

        self.meetings_menu = QMenu("&Meetings", window)
        self.meetings_menu.addAction(self.history_action)
        self.meetings_menu.addAction(self.search_action)
        self.meetings_menu.addSeparator()
        self.meetings_menu.addAction(self.holdings_action)
        window.menuBar().insertMenu(privacy_menu.menuAction(), self.meetings_menu)
        privacy_menu.addAction(self.holdings_action)
        privacy_menu.addAction(self.learned_action)

        self.history = HistoryView(storage)
        self.history.correct_requested.connect(self.open_editor)
        bridge.changed.connect(self.history.follow_consent)
        self.transparency = TransparencyView(storage, bridge)

        self.notices = NoticeArea()
        self.notice_dock = QDockWidget("Notices", window)
        self.notice_dock.setObjectName("notice_dock")
        self.notice_dock.setTitleBarWidget(QWidget(self.notice_dock))  # a banner, not a panel
        self.notice_dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.notice_dock.setAllowedAreas(Qt.DockWidgetArea.TopDockWidgetArea)
        self.notice_dock.setWidget(self.notices)
        window.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, self.notice_dock)
        self.notice_dock.hide()
        self.notices.changed.connect(self._fit_notices)

        self.status_note = ElidedLabel("", window)
        self.status_note.setObjectName("retention_status")
        self.status_note.setAccessibleName("Automatic erase")
        window.statusBar().addPermanentWidget(self.status_note, 1)

        storage.problem.connect(self._problem)
        storage.retention_erased.connect(self._retention_note)

        # The privacy self-check: started with the window (main_window), shown in What Candor
        # holds; a failure is also named in the status bar, a link to it.
        self.privacy_checks = PrivacyChecks(storage, self)
        self.privacy_box: PrivacyChecksBox = attach(self.transparency, self.privacy_checks)
        self.privacy_note = QLabel(window)
        self.privacy_note.setObjectName("privacy_check_status")
        self.privacy_note.setTextFormat(Qt.TextFormat.RichText)
        self.privacy_note.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.privacy_note.linkActivated.connect(lambda _link: self.open_transparency())
        self.privacy_note.hide()
        window.statusBar().addPermanentWidget(self.privacy_note)
        self.privacy_checks.finished.connect(self._privacy_checked)

    def _privacy_checked(self, report: object) -> None:
        if not isinstance(report, PrivacyReport):
            return
        text = failure_note(report)
        self.privacy_note.setText(f'⚠ <a href="holdings">{html.escape(text)}</a>' if text
                                  else "")
        self.privacy_note.setAccessibleName(text)
        self.privacy_note.setVisible(bool(text))

    def _problem(self, key: str, text: str) -> None:
        self.notices.set_notice(key, text)
        notice = self.notices.notices.get(key)
        if notice is None or key not in SET_ASIDE_KEYS or notice.action_buttons:
            return
        # A damaged database set aside: it is announced at every start until the user keeps or
        # erases it, so both are offered right here.
        notice.add_action("Keep it", "Keep the damaged database for recovery and stop this "
                          "reminder", self.storage.keep_set_aside)
        notice.add_action("Erase it…", "Erase the damaged database set aside, for good",
                          self._erase_set_aside)

    def _erase_set_aside(self) -> None:
        if confirm_destructive(
            self.window, "Erase the damaged database?",
            "The damaged meeting database set aside will be erased, with any meeting still in "
            "it. This cannot be undone.", "Erase",
        ):
            self.storage.erase_set_aside()

    def _fit_notices(self) -> None:
        self.notice_dock.setVisible(bool(self.notices.notices))
        if self.notices.notices:
            # Wrapped text asks for more height than it needs at the window's width; give the
            # banner exactly what its text takes, the rest stays with the meeting.
            width = max(self.window.width(), 400)
            height = self.notices.heightForWidth(width)
            if height > 0:
                self.window.resizeDocks([self.notice_dock], [height], Qt.Orientation.Vertical)

    def _retention_note(self, text: str) -> None:
        self.status_note.setText(text)
        self.status_note.setToolTip(
            f"{text}. Candor erases stored transcripts when their retention period ends "
            "(Settings sets it). Only counts are logged, never content."
        )
        self.status_note.setAccessibleName(f"Automatic erase: {text}")

    def show_history(self) -> HistoryView:
        self.go_to("history")
        self.history.refresh()
        self.history.meetings.setFocus()
        return self.history

    def search_meetings(self) -> HistoryView:
        self.show_history()
        self.history.search_box.setFocus()
        self.history.search_box.selectAll()
        return self.history

    def open_editor(self, meeting_id: str) -> TranscriptEditor:
        editor = self._editor()
        editor.open_meeting(meeting_id)
        return self._show_editor(editor)

    def open_unsaved_editor(self, edits: TranscriptEdits, title: str) -> TranscriptEditor:
        """Correct the meeting just ended that was not kept (in memory only)."""
        editor = self._editor()
        editor.open_unsaved(edits, title)
        return self._show_editor(editor)

    def close_unsaved_editor(self) -> None:
        """The unsaved transcript is gone (erased, or a new meeting replaced it)."""
        if self.editor is not None and self.editor.unsaved is not None \
                and self.editor_window is not None:
            self.editor_window.hide()
            self.editor.open_unsaved(TranscriptEdits([]), "")

    def _editor(self) -> TranscriptEditor:
        if self.editor is None or self.editor_window is None:
            self.editor_window = QWidget(self.window, Qt.WindowType.Window)
            self.editor_window.setWindowTitle("Correct transcript")
            self.editor = TranscriptEditor(self.storage, self.storage.gate, self.editor_window)
            layout = QVBoxLayout(self.editor_window)
            layout.addWidget(self.editor)
            self.editor_window.resize(760, 520)
        return self.editor

    def _show_editor(self, editor: TranscriptEditor) -> TranscriptEditor:
        assert self.editor_window is not None
        self.editor_window.show()
        self.editor_window.raise_()
        editor.table.setFocus()
        return editor

    def open_vocabulary(self) -> VocabularyView:
        if self.vocabulary is None:
            self.vocabulary = VocabularyView(self.storage, self.storage.gate, self.bridge,
                                             self.window)
        self.vocabulary.refresh()
        self.vocabulary.show()
        self.vocabulary.raise_()
        return self.vocabulary

    def open_transparency(self) -> TransparencyView:
        self.go_to("holdings")
        self.transparency.refresh()
        return self.transparency
