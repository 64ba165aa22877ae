"""Live captions: final text in the normal colour, the caption in progress dimmed, following the
newest line unless the user scrolled up to read, and a lag indicator. A stretch live captions
skipped to catch up shows as a gap on its own line, never silently (issue 13, defect 1)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from app.segments import SOURCE_LABELS, Segment, Source

# Within this many pixels of the bottom counts as "following the captions".
_FOLLOW_SLACK = 4


class CaptionsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("captions")
        self.text.setReadOnly(True)
        self.text.setPlaceholderText("Captions appear here while live captions are on.")
        self.text.setAccessibleName("Live captions")
        self.text.setAccessibleDescription(
            "Confirmed captions in normal text; the words still being recognised are dimmed"
        )
        self.lag = QLabel(self)
        self.lag.setObjectName("caption_lag")
        self.lag.setAccessibleName("Caption delay")
        self.lag.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.lag)
        self._final_end = 0  # document position where the dimmed partial text begins
        self._partial = ""
        self._partials: dict[Source | None, str] = {}
        self.finals: list[Segment] = []
        self.gaps: list[Segment] = []  # stretches not captioned live
        self._after_gap = False
        # "You" / "Others": shown once the others are heard, so it reads as one conversation
        self.labels: dict[Source, str] = dict(SOURCE_LABELS)
        self._conversation = False
        self._last_source: Source | None = None
        self._final_format = QTextCharFormat()
        self._partial_format = QTextCharFormat()
        self._partial_format.setForeground(QColor("#8a8a8a"))
        self._gap_format = QTextCharFormat()
        self._gap_format.setForeground(QColor("#8a8a8a"))
        self._gap_format.setFontItalic(True)

    def _following(self) -> bool:
        bar = self.text.verticalScrollBar()
        return bar.value() >= bar.maximum() - _FOLLOW_SLACK

    def _rewrite_tail(self, final_text: str, partial: str) -> None:
        following = self._following()
        bar = self.text.verticalScrollBar()
        kept = bar.value()
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(self._final_end)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        if final_text:
            cursor.insertText(final_text, self._final_format)
            self._final_end = cursor.position()
        if partial:
            cursor.insertText(partial, self._partial_format)
        self._partial = partial
        if following:
            bar.setValue(bar.maximum())
        else:
            bar.setValue(kept)

    def _labelled(self, segment: Segment, text: str) -> str:
        if segment.source == "system":
            self._conversation = True
        if not self._conversation or segment.source is None:
            return text
        return f"{self.labels[segment.source]}: {text}"

    def add_final(self, segment: Segment) -> None:
        text = segment.text.strip()
        if not text:
            return
        self.finals.append(segment)
        speaker_changed = self._conversation and segment.source != self._last_source
        if segment.source == "system" and not self._conversation:
            speaker_changed = True
        shown = self._labelled(segment, text) if speaker_changed else text
        self._last_source = segment.source
        fresh_line = self._final_end == 0 or self._after_gap
        separator = "" if fresh_line else ("\n" if speaker_changed else " ")
        self._after_gap = False
        self._partials.pop(segment.source, None)
        self._rewrite_tail(separator + shown, self._partial_tail())

    def add_gap(self, segment: Segment) -> None:
        """Live captions skipped `segment`'s stretch to catch up: say so where it happened."""
        seconds = max(1, round(segment.end - segment.start))
        who = f"{self.labels[segment.source]}: " if (
            self._conversation and segment.source is not None) else ""
        line = (f"[{who}{seconds} s not captioned live — it will be in the final "
                "transcript]")
        self.gaps.append(segment)
        self._partials.pop(segment.source, None)  # its words were skipped with it
        following = self._following()
        bar = self.text.verticalScrollBar()
        kept = bar.value()
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(self._final_end)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.insertText(("\n" if self._final_end else "") + line, self._gap_format)
        cursor.insertText("\n", self._final_format)
        self._final_end = cursor.position()
        self._last_source = None  # the next caption says again who speaks
        self._after_gap = True  # it starts the next line
        self.text.setAccessibleDescription(
            f"{line}. Confirmed captions in normal text; the words still being recognised "
            "are dimmed")
        if following:
            bar.setValue(bar.maximum())
        else:
            bar.setValue(kept)
        self._rewrite_tail("", self._partial_tail())

    def gap_lines(self) -> list[str]:
        return [line for line in self.text.toPlainText().splitlines()
                if "not captioned live" in line]

    def set_partial(self, segment: Segment | None) -> None:
        source = segment.source if segment else None
        text = segment.text.strip() if segment else ""
        if text:
            self._partials[source] = self._labelled(segment, text) if (
                segment is not None and self._conversation and source != self._last_source
            ) else text
        else:
            self._partials.pop(source, None)
        self._rewrite_tail("", self._partial_tail())

    def _partial_tail(self) -> str:
        text = " ".join(p for p in self._partials.values() if p)
        return (" " + text) if text and self._final_end and not self._after_gap else text

    def partial_text(self) -> str:
        return self._partial.strip()

    def final_text(self) -> str:
        return " ".join(s.text.strip() for s in self.finals)

    def clear(self) -> None:
        self.text.clear()
        self.finals.clear()
        self.gaps.clear()
        self._after_gap = False
        self._final_end = 0
        self._partial = ""
        self._partials.clear()
        self._conversation = False
        self._last_source = None
        self.set_lag(None)

    def set_lag(self, seconds: float | None) -> None:
        """Show how far captions trail the speech; hidden when they keep up."""
        if seconds is None or seconds < 2.0:
            self.lag.hide()
            return
        self.lag.setText(f"Captions are {seconds:.1f} s behind; catching up…")
        self.lag.setAccessibleDescription(self.lag.text())
        self.lag.show()
