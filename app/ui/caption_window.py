"""The compact caption window: a small tool window that stays on top of the call and shows the
last few blocks of the same live captions as the meeting page. It follows the captions view and
shows nothing once live captions are off (withdrawn, turned off, the meeting ended)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import QTextEdit, QVBoxLayout, QWidget

from app.ui.caption_painter import CaptionPainter, caption_font

if TYPE_CHECKING:
    from app.ui.captions_view import CaptionsView

LAST_BLOCKS = 3  # enough for the current turn and the one before it
OFF_TEXT = "Live captions are off."
WAITING_TEXT = "Captions appear here while live captions are on."


class CaptionWindow(QWidget):
    def __init__(self, view: CaptionsView) -> None:
        # A child window of the captions view: it goes when the meeting view goes.
        super().__init__(view, Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint)
        self.view = view
        self.setObjectName("caption_window")
        self.setWindowTitle("Captions")
        self.setAccessibleName("Caption window")
        self.painter = CaptionPainter(view.model)
        self.text = QTextEdit(self)
        self.text.setObjectName("caption_window_text")
        self.text.setReadOnly(True)
        self.text.setFrameShape(QTextEdit.Shape.NoFrame)
        self.text.setAccessibleName("Live captions, last lines")
        self.text.setAccessibleDescription(
            "The newest live captions; Esc or Ctrl+W closes this window")
        self.text.setFont(caption_font(self.font(), view.scale))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.text)
        self.resize(520, 170)
        for keys in (QKeySequence(Qt.Key.Key_Escape), QKeySequence("Ctrl+W")):
            shortcut = QShortcut(keys, self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self.close)
        self._live = True
        view.changed.connect(self.refresh)
        self.refresh()

    def set_live(self, live: bool) -> None:
        self._live = live
        self.refresh()

    def refresh(self) -> None:
        self.text.clear()
        if not self._live:
            self.text.setPlaceholderText(OFF_TEXT)
            return
        self.text.setPlaceholderText(WAITING_TEXT)
        self.text.setFont(caption_font(self.font(), self.view.scale))
        cursor = QTextCursor(self.text.document())
        self.painter.tail(cursor, self.view.model.blocks[-LAST_BLOCKS:])
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    def shown_text(self) -> str:
        return self.text.toPlainText()
