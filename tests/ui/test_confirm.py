"""A reflexive Enter or Esc on a destructive confirmation deletes nothing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.ui.confirm import confirm_destructive


def _answer_with_key(key: Qt.Key, seen: list[str]) -> None:
    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, press)
            return
        default = box.defaultButton()
        seen.append(default.text() if default is not None else "")
        # A key press on the dialog itself is what Qt's own handling of Enter/Esc sees.
        from PySide6.QtTest import QTest

        QTest.keyClick(box, key)

    QTimer.singleShot(10, press)


@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape])
def test_enter_and_escape_choose_cancel(qtbot, key):
    parent = QWidget()
    qtbot.addWidget(parent)
    seen: list[str] = []
    _answer_with_key(key, seen)
    answer = confirm_destructive(parent, "Delete this meeting?", "It goes for good.", "Delete")
    assert answer is False
    assert seen == ["Cancel"]


def test_clicking_the_named_action_confirms(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, click)
            return
        [delete] = [b for b in box.buttons() if b.text() == "Erase everything"]
        delete.click()

    QTimer.singleShot(10, click)
    assert confirm_destructive(parent, "Erase?", "All of it.", "Erase everything") is True
