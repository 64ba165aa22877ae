"""The one confirmation for an action that destroys something.

The safe choice is the default: Enter and Esc both mean Cancel, so a reflexive keypress never
deletes anything. The destructive button names the action ("Delete", "Erase everything").
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm_destructive(parent: QWidget | None, title: str, text: str, action: str) -> bool:
    """Ask once; True only when the user clicked the button named `action`."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    destroy = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
    destroy.setAutoDefault(False)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is destroy
