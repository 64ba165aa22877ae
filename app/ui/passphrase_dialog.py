"""The window's passphrase prompt at start-up, when the keys are wrapped with one.

Displays and forwards only: whether the passphrase is right is decided by
`app.key_protection.unlock_with`, which shows this again with its message when it is wrong.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)


class PassphraseDialog(QDialog):
    def __init__(self, home: str, problem: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Candor: passphrase")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(
            f"Candor's keys for {home} are protected by your passphrase.\n"
            "Type it to open your meetings and consent ledger. It stays in memory only while "
            "Candor runs."))
        self.problem = QLabel(problem)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020")
        self.problem.setVisible(bool(problem))
        layout.addWidget(self.problem)
        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setAccessibleName("Passphrase")
        layout.addWidget(self.field)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout.addWidget(buttons)

    def passphrase(self) -> str:
        return self.field.text()


def ask_passphrase(home: str, problem: str = "") -> str | None:
    """The passphrase typed, or None when the user cancelled."""
    dialog = PassphraseDialog(home, problem)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    return dialog.passphrase() if accepted else None
