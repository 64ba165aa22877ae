"""How a page sits in the shell: inside a frameless scroll area, so a page that needs more room
than the window has scrolls instead of widening the window or cutting its labels."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractScrollArea, QFrame, QScrollArea, QWidget


def fitted(page: QWidget) -> QWidget:
    if isinstance(page, QAbstractScrollArea):
        return page  # it scrolls by itself
    area = QScrollArea()
    area.setObjectName(f"{page.objectName() or 'page'}_scroll")
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setWidget(page)
    area.setAccessibleName(page.accessibleName())
    return area
