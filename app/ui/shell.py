"""The window's frame: a sidebar of named pages beside the page shown. Each page is an ordinary
widget added once; the shell only switches between them (no logic of its own)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QStackedWidget,
    QWidget,
)

from app.ui.icons import icon
from app.ui.pages import PAGE_BY_ID, PageId, PageSpec

ID_ROLE = Qt.ItemDataRole.UserRole


class Shell(QWidget):
    page_shown = Signal(str)  # PageId

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shell")
        self.sidebar = QListWidget(self)
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setAccessibleName("Places")
        self.sidebar.setAccessibleDescription(
            "Choose a place: Meeting, History, Privacy & consent, What Candor holds, Settings. "
            "Ctrl+1 to Ctrl+5 go there directly."
        )
        self.sidebar.setFrameShape(QFrame.Shape.NoFrame)
        self.sidebar.setIconSize(QSize(24, 24))
        self.sidebar.setSpacing(2)
        self.sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sidebar.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.stack = QStackedWidget(self)
        self.stack.setObjectName("pages")
        self._pages: dict[str, QWidget] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.sidebar.currentRowChanged.connect(self._row_changed)

    def add_page(self, spec: PageSpec, widget: QWidget) -> None:
        item = QListWidgetItem(icon(spec.icon), spec.title)
        item.setData(ID_ROLE, spec.id)
        item.setToolTip(f"{spec.description} ({spec.shortcut})")
        item.setSizeHint(QSize(0, max(36, self.fontMetrics().height() * 2)))
        self.sidebar.addItem(item)
        self.stack.addWidget(widget)
        self._pages[spec.id] = widget
        self._fit_sidebar()

    def _fit_sidebar(self) -> None:
        # As wide as the longest title at the user's font size, never more: the page keeps
        # the rest (200 % font included).
        metrics = self.sidebar.fontMetrics()
        widest = max(metrics.horizontalAdvance(self.sidebar.item(i).text())
                     for i in range(self.sidebar.count()))
        self.sidebar.setFixedWidth(widest + self.sidebar.iconSize().width()
                                   + 5 * metrics.averageCharWidth())

    def page(self, page_id: PageId) -> QWidget:
        return self._pages[page_id]

    @property
    def current(self) -> PageId | None:
        item = self.sidebar.currentItem()
        return None if item is None else item.data(ID_ROLE)

    def show_page(self, page_id: PageId) -> QWidget:
        widget = self._pages[page_id]
        for row in range(self.sidebar.count()):
            item = self.sidebar.item(row)
            if item.data(ID_ROLE) == page_id:
                self.sidebar.setCurrentRow(row)
        return widget

    def _row_changed(self, row: int) -> None:
        item = self.sidebar.item(row)
        if item is None:
            return
        page_id = item.data(ID_ROLE)
        widget = self._pages[page_id]
        self.stack.setCurrentWidget(widget)
        widget.setAccessibleName(widget.accessibleName() or PAGE_BY_ID[page_id].title)
        self.page_shown.emit(page_id)
