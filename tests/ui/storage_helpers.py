"""Building the real main window over a real store, real ledger and (optionally) the instance lock,
as `candor` does at start-up."""

from __future__ import annotations

from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QLineEdit,
    QTextEdit,
    QWidget,
)

from app.consent import ConsentGate
from app.ui.launch import open_window_storage
from app.ui.main_window import MainWindow

INTERACTIVE = (QAbstractButton, QComboBox, QLineEdit, QAbstractItemView, QTextEdit)


def open_window(qtbot, gate: ConsentGate, *, upkeep: bool = True) -> MainWindow:
    """The window as run_gui makes it: holding the instance lock (so it does the start-up
    upkeep) and the store opened under it. `upkeep=False`: a window without the lock."""
    if upkeep:
        lock, store = open_window_storage()
        window = MainWindow(gate, store=store, lock=lock)
    else:
        window = MainWindow(gate)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def interactive(root: QWidget) -> list[QWidget]:
    return [
        w for w in root.findChildren(QWidget)
        if isinstance(w, INTERACTIVE) and w.isVisible() and not w.objectName().startswith("qt_")
    ]


def accessible_texts(widget: QWidget) -> tuple[str, str]:
    iface = QAccessible.queryAccessibleInterface(widget)
    assert iface is not None
    return iface.text(QAccessible.Text.Name), iface.text(QAccessible.Text.Description)
