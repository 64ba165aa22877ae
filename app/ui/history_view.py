"""The History page: the stored meetings beside the open one at full size (its transcript as a
conversation, find-in-transcript), search across all of them (every word, any order; off the
GUI thread, results shown as they are found), rename, delete and export.

The view only shows and forwards: reading, searching, renaming, deleting and rendering exports
are the store's (app.storage); dialogs are attributes so tests can answer them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSplitter,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.consent import ConsentRequired
from app.consent.purposes import TRANSCRIPT_STORAGE
from app.segments import Labels, Source
from app.storage import MeetingSummary, SearchHit, StorageError
from app.storage.export import ExportError, save_transcript
from app.storage.search_terms import Query
from app.storage.speaker_labels import InvalidLabel
from app.ui.background import Task
from app.ui.confirm import confirm_destructive
from app.ui.redaction_dialog import RedactionDialog
from app.ui.speaker_labels_dialog import ask_labels
from app.ui.storage_text import (
    clock,
    duration,
    has_default_title,
    local_time,
    plural,
    title_of,
    what_goes,
)
from app.ui.stored_meeting_page import StoredMeetingPage
from app.ui.transcript_save import ask_transcript_path
from app.ui.window_storage import WindowStorage

ID_ROLE = Qt.ItemDataRole.UserRole
SEGMENT_ROLE = Qt.ItemDataRole.UserRole + 1
SOURCE_ROLE = Qt.ItemDataRole.UserRole + 2  # the meeting's source: "window", "listen", "file"
SEARCH_DELAY_MS = 250
EMPTY_TEXT = (
    "No stored meetings. A meeting's transcript is kept only while “Keep transcript” is on; "
    "otherwise it lives in memory until the meeting is closed."
)


def _file_stem(summary: MeetingSummary) -> str:
    title = re.sub(r"[^\w\- ]+", "", title_of(summary)).strip() or "meeting"
    if has_default_title(summary):  # "Meeting 2026-12-01 2158", not the date twice
        return title[:60]
    return f"{title[:60]} {summary.started.astimezone().strftime('%Y-%m-%d %H%M')}"


class HistoryView(QWidget):
    meeting_opened = Signal(str)  # meeting id
    correct_requested = Signal(str)  # meeting id: open it in the transcript editor
    search_finished = Signal(int)  # number of meetings found

    def __init__(self, storage: WindowStorage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.storage = storage
        self.setObjectName("history_view")
        self.setAccessibleName("Meeting history")
        self.setAccessibleDescription(
            "Meetings stored on this device: open, search, rename, export or delete them"
        )
        # Dialogs, replaceable by tests (a real dialog cannot be driven headless reliably).
        self.ask_title: Callable[[str], str | None] = self._ask_title
        self.choose_export_path: Callable[[str], str] = self._ask_export_path
        self.ask_labels: Callable[[Labels], dict[Source, str] | None] = (
            lambda labels: ask_labels(labels, self))

        self.search_box = QLineEdit(self)
        self.search_box.setObjectName("history_search")
        self.search_box.setPlaceholderText("Search titles and transcripts")
        self.search_box.setClearButtonEnabled(True)
        for clear in self.search_box.findChildren(QToolButton):  # Qt's own clear button
            clear.setAccessibleName("Clear search")
            clear.setAccessibleDescription("Empty the search box and list every meeting again")
        self.search_box.setAccessibleName("Search meetings")
        self.search_box.setAccessibleDescription(
            "Type words to find in every stored meeting's title and transcript; results appear "
            "as they are found. Clear it to list all meetings."
        )
        self.status = QLabel(self)
        self.status.setObjectName("history_status")
        self.status.setWordWrap(True)

        self.meetings = QTreeWidget(self)
        self.meetings.setObjectName("history_list")
        self.meetings.setColumnCount(4)
        self.meetings.setHeaderLabels(["Title", "Date", "Duration", "Segments"])
        self.meetings.setRootIsDecorated(False)
        self.meetings.setUniformRowHeights(False)
        self.meetings.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.meetings.setAllColumnsShowFocus(True)
        header = self.meetings.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setAccessibleName("Meeting list columns")
        header.setAccessibleDescription("Title, date, duration and number of segments")
        self.meetings.setAccessibleName("Stored meetings")
        self.meetings.setAccessibleDescription(
            "Newest first: title, date, duration and number of transcript segments. Select one "
            "to read its transcript. Delete asks before deleting; F2 renames."
        )

        self.page = StoredMeetingPage(self)
        self.rename_button = self.page.rename_button
        self.speakers_button = self.page.speakers_button
        self.export_button = self.page.export_button
        self.delete_button = self.page.delete_button
        self.correct_button = self.page.correct_button
        self.export_redacted_button = self.page.export_redacted_button
        self.correct_button.clicked.connect(self.correct_selected)
        self.export_redacted_button.clicked.connect(self.export_redacted_selected)
        self.redaction_dialog: RedactionDialog | None = None
        self.transcript_title = self.page.heading
        self.transcript = self.page.transcript
        self.rename_button.clicked.connect(self.rename_selected)
        self.speakers_button.clicked.connect(self.rename_speakers_selected)
        self.export_button.clicked.connect(self.export_selected)
        self.delete_button.clicked.connect(self.delete_selected)

        side = QWidget(self)
        side.setObjectName("history_side")
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.search_box)
        side_layout.addWidget(self.status)
        side_layout.addWidget(self.meetings, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("history_splitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(side)
        self.splitter.addWidget(self.page)
        # The list takes a little over half the page at any width (at 1280 px ~600 px: a
        # 50-character title and the hits are not cut), the open meeting the rest; the user
        # may drag the handle.
        self.splitter.setStretchFactor(0, 6)
        self.splitter.setStretchFactor(1, 5)
        self._user_split = False  # once the user drags the handle, their split is kept
        self.splitter.splitterMoved.connect(lambda _pos, _index: self._split_by_user())
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        for first, second in (
            (self.search_box, self.meetings),
            (self.meetings, self.rename_button),
            (self.rename_button, self.speakers_button),
            (self.speakers_button, self.correct_button),
            (self.correct_button, self.export_button),
            (self.export_button, self.export_redacted_button),
            (self.export_redacted_button, self.delete_button),
            (self.delete_button, self.page.find_box),
            (self.page.find_box, self.transcript),
        ):
            QWidget.setTabOrder(first, second)

        self.meetings.installEventFilter(self)  # Delete and F2 on the list

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._search_now)
        self.search_box.textChanged.connect(lambda _text: self._search_timer.start())
        self.search_box.returnPressed.connect(self._search_now)
        self.meetings.currentItemChanged.connect(self._current_changed)
        self.meetings.itemActivated.connect(lambda _item, _col: self.transcript.setFocus())

        self._search_task: Task | None = None
        self._generation = 0
        self._needle = ""
        self._hits = 0
        self.searching = False
        self.open_id: str | None = None
        storage.changed.connect(self.refresh)
        self.refresh()

    def _split_by_user(self) -> None:
        self._user_split = True

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._user_split:
            # Stretch factors only share out growth; the first split is set here, 6 : 5.
            width = self.splitter.width()
            self.splitter.setSizes([width * 6 // 11, width - width * 6 // 11])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.meetings and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() == Qt.Key.Key_Delete and not event.modifiers():
                self.delete_selected()
                return True
            if event.key() == Qt.Key.Key_F2 and not event.modifiers():
                self.rename_selected()
                return True
        return super().eventFilter(watched, event)

    # -- listing ---------------------------------------------------------------------------

    @property
    def selected_id(self) -> str | None:
        item = self.meetings.currentItem()
        return None if item is None else item.data(0, ID_ROLE)

    def refresh(self) -> None:
        """Re-read the store (call after a meeting was stored, renamed or deleted)."""
        if not self.storage.is_open:
            return
        if self.search_box.text().strip():
            self._search_now()
            return
        self._cancel_search()
        keep = self.selected_id
        self.meetings.clear()
        self.meetings.setRootIsDecorated(False)
        try:
            summaries = self.storage.store.list_meetings()
        except StorageError as err:
            self._set_status(f"The stored meetings cannot be listed: {err}")
            return
        for summary in summaries:
            self.meetings.addTopLevelItem(self._item(summary))
        self._set_status(
            f"{plural(len(summaries), 'stored meeting')}, newest first." if summaries
            else EMPTY_TEXT
        )
        self._reselect(keep)

    def _item(self, summary: MeetingSummary) -> QTreeWidgetItem:
        item = QTreeWidgetItem([
            title_of(summary), local_time(summary.started), duration(summary),
            str(summary.segments),
        ])
        item.setData(0, ID_ROLE, summary.id)
        item.setData(0, SOURCE_ROLE, summary.source)
        item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setToolTip(0, f"Meeting {summary.id}")
        return item

    def _reselect(self, meeting_id: str | None) -> None:
        found = self._find(meeting_id) if meeting_id else None
        if found is not None:
            self.meetings.setCurrentItem(found)
            return
        first = self.meetings.topLevelItem(0)
        if first is not None:
            self.meetings.setCurrentItem(first)
        else:
            self._show_nothing()
        self._update_buttons()

    def _find(self, meeting_id: str | None) -> QTreeWidgetItem | None:
        for row in range(self.meetings.topLevelItemCount()):
            item = self.meetings.topLevelItem(row)
            if item is not None and item.data(0, ID_ROLE) == meeting_id:
                return item
        return None

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setAccessibleName(text)

    def _update_buttons(self) -> None:
        self.page.set_actions_enabled(self.selected_id is not None,
                                      can_change=self._why_unchangeable())

    def follow_consent(self) -> None:
        """A permission changed: what needs one is offered only while it is given."""
        self._update_buttons()

    def _why_unchangeable(self) -> str | None:
        item = self.meetings.currentItem()
        if item is not None and item.data(0, SOURCE_ROLE) == "file":
            return ("a transcribed recording has one speaker, “Recording”: there is no You or "
                    "Others to rename")
        gate = self.storage.gate
        if gate.allowed(TRANSCRIPT_STORAGE):
            return None
        title = gate.notices.current(TRANSCRIPT_STORAGE).title
        return (f"renaming speakers changes a stored meeting, which needs “{title}”; give it "
                "in Privacy & consent")

    # -- opening ---------------------------------------------------------------------------

    def _current_changed(self, item: QTreeWidgetItem | None, _previous: object) -> None:
        self._update_buttons()
        if item is None:
            return
        meeting_id = item.data(0, ID_ROLE)
        segment = item.data(0, SEGMENT_ROLE)
        self.open_meeting(meeting_id, segment)

    def _show_nothing(self) -> None:
        self.open_id = None
        self.page.show_nothing()

    def open_meeting(self, meeting_id: str, segment: int | None = None) -> None:
        """Show a meeting's transcript, scrolled to `segment` when given."""
        try:
            meeting = self.storage.store.get(meeting_id)
        except StorageError as err:
            self.open_id = None
            self.page.show_nothing("This meeting cannot be shown", str(err))
            return
        self.open_id = meeting_id
        self.page.show_meeting(meeting, Query.parse(self._needle))
        if segment is not None:
            self.page.scroll_to(segment)
        self.meeting_opened.emit(meeting_id)

    # -- search ----------------------------------------------------------------------------

    def _cancel_search(self) -> None:
        self._search_timer.stop()
        self._generation += 1
        if self._search_task is not None:
            self._search_task.cancel()
            self._search_task = None
        self.searching = False

    def search(self, text: str) -> None:
        self.search_box.setText(text)
        self._search_now()

    def _search_now(self) -> None:
        self._search_timer.stop()
        text = self.search_box.text().strip()
        if not text:
            if self._needle:
                self._needle = ""
                self.refresh()
            return
        self._cancel_search()
        generation = self._generation
        self._needle = text
        self._hits = 0
        self.searching = True
        self.meetings.clear()
        self.meetings.setRootIsDecorated(True)  # each meeting found lists its matching lines
        self._show_nothing()
        self._update_buttons()
        self._set_status(f"Searching for “{text}”…")
        store = self.storage.store

        def work(task: Task) -> int:
            found = 0
            for hit in store.iter_search(text):
                if task.cancelled:
                    break
                task.report(hit)
                found += 1
            return found

        task = self.storage.tasks.start(
            work, reported=lambda hit: self._add_hit(generation, hit),
            succeeded=lambda _n: self._search_done(generation, text),
            failed=lambda err: self._search_failed(generation, err))
        self._search_task = task

    def _add_hit(self, generation: int, hit: SearchHit) -> None:
        if generation != self._generation:
            return
        item = self._item(hit.meeting)
        where = "title" if hit.title_match else ""
        lines = plural(len(hit.matches), "line") if hit.matches else ""
        item.setToolTip(0, "Found in " + " and ".join(x for x in (where, lines) if x))
        for index, seg in hit.matches:
            child = QTreeWidgetItem([f"[{clock(seg.start)}] {seg.text.strip()}", "", "", ""])
            child.setData(0, ID_ROLE, hit.meeting.id)
            child.setData(0, SEGMENT_ROLE, index)
            child.setData(0, SOURCE_ROLE, hit.meeting.source)
            child.setToolTip(0, seg.text.strip())
            item.addChild(child)
        self.meetings.addTopLevelItem(item)
        for row in range(item.childCount()):  # spanning works only once the item is in the tree
            child_item = item.child(row)
            if child_item is not None:
                child_item.setFirstColumnSpanned(True)
        item.setExpanded(True)
        self._hits += 1
        self._set_status(f"Searching for “{self._needle}”… {plural(self._hits, 'meeting')} so far")
        if self.meetings.currentItem() is None:
            self.meetings.setCurrentItem(item)

    def _search_done(self, generation: int, text: str) -> None:
        if generation != self._generation:
            return
        self.searching = False
        self._search_task = None
        if self._hits:
            verb = "mentions" if self._hits == 1 else "mention"
            self._set_status(f"{plural(self._hits, 'meeting')} {verb} “{text}”.")
        else:
            self._set_status(f"No stored meeting mentions “{text}”.")
        self._update_buttons()
        self.search_finished.emit(self._hits)

    def _search_failed(self, generation: int, err: object) -> None:
        if generation != self._generation:
            return
        self.searching = False
        self._search_task = None
        self._set_status(f"The search stopped: {err}")
        self.search_finished.emit(self._hits)

    # -- actions ---------------------------------------------------------------------------

    def _selected_summary(self) -> MeetingSummary | None:
        meeting_id = self.selected_id
        if meeting_id is None:
            return None
        try:
            return self.storage.store.summary(meeting_id)
        except StorageError as err:
            self._set_status(str(err))
            self.refresh()
            return None

    def _ask_title(self, current: str) -> str | None:
        text, ok = QInputDialog.getText(
            self, "Rename meeting", "New title:", QLineEdit.EchoMode.Normal, current
        )
        return text if ok else None

    def rename_selected(self) -> None:
        summary = self._selected_summary()
        if summary is None:
            return
        title = self.ask_title(summary.title or "")
        if title is None:
            return
        if not title.strip():
            QMessageBox.warning(self, "Rename meeting",
                                "A meeting needs a title; the old one was kept.")
            return
        try:
            self.storage.store.rename(summary.id, title)
        except (StorageError, ValueError) as err:
            QMessageBox.warning(self, "Rename meeting", f"The meeting was not renamed: {err}")
            return
        self._set_status(f"Renamed to “{title.strip()}”.")
        self.storage.notify_changed()

    def rename_speakers_selected(self) -> None:
        """Ask for the selected meeting's speaker names and store them; the open conversation
        is shown again with them at once."""
        summary = self._selected_summary()
        if summary is None:
            return
        names = self.ask_labels(summary.labels)
        if names is None:
            return
        try:
            # A change to a stored meeting, so under a recorded transcript_storage grant, as a
            # correction is; held across the write so a withdrawal cannot slip in between.
            with self.storage.gate.guard(TRANSCRIPT_STORAGE):
                labels = self.storage.store.set_labels(
                    summary.id, microphone=names.get("microphone"), system=names.get("system"))
        except (StorageError, InvalidLabel, ConsentRequired) as err:
            why = self._why_unchangeable() if isinstance(err, ConsentRequired) else None
            QMessageBox.warning(self, "Rename speakers", "The speakers were not renamed: "
                                f"{why or str(err).rstrip('.')}.")
            self._update_buttons()
            return
        self.storage.notify_changed()  # re-lists the meetings (and says how many): first
        if self.open_id == summary.id:  # the list kept it selected: show it with the new names
            self.open_meeting(summary.id)
        self._set_status(f"Speakers renamed: “{labels['microphone']}” and "
                         f"“{labels['system']}”.")

    def delete_selected(self) -> None:
        summary = self._selected_summary()
        if summary is None:
            return
        recording = summary.id in self.storage.store.active_meetings
        what = what_goes(summary)
        text = (f"{what[:1].upper()}{what[1:]} will be deleted and its key destroyed. "
                "This cannot be undone.")
        if recording:
            text += " It is being recorded now: the rest of it will not be stored."
        if not confirm_destructive(self, "Delete this meeting?", text, "Delete"):
            return
        try:
            self.storage.store.delete(summary.id)
        except StorageError as err:
            QMessageBox.warning(self, "Delete meeting", f"The meeting was not deleted: {err}")
            return
        self.storage.notify_changed()
        self._set_status(f"Deleted “{title_of(summary)}” and destroyed its key.")

    def correct_selected(self) -> None:
        summary = self._selected_summary()
        if summary is not None:
            self.correct_requested.emit(summary.id)

    def _ask_export_path(self, suggested: str) -> str:
        return ask_transcript_path(self, "Export meeting", suggested)

    def export_selected(self) -> Path | None:
        summary = self._selected_summary()
        if summary is None:
            return None
        chosen = self.choose_export_path(_file_stem(summary))
        if not chosen:
            return None
        path = Path(chosen)
        try:
            # The one atomic writer: staged beside the file, fsynced, renamed over it (the save
            # dialog asked about replacing), owner-only whatever the old file's mode was.
            meeting = self.storage.store.get(summary.id)
            fmt = save_transcript(path, meeting.segments, title=meeting.title,
                                  metadata=meeting.metadata(), labels=meeting.labels)
        except ExportError as err:  # an unknown extension, or the file could not be written
            QMessageBox.warning(self, "Export meeting", f"The meeting was not exported: {err}.")
            return None
        except StorageError as err:
            QMessageBox.warning(self, "Export meeting", f"The meeting cannot be exported: {err}")
            return None
        self._set_status(f"Saved “{title_of(summary)}” as {fmt.upper()} to {path}.")
        return path

    def export_redacted_selected(self) -> RedactionDialog | None:
        """The redaction preview of the selected meeting; it saves the file itself."""
        from app.privacy.redact import redact_meeting
        from app.privacy.vocabulary_names import vocabulary_redactor

        summary = self._selected_summary()
        if summary is None:
            return None
        try:
            store = self.storage.store
            # the vocabulary's names always caught, its other terms ("Postgres") never
            redacted = redact_meeting(store.get(summary.id), vocabulary_redactor(store))
        except StorageError as err:
            QMessageBox.warning(self, "Export redacted",
                                f"The meeting cannot be exported: {err}")
            return None
        if self.redaction_dialog is not None:
            self.redaction_dialog.close()
            self.redaction_dialog.deleteLater()
        dialog = RedactionDialog(redacted, _file_stem(summary), self)
        dialog.accepted.connect(lambda: self._set_status(
            f"Saved “{title_of(summary)}”, redacted, to {dialog.saved_to}."))
        self.redaction_dialog = dialog
        dialog.show()
        return dialog
