""""Export redacted…": a preview of a meeting's redacted export with every redaction highlighted;
the user can un-redact one or mark more text to redact before saving.

The redactions come from app.privacy.redact (the same Redactor `candor meetings export --redact`
uses) and the edits are its `RedactedText.without` / `adding`; the file is rendered by
app.storage.export.render_redacted and written by write_text_atomic. The preview shows each
segment's own text, one line per segment, so a selection maps to (segment, start, end) exactly.
Nothing here writes to the store: the stored meeting stays as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.privacy.redact import (
    KINDS,
    RedactedMeeting,
    RedactedText,
    Span,
    SpanKind,
    placeholder,
)
from app.storage.export import ExportError, render_redacted, transcript_format, write_text_atomic
from app.ui.transcript_save import ask_transcript_path

HIGHLIGHT = QColor("#ffd6a5")  # every redaction, so none goes unseen
HIGHLIGHT_TEXT = QColor("#000000")


class RedactionDialog(QDialog):
    def __init__(self, redacted: RedactedMeeting, suggested_stem: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.redacted = redacted
        self.suggested_stem = suggested_stem
        self.saved_to: Path | None = None
        # Tests answer this instead of the platform's save dialog.
        self.choose_path: Callable[[str], str] = self._ask_path
        self.setObjectName("redaction_dialog")
        self.setWindowTitle("Export redacted")
        self.setAccessibleName("Export redacted")
        self.setAccessibleDescription(
            "The meeting's transcript with every redaction highlighted; un-redact or add some, "
            "then save. The stored meeting is not changed.")
        self.resize(760, 600)

        intro = QLabel("Highlighted text is replaced by a placeholder such as [NAME] in the "
                       "file. Select a redaction to undo it, or select text in the transcript "
                       "to redact it too. The stored meeting is not changed.", self)
        intro.setWordWrap(True)
        self.title_label = QLabel(self)
        self.title_label.setWordWrap(True)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)

        self.preview = QTextEdit(self)
        self.preview.setObjectName("redaction_preview")
        self.preview.setReadOnly(True)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                             | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.preview.setAccessibleName("Transcript with redactions highlighted")
        self.preview.setAccessibleDescription(
            "One line per segment; select words and choose Redact selection to hide them")
        self.spans = QListWidget(self)
        self.spans.setObjectName("redaction_spans")
        self.spans.setAccessibleName("Redactions")
        self.spans.setAccessibleDescription("Every text that will be replaced, with its kind")

        self.unredact_button = QPushButton("&Un-redact", self)
        self.unredact_button.setAccessibleName("Un-redact")
        self.unredact_button.setAccessibleDescription("Keep the selected redaction's text as it is")
        self.unredact_button.clicked.connect(self.unredact_selected)
        self.kind = QComboBox(self)
        for kind in KINDS:
            self.kind.addItem(placeholder(kind), kind)
        self.kind.setAccessibleName("Placeholder for the selection")
        self.kind.setAccessibleDescription("Which placeholder replaces the selected text")
        self.redact_button = QPushButton("&Redact selection", self)
        self.redact_button.setAccessibleName("Redact selection")
        self.redact_button.setAccessibleDescription(
            "Replace the text selected in the transcript with the chosen placeholder")
        self.redact_button.clicked.connect(self.redact_selection)
        self.status = QLabel(self)
        self.status.setObjectName("redaction_status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.save_button = QPushButton("&Save…", self)
        self.save_button.setAccessibleName("Save redacted export")
        self.save_button.setAccessibleDescription(
            "Choose a file; its extension picks the format (TXT, SRT, VTT, JSON or Markdown)")
        self.save_button.clicked.connect(self.save)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName("Cancel")
        self.cancel_button.setAccessibleDescription("Close without writing anything")
        self.cancel_button.clicked.connect(self.reject)
        for button in (self.unredact_button, self.redact_button, self.save_button,
                       self.cancel_button):
            button.setAutoDefault(False)

        edits = QHBoxLayout()
        edits.addWidget(self.unredact_button)
        edits.addStretch(1)
        edits.addWidget(self.kind)
        edits.addWidget(self.redact_button)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.title_label)
        layout.addWidget(self.preview, 3)
        layout.addWidget(self.spans, 1)
        layout.addLayout(edits)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self._show()

    # -- showing ----------------------------------------------------------------------------
    def _show(self) -> None:
        transcript = self.redacted.transcript
        self.title_label.setText(f"Title in the file: {self.redacted.title}")
        self.preview.setPlainText("\n".join(s.redaction.original for s in transcript.segments))
        document = self.preview.document()
        mark = QTextCharFormat()
        mark.setBackground(HIGHLIGHT)
        mark.setForeground(HIGHLIGHT_TEXT)
        self.spans.clear()
        for position, segment in enumerate(transcript.segments):
            block = document.findBlockByNumber(position)
            for span in segment.redaction.spans:
                cursor = QTextCursor(block)
                cursor.setPosition(block.position() + span.start)
                cursor.setPosition(block.position() + span.end, QTextCursor.MoveMode.KeepAnchor)
                cursor.mergeCharFormat(mark)
                item = QListWidgetItem(
                    f"{span.original!r} → {placeholder(span.kind)}   (line {position + 1}"
                    + (", added by you)" if span.source == "user" else ")"))
                item.setData(Qt.ItemDataRole.UserRole, (segment.index, span))
                self.spans.addItem(item)
        counts = transcript.counts()
        self.status.setText("Redactions: " + ", ".join(
            f"{counts[k]} {placeholder(k)}" for k in KINDS if counts[k]) if any(
            counts.values()) else "Nothing found to redact; select text to redact some.")

    def highlighted(self, position: int) -> bool:
        """Whether the preview's character at `position` is marked (for tests and a11y)."""
        cursor = QTextCursor(self.preview.document())
        cursor.setPosition(position + 1)
        return cursor.charFormat().background().color() == HIGHLIGHT

    def _update(self, index: int, redaction: RedactedText) -> None:
        transcript = self.redacted.transcript.with_segment(index, redaction)
        metadata = {**self.redacted.metadata, "redacted": transcript.counts()}
        self.redacted = replace(self.redacted, transcript=transcript, metadata=metadata)
        self._show()

    # -- editing ----------------------------------------------------------------------------
    def unredact_selected(self) -> None:
        item = self.spans.currentItem()
        if item is None:
            self.status.setText("Select a redaction in the list first.")
            return
        index, span = item.data(Qt.ItemDataRole.UserRole)
        assert isinstance(span, Span)
        segment = next(s for s in self.redacted.transcript.segments if s.index == index)
        self._update(index, segment.redaction.without(span))

    def redact_selection(self) -> None:
        cursor = self.preview.textCursor()
        if not cursor.hasSelection():
            self.status.setText("Select the words to redact in the transcript first.")
            return
        document = self.preview.document()
        first = document.findBlock(cursor.selectionStart())
        last = document.findBlock(cursor.selectionEnd())
        if first.blockNumber() != last.blockNumber():
            self.status.setText("Select text within one line; redact each line's part in turn.")
            return
        position = first.blockNumber()
        segment = self.redacted.transcript.segments[position]
        start = cursor.selectionStart() - first.position()
        end = cursor.selectionEnd() - first.position()
        kind: SpanKind = self.kind.currentData()
        self._update(segment.index, segment.redaction.adding(kind, start, end))

    # -- saving -----------------------------------------------------------------------------
    def _ask_path(self, suggested: str) -> str:
        return ask_transcript_path(self, "Export redacted", suggested)

    def save(self) -> Path | None:
        chosen = self.choose_path(f"{self.suggested_stem} (redacted)")
        if not chosen:
            return None
        path = Path(chosen)
        try:
            write_text_atomic(path, render_redacted(self.redacted, transcript_format(path)))
        except ExportError as err:
            self.status.setText(f"Not saved: {err}")
            return None
        self.saved_to = path
        self.accept()
        return path
