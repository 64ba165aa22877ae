"""Drawing caption blocks into a QTextDocument, shared by the captions view and the compact
caption window so both look the same: the speaker in bold, the time dimmed, the words below;
words in progress dimmed; a skipped stretch in dimmed italics."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QTextBlockFormat, QTextCharFormat, QTextCursor

from app.segments import Source
from app.ui.caption_blocks import Block, CaptionBlocks, minutes_seconds

DIMMED = "#8a8a8a"


class CaptionPainter:
    """Draws caption blocks into a QTextDocument through a cursor (shared by the captions view
    and the compact window, so both look the same)."""

    def __init__(self, model: CaptionBlocks) -> None:
        self.model = model
        self.final = QTextCharFormat()
        self.dimmed = QTextCharFormat()
        self.dimmed.setForeground(QColor(DIMMED))
        self.speaker = QTextCharFormat()
        self.speaker.setFontWeight(QFont.Weight.Bold)
        self.gap = QTextCharFormat()
        self.gap.setForeground(QColor(DIMMED))
        self.gap.setFontItalic(True)
        self.header_block = QTextBlockFormat()
        self.header_block.setTopMargin(8)
        self.text_block = QTextBlockFormat()

    def _header(self, cursor: QTextCursor, source: Source | None, start: float,
                dimmed: bool) -> None:
        if not cursor.atStart():
            cursor.insertBlock(self.header_block, self.final)
        else:
            cursor.setBlockFormat(self.header_block)
        who = self.model.speaker(source)
        when = minutes_seconds(start)
        if who:
            cursor.insertText(who, self.dimmed if dimmed else self.speaker)
            cursor.insertText("  ", self.final)
        cursor.insertText(when, self.dimmed)
        cursor.insertBlock(self.text_block, self.final)

    def block(self, cursor: QTextCursor, block: Block, partial: str = "") -> None:
        self._header(cursor, block.source, block.start, dimmed=False)
        if block.gap:
            cursor.insertText(self.model.gap_line(block), self.gap)
            return
        cursor.insertText(block.text(), self.final)
        if partial:
            cursor.insertText(" " + partial, self.dimmed)

    def tail(self, cursor: QTextCursor, blocks: list[Block]) -> None:
        """Draw `blocks` (the last one may hold a partial) and then every speaker's words in
        progress that start a block of their own."""
        for i, block in enumerate(blocks):
            partial = ""
            if i == len(blocks) - 1 and self.model.partial_in_last_block(block.source):
                partial = self.model.partials[block.source].text.strip()
            self.block(cursor, block, partial)
        for source, segment in self.model.partials.items():
            if blocks and blocks[-1] is self.model.blocks[-1] and \
                    self.model.partial_in_last_block(source):
                continue
            self._header(cursor, source, segment.start, dimmed=True)
            cursor.insertText(segment.text.strip(), self.dimmed)


def caption_font(base: QFont, scale: float) -> QFont:
    font = QFont(base)
    size = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
    font.setPointSizeF(size * scale)
    return font
