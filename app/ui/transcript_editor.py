"""Correcting a meeting's transcript segment by segment, by mouse or keyboard alone: a stored
meeting's, or the one just ended that was not kept (held only in memory; its corrections are
what "Save transcript as…" writes).

Double-click a segment or press Enter to edit it; Enter stores the correction, Esc cancels it;
Ctrl+Z undoes the last correction made here. A corrected segment says so, and "what was heard"
shows the recogniser's words with one click to restore them. Each correction goes through
`app.vocabulary.corrections` (stored encrypted under `transcript_storage`; learned from only while
`vocabulary_learning` is given), and the editor says what was learned — or that nothing was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.consent import ConsentGate, ConsentRequired
from app.consent.purposes import VOCABULARY_LEARNING
from app.meeting.transcript_edits import TranscriptEdits
from app.segments import Segment
from app.storage import StorageError
from app.ui.storage_text import clock
from app.ui.window_storage import WindowStorage
from app.vocabulary.corrections import (
    CorrectionOutcome,
    correct_segment,
    correct_unsaved,
    restore_heard,
)

TIME, TEXT, STATE = range(3)


class _Shown(Protocol):
    """What the editor shows: a stored Meeting, or an unsaved transcript (_Unsaved)."""

    @property
    def title(self) -> str: ...
    @property
    def segments(self) -> list[Segment]: ...
    @property
    def heard(self) -> dict[int, str]: ...
    @property
    def damaged(self) -> tuple[int, ...]: ...


@dataclass(frozen=True)
class _Unsaved:
    edits: TranscriptEdits
    title: str
    damaged: tuple[int, ...] = ()  # nothing in memory was sealed, so nothing fails to open

    @property
    def segments(self) -> list[Segment]:
        return list(self.edits.segments)

    @property
    def heard(self) -> dict[int, str]:
        return dict(self.edits.heard)


@dataclass(frozen=True, slots=True)
class _Undo:
    index: int
    text: str  # the segment's text before the correction


class _SegmentTable(QTableWidget):
    """Enter edits the current segment (Qt's own key for it is F2, which nobody guesses)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if (event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and self.state() != QAbstractItemView.State.EditingState):
            current = self.currentIndex()
            if current.isValid():
                self.edit(self.model().index(current.row(), TEXT))
                return
        super().keyPressEvent(event)


class TranscriptEditor(QWidget):
    corrected = Signal(str)  # the meeting id, after each stored change

    def __init__(self, storage: WindowStorage, gate: ConsentGate,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript_editor")
        self.setAccessibleName("Correct transcript")
        self.storage = storage
        self.gate = gate
        self.meeting: _Shown | None = None
        self.meeting_id: str | None = None
        self._unsaved: _Unsaved | None = None  # the meeting just ended, not kept
        self._undo: list[_Undo] = []
        self._filling = False

        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.table = _SegmentTable(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Time", "Text", ""])
        self.table.setAccessibleName("Transcript segments")
        self.table.setAccessibleDescription(
            "One row per segment. Enter or double-click edits the text; Enter stores the "
            "correction, Esc cancels it; Ctrl+Z undoes the last correction."
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(TIME, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TEXT, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(STATE, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemChanged.connect(self._edited)
        self.table.itemSelectionChanged.connect(self._show_heard)

        self.heard = QLabel(self)
        self.heard.setWordWrap(True)
        self.heard.setTextFormat(Qt.TextFormat.PlainText)
        self.heard.setAccessibleName("What was heard")
        self.restore_button = QPushButton("&Restore what was heard", self)
        self.restore_button.setAutoDefault(False)
        self.restore_button.clicked.connect(self.restore_selected)
        self.undo_button = QPushButton("&Undo", self)
        self.undo_button.setAutoDefault(False)
        self.undo_button.setToolTip("Undo the last correction made here (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        QShortcut(QKeySequence.StandardKey.Undo, self, self.undo)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Correction status")

        buttons = QHBoxLayout()
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.undo_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.heard)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self._update_buttons()

    # ---- showing -------------------------------------------------------------------------
    def open_meeting(self, meeting_id: str) -> bool:
        if meeting_id != self.meeting_id or self._unsaved is not None:
            self._undo.clear()
        self._unsaved = None
        self.meeting_id = meeting_id
        try:
            self.meeting = self.storage.store.get(meeting_id)
        except StorageError as err:
            self.meeting = None
            self.title.setText("This meeting cannot be corrected")
            self.status.setText(str(err))
            self.table.setRowCount(0)
            self._update_buttons()
            return False
        self.title.setText(f"Correcting “{self.meeting.title}”. Enter or double-click a segment "
                           "to edit it.")
        self._fill()
        return True

    def open_unsaved(self, edits: TranscriptEdits, title: str) -> None:
        """Correct the meeting just ended that was not kept: in memory only."""
        if self._unsaved is None or self._unsaved.edits is not edits:
            self._undo.clear()
        self.meeting_id = None
        self._unsaved = self.meeting = _Unsaved(edits, title)
        self.title.setText(f"Correcting “{title}” (not kept: corrections stay in memory, "
                           "for Save transcript as…). Enter or double-click a segment to edit "
                           "it.")
        self._fill()

    @property
    def unsaved(self) -> TranscriptEdits | None:
        return None if self._unsaved is None else self._unsaved.edits

    def _reopen(self) -> None:
        if self._unsaved is not None:
            self.open_unsaved(self._unsaved.edits, self._unsaved.title)
        elif self.meeting_id is not None:
            self.open_meeting(self.meeting_id)

    def _fill(self) -> None:
        meeting = self.meeting
        if meeting is None:
            return
        row = max(self.table.currentRow(), 0)
        self._filling = True
        try:
            self.table.setRowCount(len(meeting.segments))
            for index, seg in enumerate(meeting.segments):
                time_item = QTableWidgetItem(clock(seg.start))
                time_item.setFlags(time_item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                text_item = QTableWidgetItem(seg.text)
                state = ""
                if index in meeting.damaged:
                    text_item.setFlags(text_item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    state = "damaged"
                elif index in meeting.heard:
                    state = "corrected" if seg.text else "emptied"
                    text_item.setToolTip(f"Heard: {meeting.heard[index]}")
                state_item = QTableWidgetItem(state)
                state_item.setFlags(state_item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                for column, item in ((TIME, time_item), (TEXT, text_item), (STATE, state_item)):
                    self.table.setItem(index, column, item)
            self.table.resizeRowsToContents()
        finally:
            self._filling = False
        if meeting.segments:
            self.table.setCurrentCell(min(row, len(meeting.segments) - 1), TEXT)
        self._show_heard()

    def _selected_index(self) -> int | None:
        row = self.table.currentRow()
        if self.meeting is None or not 0 <= row < len(self.meeting.segments):
            return None
        return row

    def _show_heard(self) -> None:
        index = self._selected_index()
        heard = self.meeting.heard.get(index) if self.meeting and index is not None else None
        self.heard.setText(f"What was heard: {heard}" if heard is not None else "")
        self._update_buttons()

    def _update_buttons(self) -> None:
        index = self._selected_index()
        self.restore_button.setEnabled(
            self.meeting is not None and index is not None and index in self.meeting.heard)
        self.undo_button.setEnabled(bool(self._undo))

    # ---- changing ------------------------------------------------------------------------
    def _edited(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != TEXT or self.meeting is None:
            return
        index = item.row()
        before = self.meeting.segments[index].text
        text = item.text().strip()
        if text == before:
            return
        self._store(index, text, undo=_Undo(index, before))

    def restore_selected(self) -> None:
        index = self._selected_index()
        if index is None or self.meeting is None or index not in self.meeting.heard:
            return
        before = self.meeting.segments[index].text
        self._store(index, None, undo=_Undo(index, before))

    def undo(self) -> bool:
        if not self._undo or self.meeting is None:
            return False
        last = self._undo.pop()
        done = self._store(last.index, last.text, undo=None)
        if not done:
            self._undo.append(last)
        self._update_buttons()
        return done

    def _store(self, index: int, text: str | None, *, undo: _Undo | None) -> bool:
        """Store `text` (None: what was heard) for segment `index`; say what happened."""
        from app.storage.models import MeetingInProgress

        if self.meeting is None:
            return False
        heard = self.meeting.heard.get(index)
        if text is not None and heard is not None and text == heard:
            text = None
        try:
            outcome = self._change(index, text)
        except ConsentRequired as err:
            needed = ", ".join(f"“{self._title(p)}”" for p in err.purposes)
            self.status.setText(f"The correction was not stored: it needs {needed}, which is not "
                                "given (Privacy & consent). Nothing changed.")
            self._fill()
            return False
        except MeetingInProgress as err:
            self.status.setText(f"Not yet: {err}.")
            self._fill()
            return False
        except StorageError as err:
            self.status.setText(f"The correction was not stored: {err}. Nothing changed.")
            self._fill()
            return False
        if undo is not None:
            self._undo.append(undo)
        self.status.setText(self._said(outcome, undone=undo is None,
                                       learning=self._title(VOCABULARY_LEARNING)))
        self._reopen()
        self.storage.notify_changed()
        self.corrected.emit(self.meeting_id or "")
        return True

    def _change(self, index: int, text: str | None) -> CorrectionOutcome:
        if self._unsaved is not None:
            store = self.storage.store if self.storage.is_open else None
            return correct_unsaved(self._unsaved.edits, index, text, self.gate, store)
        assert self.meeting_id is not None  # self.meeting is a stored meeting
        store = self.storage.store
        if text is None:
            return restore_heard(store, self.meeting_id, index, self.gate)
        return correct_segment(store, self.meeting_id, index, text, self.gate)

    def _title(self, purpose: str) -> str:
        return self.gate.notices.current(purpose).title

    @staticmethod
    def _said(outcome: CorrectionOutcome, *, undone: bool, learning: str) -> str:
        c = outcome.correction
        if undone:
            what = f"Undone: segment {c.index + 1} reads as before."
        elif not c.corrected:
            what = f"Segment {c.index + 1} is back to what was heard."
        else:
            what = f"Segment {c.index + 1} corrected" + (" (emptied)." if not c.text else ".")
        if outcome.learning == "not_permitted":
            what += f" Nothing was learned: “{learning}” is not given (Privacy & consent)."
        if outcome.learning == "failed":
            what += (" Nothing was learned: the vocabulary could not be written "
                     f"({outcome.problem}).")
        if outcome.learned:
            what += f" Learned: {', '.join(outcome.learned)}."
        if outcome.forgotten:
            what += f" No longer in the vocabulary: {', '.join(outcome.forgotten)}."
        return what
