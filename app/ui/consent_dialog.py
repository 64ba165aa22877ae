"""The opt-in dialog: a purpose's full notice and two equal choices, "Allow" and "Don't allow".

Nothing is pre-selected and neither button is the default, so Enter does not agree by accident;
Esc and closing the window mean "Don't allow". Only "Allow" records anything: one grant, for this
purpose, with where it happened.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.consent import ConsentGate, Notice


class OptInDialog(QDialog):
    def __init__(self, notice: Notice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.notice = notice
        self.setWindowTitle(f"Allow {notice.title}?")
        self.setModal(True)
        self.setObjectName(f"optin_{notice.purpose}")
        self.setAccessibleName(f"Permission request: {notice.title}")
        self.setAccessibleDescription(notice.summary)
        self.resize(560, 520)

        heading = QLabel(f"<b>Candor asks for your permission: {notice.title}</b>", self)
        heading.setWordWrap(True)
        heading.setTextFormat(Qt.TextFormat.RichText)
        where = QLabel(
            "Everything runs on this device. You can withdraw this at any time, in one click.",
            self,
        )
        where.setWordWrap(True)

        self.text = QTextBrowser(self)
        self.text.setOpenExternalLinks(False)
        self.text.setMarkdown(notice.body)
        self.text.setAccessibleName(f"Notice: {notice.title}, version {notice.version}")
        self.text.setAccessibleDescription("What data, what for, where, how long, how to withdraw")

        version = QLabel(f"Notice version {notice.version}", self)
        version.setStyleSheet("color: palette(mid);")

        self.allow_button = QPushButton("Allow", self)
        self.deny_button = QPushButton("Don't allow", self)
        for button, description in (
            (self.allow_button, f"Give permission for {notice.title} and record it"),
            (self.deny_button, f"Do not give permission for {notice.title}; nothing is recorded"),
        ):
            button.setAutoDefault(False)
            button.setDefault(False)
            button.setAccessibleName(button.text())
            button.setAccessibleDescription(description)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.allow_button.clicked.connect(self.accept)
        self.deny_button.clicked.connect(self.reject)

        buttons = QHBoxLayout()
        # Same stretch and size for both: declining is as easy and as visible as agreeing.
        buttons.addWidget(self.deny_button, 1)
        buttons.addWidget(self.allow_button, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(where)
        layout.addWidget(self.text, 1)
        layout.addWidget(version)
        layout.addLayout(buttons)
        # Reading order: the notice, then the choices left to right.
        self.text.setTabChangesFocus(True)
        QWidget.setTabOrder(self.text, self.deny_button)
        QWidget.setTabOrder(self.deny_button, self.allow_button)
        self.text.setFocus()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Again once shown: a window that was just activated may have moved focus meanwhile,
        # and the notice, not a button, must be what a keyboard user meets first.
        self.text.setFocus()


def ask_for_purposes(
    gate: ConsentGate,
    purposes: Iterable[str],
    via: str,
    parent: QWidget | None = None,
    dialog_factory: type[OptInDialog] = OptInDialog,
) -> bool:
    """Ask separately for each purpose not yet given; True when all are given in the end.

    Each "Allow" is recorded at once (it was a separate yes); the first "Don't allow" stops.
    """
    for purpose in purposes:
        if gate.allowed(purpose):
            continue
        dialog = dialog_factory(gate.notices.current(purpose), parent)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
        finally:
            dialog.deleteLater()
        gate.grant(purpose, via=via)
    return True
