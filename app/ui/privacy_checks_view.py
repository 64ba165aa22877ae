"""The privacy self-check in the window: run at start-up in the background, shown in What Candor
holds as "N of M checks pass", expandable to every check's evidence and, for a failure, what to
do; a failure is also named in the status bar, a link to What Candor holds (not a banner: it
must not take the focus from a dialog the user is answering).

The checks are app.privacy.checks, exactly as `candor privacy check` runs them: on a store and a
ledger connection of their own (open_context), so they share no connection or lock with the
window's searches and exports, on the storage task pool (about 0.1 s of CPU on a small profile,
measured); this module only runs them and draws the result.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.privacy.checks import close_context, open_context, run_checks
from app.privacy.results import PrivacyReport
from app.ui.window_storage import WindowStorage


def failure_note(report: PrivacyReport) -> str:
    """The status bar's text when a check fails; "" when all pass."""
    if report.ok:
        return ""
    return f"Privacy self-check: {report.summary()} (see What Candor holds)"


def _run(home: Path, now: datetime) -> PrivacyReport:
    context = open_context(home, now)
    try:
        return run_checks(context)
    finally:
        close_context(context)


class PrivacyChecks(QObject):
    """Runs the checks off the GUI thread; `finished` carries the PrivacyReport."""

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, storage: WindowStorage, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.storage = storage
        self.report: PrivacyReport | None = None
        self.error: str | None = None
        self.running = False

    def start(self) -> None:
        if self.running or not self.storage.is_open:
            return
        self.running = True
        home, now = self.storage.home, self.storage.clock() or datetime.now(UTC)
        task = self.storage.tasks.start(lambda _task: _run(home, now))
        task.signals.succeeded.connect(self._done)
        task.signals.failed.connect(self._failed)

    def _done(self, report: object) -> None:
        self.running = False
        if isinstance(report, PrivacyReport):
            self.report, self.error = report, None
            self.finished.emit(report)

    def _failed(self, err: object) -> None:
        self.running = False
        self.error = f"the privacy self-check could not run: {err}"
        self.failed.emit(self.error)


class PrivacyChecksBox(QGroupBox):
    """ "N of M checks pass", a button to show or hide each check, and "Check again"."""

    def __init__(self, checks: PrivacyChecks, parent: QWidget | None = None) -> None:
        super().__init__("Privacy self-check", parent)
        self.checks = checks
        self.setObjectName("privacy_checks")
        self.summary = QLabel("Checking Candor's promises on this device…", self)
        self.summary.setObjectName("privacy_checks_summary")
        self.summary.setWordWrap(True)
        self.toggle_button = QPushButton("Show the checks", self)
        self.toggle_button.setCheckable(True)
        self.toggle_button.setAccessibleName("Show the privacy checks")
        self.toggle_button.setAccessibleDescription(
            "Each promise checked, with what was looked at and, if it failed, what to do")
        self.toggle_button.toggled.connect(self._toggle)
        self.again_button = QPushButton("Check &again", self)
        self.again_button.setAccessibleName("Run the privacy checks again")
        self.again_button.setAccessibleDescription("Check every promise again now")
        self.again_button.clicked.connect(checks.start)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("privacy_checks_tree")
        self.tree.setHeaderHidden(True)
        self.tree.setWordWrap(True)
        self.tree.setAccessibleName("Privacy checks")
        self.tree.setAccessibleDescription(
            "One row per promise, passed or failed, with its evidence below it")
        self.tree.hide()
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.toggle_button)
        top.addWidget(self.again_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree)
        checks.finished.connect(self.show_report)
        checks.failed.connect(self.summary.setText)
        if checks.report is not None:
            self.show_report(checks.report)
        elif checks.error:
            self.summary.setText(checks.error)

    def _toggle(self, shown: bool) -> None:
        self.tree.setVisible(shown)
        self.toggle_button.setText("Hide the checks" if shown else "Show the checks")

    def show_report(self, report: object) -> None:
        if not isinstance(report, PrivacyReport):
            return
        checked = report.checked_at.astimezone().strftime("%H:%M")
        self.summary.setText(f"{report.summary()} (checked at {checked})"
                             + ("" if report.ok else
                                f"; failed: {', '.join(r.title for r in report.failed)}"))
        self.summary.setAccessibleName(self.summary.text())
        self.tree.clear()
        for result in report.results:
            item = QTreeWidgetItem([f"{'✓ pass' if result.passed else '✗ FAIL'}  "
                                    f"{result.title}"])
            item.setData(0, Qt.ItemDataRole.UserRole, result.id)
            lines = list(result.evidence)
            if not result.passed and result.remedy:
                lines.append(f"What to do: {result.remedy}")
            for line in lines:
                item.addChild(QTreeWidgetItem([line]))
            self.tree.addTopLevelItem(item)
            item.setExpanded(not result.passed)
        if not report.ok and not self.toggle_button.isChecked():
            self.toggle_button.setChecked(True)  # a failure is shown, not hidden behind a click

    def row(self, check_id: str) -> QTreeWidgetItem | None:
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == check_id:
                return item
        return None


def attach(view: QWidget, checks: PrivacyChecks) -> PrivacyChecksBox:
    """Put the box into What Candor holds, under its summary line."""
    box = PrivacyChecksBox(checks, view)
    layout = view.layout()
    assert isinstance(layout, QVBoxLayout)
    layout.insertWidget(2, box)
    return box
