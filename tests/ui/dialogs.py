"""Answer modal dialogs the way a user would: click the visible button."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from app.ui.consent_dialog import OptInDialog


class DialogAnswerer:
    """Polls for modal dialogs and answers each with the next action; records what it saw."""

    def __init__(self, actions: list[str | Callable[[OptInDialog], None]]) -> None:
        self.actions = list(actions)
        self.seen: list[str] = []
        self.errors: list[BaseException] = []
        self._waiting_since: tuple[object, float] | None = None
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        widget = QApplication.activeModalWidget()
        if widget is None or not self.actions:
            return
        if isinstance(widget, QProgressDialog):
            # A progress dialog asks nothing; on a busy machine it is still up when the poll
            # comes, and answering it would take the answer meant for the question after it.
            return
        if isinstance(widget, OptInDialog) and not widget.isActiveWindow():
            # A user answers a dialog once it has the keyboard; on a busy machine the window
            # system activates it a while after it is shown. Not forever: a dialog that never
            # becomes active is answered anyway after 10 s, so a test cannot hang on it.
            if self._waiting_since is None or self._waiting_since[0] is not widget:
                self._waiting_since = (widget, time.monotonic())
            if time.monotonic() - self._waiting_since[1] < 10:
                return
        action = self.actions.pop(0)
        if isinstance(widget, OptInDialog):
            self.seen.append(widget.notice.purpose)
            if callable(action):
                try:
                    action(widget)
                except BaseException as err:  # never leave a modal dialog blocking the test
                    self.errors.append(err)
                    widget.reject()
            elif action == "allow":
                widget.allow_button.click()
            elif action == "deny":
                widget.deny_button.click()
        elif isinstance(widget, QMessageBox):
            self.seen.append("message:" + widget.text())
            buttons = widget.buttons()
            if len(buttons) < 2:
                widget.accept()
                return
            # By role, not position: Qt lays buttons out by role (a destructive one goes after
            # Cancel), so buttons() is not in the order they were added.
            reject = [b for b in buttons
                      if widget.buttonRole(b) == QMessageBox.ButtonRole.RejectRole]
            others = [b for b in buttons if b not in reject]
            {"confirm": others, "cancel": reject}[action][0].click()
        else:
            self.seen.append(type(widget).__name__)
            widget.close()

    def stop(self) -> None:
        self.timer.stop()
        if self.errors:
            raise self.errors[0]
