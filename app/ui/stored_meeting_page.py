"""One stored meeting, full size: its title, date and duration, the transcript as a
conversation, find-in-transcript, and the actions on it (rename, rename speakers, correct,
export, delete) — the right side of the History page. It shows what it is given; HistoryView
does the storage calls."""

from __future__ import annotations

from PySide6.QtGui import QFont, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.storage import Meeting
from app.storage.search_terms import Query
from app.ui.conversation import Utterance, conversation_html, found_blocks, utterances
from app.ui.flow_layout import FlowLayout
from app.ui.icons import icon
from app.ui.storage_text import duration, has_default_title, local_time, plural
from app.ui.theme import accents

SPEAKERS_DESCRIPTION = ("Name who spoke in the selected meeting instead of You and Others; the "
                        "transcript and its exports use these names")


class StoredMeetingPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stored_meeting")
        self.setAccessibleName("Meeting")
        self.blocks: list[Utterance] = []
        self.search_query = Query(())  # from the history's search: marked, never filtered
        self.find_query = Query(())

        self.heading = QLabel(self)
        self.heading.setObjectName("transcript_title")
        self.heading.setWordWrap(True)
        font = QFont(self.heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.heading.setFont(font)
        self.facts = QLabel(self)
        self.facts.setObjectName("meeting_facts")
        self.facts.setWordWrap(True)

        self.rename_button = QPushButton(icon("document-properties"), "Re&name…", self)
        self.rename_button.setAccessibleName("Rename meeting")
        self.rename_button.setAccessibleDescription("Give the selected meeting a new title")
        self.speakers_button = QPushButton(icon("document-properties"), "Rename &speakers…",
                                           self)
        self.speakers_button.setObjectName("rename_speakers")
        self.speakers_button.setAccessibleName("Rename speakers")
        self.speakers_button.setAccessibleDescription(SPEAKERS_DESCRIPTION)
        self.export_button = QPushButton(icon("document-save-as"), "E&xport…", self)
        self.export_button.setAccessibleName("Export meeting")
        self.export_button.setAccessibleDescription(
            "Save the selected meeting's transcript as text, SRT, WebVTT, JSON or Markdown"
        )
        self.correct_button = QPushButton(icon("document-properties"), "&Correct…", self)
        self.correct_button.setAccessibleName("Correct transcript")
        self.correct_button.setAccessibleDescription(
            "Edit the selected meeting's transcript segment by segment; with 'Learn my "
            "vocabulary' given, Candor learns the names and terms you correct"
        )
        # Alt+R: Alt+D is Delete's (the two shared it, and Alt+D went to whichever came first).
        self.export_redacted_button = QPushButton(icon("document-save-as"),
                                                  "Export &redacted…", self)
        self.export_redacted_button.setAccessibleName("Export redacted")
        self.export_redacted_button.setAccessibleDescription(
            "Preview the selected meeting with names, e-mail addresses, phone numbers, long "
            "numbers and web addresses replaced; adjust, then save. The stored meeting is kept "
            "as it is"
        )
        self.delete_button = QPushButton(icon("user-trash"), "&Delete…", self)
        self.delete_button.setAccessibleName("Delete meeting")
        self.delete_button.setAccessibleDescription(
            "Delete the selected meeting and destroy its key, after asking once"
        )

        self.find_box = QLineEdit(self)
        self.find_box.setObjectName("find_in_meeting")
        self.find_box.setPlaceholderText("Find in this transcript")
        self.find_box.setClearButtonEnabled(True)
        self.find_box.setAccessibleName("Find in this transcript")
        self.find_box.setAccessibleDescription(
            "Words to find in the open meeting, in any order; Enter goes to the next line "
            "holding them all"
        )
        self.find_status = QLabel(self)
        self.find_status.setObjectName("find_status")
        self.transcript = QTextBrowser(self)
        self.transcript.setObjectName("history_transcript")
        self.transcript.setOpenLinks(False)
        self.transcript.setAccessibleName("Transcript")
        self.transcript.setAccessibleDescription(
            "The open meeting's transcript: one block per utterance with who spoke and the "
            "time from the meeting's start"
        )
        self._found: list[int] = []
        self._at = -1
        self.find_box.textChanged.connect(self._find_changed)
        self.find_box.returnPressed.connect(self.find_next)
        QShortcut(QKeySequence.StandardKey.FindNext, self, self.find_next)

        head = QHBoxLayout()
        head.addWidget(self.heading, 1)
        # One row that wraps: at the platform font in a 640 or 800 px window six buttons in
        # a row were wider than the page (it scrolled sideways); Delete stays at the end.
        self.action_bar = QWidget(self)
        self.action_bar.setObjectName("meeting_actions")
        self._action_flow = FlowLayout(self.action_bar, margins=0)
        for button in (self.rename_button, self.speakers_button, self.correct_button,
                       self.export_button, self.export_redacted_button):
            self._action_flow.addWidget(button)
        self._action_flow.add_stretch()
        self._action_flow.addWidget(self.delete_button)
        find = QHBoxLayout()
        find.addWidget(self.find_box, 1)
        find.addWidget(self.find_status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.facts)
        layout.addWidget(self.action_bar)
        layout.addLayout(find)
        layout.addWidget(self.transcript, 1)
        self.set_actions_enabled(False)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_labels()

    def _fit_labels(self) -> None:
        # A splitter does not pass height-for-width down: wrapped labels say how tall they are
        # at their width themselves, so a long title at 200 % font is never cut.
        for label in (self.heading, self.facts):
            label.setMinimumHeight(max(0, label.heightForWidth(max(1, label.width()))))
        # Nor for the wrapping row of actions: it asks for the height its lines need at its
        # width, and the History page scrolls down rather than lay them over the text.
        width = max(1, self.action_bar.width())
        self.action_bar.setMinimumHeight(self._action_flow.heightForWidth(width))

    def set_actions_enabled(self, enabled: bool, *, can_change: str | None = None) -> None:
        """`enabled`: a meeting is open. `can_change`: None when its changes may be stored,
        else why not (renaming its speakers then is unavailable, and says so)."""
        for widget in (self.rename_button, self.correct_button, self.export_button,
                       self.export_redacted_button, self.delete_button, self.find_box):
            widget.setEnabled(enabled)
        self.speakers_button.setEnabled(enabled and can_change is None)
        why = "" if can_change is None else f"Unavailable: {can_change}"
        self.speakers_button.setToolTip(why)
        self.speakers_button.setAccessibleDescription(
            f"{SPEAKERS_DESCRIPTION}. {why}" if why else SPEAKERS_DESCRIPTION)

    def show_nothing(self, heading: str = "", message: str = "") -> None:
        self.blocks = []
        self.heading.setText(heading)
        self.heading.setAccessibleName(heading)
        self.facts.setText("")
        self.find_status.setText("")
        if message:
            self.transcript.setPlainText(message)
        else:
            self.transcript.clear()

    def show_meeting(self, meeting: Meeting, search: Query) -> None:
        s = meeting.summary
        # A default title ("Meeting 2026-12-01 21:58") already says when: not said twice.
        facts = [] if has_default_title(s) else [local_time(s.started)]
        facts += [duration(s), plural(len(meeting.segments), "segment")]
        if s.model:
            facts.append(f"model {s.model}")
        self.heading.setText(meeting.title)
        self.heading.setAccessibleName(meeting.title)
        self.facts.setText(" · ".join(facts))
        self.facts.setAccessibleName(self.facts.text())
        self.blocks = utterances(meeting)
        self.search_query = search
        self._render()
        self._find_changed(self.find_box.text())
        self._fit_labels()

    def _render(self) -> None:
        words = tuple(dict.fromkeys(self.search_query.words + self.find_query.words))
        self.transcript.setHtml(conversation_html(
            self.blocks, Query(words), accents(self.palette()).muted_text))

    def scroll_to(self, index: int) -> None:
        self.transcript.scrollToAnchor(f"seg-{index}")

    def _find_changed(self, text: str) -> None:
        self.find_query = Query.parse(text)
        self._found = found_blocks(self.blocks, self.find_query)
        self._at = -1
        self._render()
        if not self.find_query:
            self.find_status.setText("")
        elif self._found:
            self.find_next()
        else:
            self.find_status.setText("Not found")
        self.find_status.setAccessibleName(self.find_status.text())

    def find_next(self) -> None:
        if not self._found:
            return
        self._at = (self._at + 1) % len(self._found)
        self.scroll_to(self._found[self._at])
        self.find_status.setText(f"{self._at + 1} of {len(self._found)}")
        self.find_status.setAccessibleName(self.find_status.text())
