"""Live captions as a conversation: one block per utterance with its speaker and its time from
the meeting's start (app.ui.caption_blocks decides the blocks), final text normal, the words in
progress dimmed inside their speaker's block. A stretch live captions skipped to catch up is a
block of its own, never silent (issue 13, defect 1). The view follows the newest caption until
the reader scrolls up; "Jump to live" brings it back. Ctrl+= / Ctrl+- resize the captions
(Ctrl+0 resets). "Caption window" (Ctrl+Shift+C) opens the compact always-on-top window that
shows the last lines of the same captions."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextEdit, QVBoxLayout, QWidget

from app.segments import Segment, Source
from app.ui.caption_blocks import CaptionBlocks
from app.ui.caption_painter import CaptionPainter, caption_font
from app.ui.caption_window import CaptionWindow

# Within this many pixels of the bottom counts as "following the captions".
_FOLLOW_SLACK = 4
# Captions read from a distance while listening: larger than body text, adjustable.
DEFAULT_SCALE = 1.3
SCALES = (1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.5)
DESCRIPTION = ("Live captions, one block per speaker turn with its time. Confirmed captions in "
               "normal text; the words still being recognised are dimmed")


class CaptionsView(QWidget):
    changed = Signal()  # the captions shown changed (the compact window follows)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = CaptionBlocks()
        self.painter = CaptionPainter(self.model)
        self.text = QTextEdit(self)
        self.text.setObjectName("captions")
        self.text.setReadOnly(True)
        self.text.setPlaceholderText("Captions appear here while live captions are on.")
        self.text.setAccessibleName("Live captions")
        self.text.setAccessibleDescription(DESCRIPTION)
        self.lag = QLabel(self)
        self.lag.setObjectName("caption_lag")
        self.lag.setAccessibleName("Caption delay")
        self.lag.hide()
        self.jump_button = QPushButton("Jump to live", self)
        self.jump_button.setObjectName("jump_to_live")
        self.jump_button.setAccessibleName("Jump to live")
        self.jump_button.setAccessibleDescription(
            "Scroll to the newest caption and follow the captions again")
        self.jump_button.clicked.connect(self.jump_to_live)
        self.jump_button.hide()
        self.window_button = QPushButton("Caption window", self)
        self.window_button.setObjectName("caption_window_button")
        self.window_button.setAccessibleName("Caption window")
        self.window_button.setAccessibleDescription(
            "Open a small caption window that stays on top of other windows (Ctrl+Shift+C)")
        self.window_button.setToolTip("A small caption window on top of the call (Ctrl+Shift+C)")
        self.window_button.clicked.connect(self.open_caption_window)
        bottom = QHBoxLayout()
        bottom.addWidget(self.lag, 1)
        bottom.addStretch(0)
        bottom.addWidget(self.jump_button)
        bottom.addWidget(self.window_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addLayout(bottom)

        self.finals: list[Segment] = []
        self.gaps: list[Segment] = []  # stretches not captioned live
        self._tail_pos = 0  # document position where the blocks still changing begin
        self._fixed = 0  # blocks drawn before _tail_pos (they no longer change)
        self._following = True
        self._drawing = False
        self._live = True
        self.caption_window: CaptionWindow | None = None
        bar = self.text.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)

        self.scale = DEFAULT_SCALE
        self._apply_scale()
        for keys, step in (("Ctrl+=", 1), ("Ctrl++", 1), ("Ctrl+-", -1), ("Ctrl+0", 0)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda s=step: self.zoom(s))
        opener = QShortcut(QKeySequence("Ctrl+Shift+C"), self)
        opener.setContext(Qt.ShortcutContext.WindowShortcut)
        opener.activated.connect(self.open_caption_window)

    @property
    def labels(self) -> dict[Source, str]:
        """"You" / "Others", or the names the user gave; new blocks use them."""
        return self.model.labels

    @labels.setter
    def labels(self, labels: dict[Source, str]) -> None:
        self.model.labels = dict(labels)

    # -- size ------------------------------------------------------------------------------
    def zoom(self, step: int) -> None:
        """One size larger (1), smaller (-1), or back to the default (0)."""
        if step == 0:
            self.scale = DEFAULT_SCALE
        else:
            nearest = min(range(len(SCALES)), key=lambda i: abs(SCALES[i] - self.scale))
            self.scale = SCALES[max(0, min(len(SCALES) - 1, nearest + step))]
        self._apply_scale()

    def _apply_scale(self) -> None:
        self.text.setFont(caption_font(self.font(), self.scale))
        self.text.setToolTip(f"Captions at {round(self.scale * 100)} % of body text; "
                             "Ctrl+= larger, Ctrl+- smaller, Ctrl+0 default")
        self.changed.emit()  # the compact window takes the same size

    # -- following -------------------------------------------------------------------------
    def _at_bottom(self) -> bool:
        bar = self.text.verticalScrollBar()
        return bar.value() >= bar.maximum() - _FOLLOW_SLACK

    def _scrolled(self, _value: int) -> None:
        if self._drawing:
            return
        self._following = self._at_bottom()
        self.jump_button.setVisible(not self._following)

    def _range_changed(self, _low: int, high: int) -> None:
        if self._following and not self._drawing:
            self.text.verticalScrollBar().setValue(high)

    def following(self) -> bool:
        return self._following

    def jump_to_live(self) -> None:
        self._following = True
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())
        self.jump_button.hide()

    # -- drawing ---------------------------------------------------------------------------
    def _redraw(self) -> None:
        bar = self.text.verticalScrollBar()
        kept = bar.value()
        self._drawing = True
        try:
            cursor = QTextCursor(self.text.document())
            cursor.setPosition(self._tail_pos)
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            blocks = self.model.blocks
            settled = blocks[self._fixed:-1]
            for block in settled:
                self.painter.block(cursor, block)
            self._fixed += len(settled)
            self._tail_pos = cursor.position()
            self.painter.tail(cursor, blocks[self._fixed:])
            bar.setValue(bar.maximum() if self._following else kept)
        finally:
            self._drawing = False
        self.jump_button.setVisible(not self._following)
        self.changed.emit()

    def add_final(self, segment: Segment) -> None:
        if not self.model.add_final(segment):
            return
        self.finals.append(segment)
        self._redraw()

    def add_gap(self, segment: Segment) -> None:
        """Live captions skipped `segment`'s stretch to catch up: say so where it happened."""
        block = self.model.add_gap(segment)
        self.gaps.append(segment)
        line = self.model.gap_line(block).strip("[]")
        self.text.setAccessibleDescription(f"{self.model.header(block)}: {line}. {DESCRIPTION}")
        self._redraw()

    def set_partial(self, segment: Segment | None) -> None:
        self.model.set_partial(segment)
        self._redraw()

    def gap_lines(self) -> list[str]:
        return [line for line in self.text.toPlainText().splitlines()
                if "not captioned live" in line]

    def partial_text(self) -> str:
        return " ".join(s.text.strip() for s in self.model.partials.values()).strip()

    def final_text(self) -> str:
        return " ".join(s.text.strip() for s in self.finals)

    def clear(self) -> None:
        self.text.clear()
        self.finals.clear()
        self.gaps.clear()
        self.model.clear()
        self._tail_pos = 0
        self._fixed = 0
        self.text.setAccessibleDescription(DESCRIPTION)
        self.jump_to_live()
        self.set_lag(None)
        self.changed.emit()

    def set_lag(self, seconds: float | None) -> None:
        """Show how far captions trail the speech; hidden when they keep up."""
        if seconds is None or seconds < 2.0:
            self.lag.hide()
            return
        self.lag.setText(f"Captions are {seconds:.1f} s behind; catching up…")
        self.lag.setAccessibleDescription(self.lag.text())
        self.lag.show()

    # -- the compact window ----------------------------------------------------------------
    def set_live(self, live: bool) -> None:
        """Whether live captions are on: when they go off (withdrawn, turned off, the meeting
        ended) the compact window empties and shows nothing more until they are on again."""
        self._live = live
        if self.caption_window is not None:
            self.caption_window.set_live(live)

    def open_caption_window(self) -> CaptionWindow:
        if self.caption_window is None:
            self.caption_window = CaptionWindow(self)
            self.caption_window.set_live(self._live)
        self.caption_window.show()
        self.caption_window.raise_()
        return self.caption_window


