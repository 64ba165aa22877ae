"""A row of controls that wraps onto the next line when the page is narrower than the row.

Guarantee: the row never asks for more width than its widest single item (plus margins), so a
page of such rows never scrolls sideways because of them; it asks for height instead, through
height-for-width, which QBoxLayout and QScrollArea honour. Each control keeps its preferred
width when it fits the line, and never gets less than its minimum; the room left on a line goes
to the items that expand horizontally (a level meter, a stretch added with `add_stretch`), so a
line that does not wrap looks like the QHBoxLayout it replaces.

Qt ships no flow layout (its "Flow Layout" example is not part of the library); this follows
that example, plus the expanding items.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import (
    QLayout,
    QLayoutItem,
    QSizePolicy,
    QSpacerItem,
    QStyle,
    QWidget,
    QWidgetItem,
)


class FlowLayout(QLayout):
    def __init__(self, parent: QWidget | None = None, *, margins: int | None = None) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        if margins is not None:
            self.setContentsMargins(margins, margins, margins, margins)

    # -- QLayout's item list -----------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def insertWidget(self, index: int, widget: QWidget) -> None:
        """Put `widget` at `index` (QBoxLayout's name and order; a negative index appends)."""
        self.addChildWidget(widget)
        item = QWidgetItem(widget)
        if index < 0:
            self._items.append(item)
        else:
            self._items.insert(index, item)
        self.invalidate()

    def add_stretch(self) -> None:
        """Room that pushes what follows on the same line to its end (like addStretch)."""
        self.addItem(QSpacerItem(0, 0, QSizePolicy.Policy.Expanding,
                                 QSizePolicy.Policy.Minimum))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    # -- sizes -------------------------------------------------------------------------------
    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation.Horizontal

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def sizeHint(self) -> QSize:
        # One line: what the row would take if there were room for all of it.
        items = [i for i in self._shown() if i.spacerItem() is None]
        width = sum(i.sizeHint().width() for i in items) + self._gap() * max(0, len(items) - 1)
        height = max((i.sizeHint().height() for i in items), default=0)
        return QSize(width, height).grownBy(self.contentsMargins())

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._shown():
            size = size.expandedTo(item.minimumSize())
        return size.grownBy(self.contentsMargins())

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    # -- placing -----------------------------------------------------------------------------
    def _gap(self) -> int:
        if self.spacing() >= 0:
            return self.spacing()
        parent = self.parentWidget()
        if parent is None:
            return 6
        return parent.style().pixelMetric(QStyle.PixelMetric.PM_LayoutHorizontalSpacing,
                                          None, parent)

    def _shown(self) -> list[QLayoutItem]:
        # A hidden widget's item is empty; a spacer is "empty" too but keeps its stretch.
        return [i for i in self._items if not i.isEmpty() or i.spacerItem() is not None]

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        """Lay the items out in `rect` (only measure unless `apply`); returns the height used."""
        margins: QMargins = self.contentsMargins()
        area = rect.marginsRemoved(margins)
        gap = self._gap()
        lines: list[list[tuple[QLayoutItem, int]]] = [[]]
        used = 0  # width taken on the current line by its controls (spacers take none)
        for item in self._shown():
            if item.spacerItem() is not None:
                lines[-1].append((item, 0))
                continue
            width = max(item.minimumSize().width(), min(item.sizeHint().width(), area.width()))
            needed = width if not used else used + gap + width
            if used and needed > area.width():
                lines.append([])
                needed = width
            lines[-1].append((item, width))
            used = needed
        y = area.y()
        for line in lines:
            placed = [(i, w) for i, w in line]
            while placed and placed[-1][0].spacerItem() is not None:
                placed.pop()  # a stretch at a line's end pushes nothing
            if not placed:
                continue
            controls = sum(1 for i, _w in placed if i.spacerItem() is None)
            taken = sum(w for _i, w in placed) + gap * (controls - 1)
            growing = [k for k, (i, _w) in enumerate(placed)
                       if i.expandingDirections() & Qt.Orientation.Horizontal]
            spare = max(0, area.width() - taken)
            widths = [w for _i, w in placed]
            for n, k in enumerate(growing):
                widths[k] += spare // len(growing) + (1 if n < spare % len(growing) else 0)
            heights = [self._height(i, w) for (i, _w), w in zip(placed, widths, strict=True)]
            line_height = max(heights)
            x = area.x()
            for (item, _w), width, height in zip(placed, widths, heights, strict=True):
                if apply:
                    top = y + (line_height - height) // 2
                    item.setGeometry(QRect(QPoint(x, top), QSize(width, height)))
                x += width + (gap if item.spacerItem() is None else 0)
            y += line_height + gap
        return max(0, y - gap - area.y()) + margins.top() + margins.bottom()

    @staticmethod
    def _height(item: QLayoutItem, width: int) -> int:
        if item.spacerItem() is not None:
            return 0
        if item.hasHeightForWidth():
            return max(item.minimumSize().height(), item.heightForWidth(width))
        return item.sizeHint().height()
