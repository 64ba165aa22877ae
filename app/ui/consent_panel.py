"""Privacy & consent, a page of the window: every permission with its state, and the
ledger's history in plain words (the ledger's ids and hashes behind "Show details").

Giving from here takes two clicks ("Give…", then "Allow" in the notice); withdrawing takes one.
"Withdraw and delete" is offered only when something would be deleted, names what goes ("the
transcript of 'Weekly sync', 1 Dec, 12 min") and asks once, Cancel being the default.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.consent import GIVEN, RECONSENT_NEEDED, ConsentGate, Notice, PurposeState
from app.derived_data import PRODUCING, count_derived, delete_derived
from app.private_files import write_private
from app.ui.confirm import confirm_destructive
from app.ui.consent_dialog import ask_for_purposes
from app.ui.flow_layout import FlowLayout
from app.ui.gate_bridge import GateBridge
from app.ui.theme import accents

EVENT_TEXT = {
    "given": "Given",
    "withdrawn": "Withdrawn",
    "reconsent_needed": "Notice changed: asked again",
    "expired": "Ended (used once)",
    "data_erased": "Everything erased",
    "reviewed": "Looked at again and kept",
    "participants_informed": "You confirmed the others were told",
    "participant_objected": "Someone objected; their captions were deleted",
}
WHERE_TEXT = {
    "cli": "Command line",
    "dialog": "Permission dialog",
    "panel": "Privacy & consent",
    "meeting_toolbar": "Meeting page",
    "file_transcription": "Transcribe a file",
    "first_run": "First start",
    "system": "Candor itself",
    "test": "Test",
}
MAX_NAMED = 5  # items named in a deletion question; more are counted

STATE_TEXT = {
    GIVEN: "Given",
    RECONSENT_NEEDED: "Needs your consent again",
    "not_given": "Not given",
}


def _when(iso: str | None) -> str:
    return _local(iso) if iso else ""


def _local(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


class NoticeViewer(QDialog):
    def __init__(self, notice: Notice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{notice.title} — notice version {notice.version}")
        self.setAccessibleName(f"Notice for {notice.title}")
        self.resize(560, 480)
        text = QTextBrowser(self)
        text.setMarkdown(notice.body)
        text.setAccessibleName(f"Notice text for {notice.title}")
        digest = QLabel(f"Version {notice.version} · SHA-256 {notice.sha256}", self)
        digest.setWordWrap(True)
        digest.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("Close", self)
        close.setAccessibleName("Close notice")
        close.setAccessibleDescription("Close the notice; nothing is given")
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(text, 1)
        layout.addWidget(digest)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)


class PurposeRow(QFrame):
    give_requested = Signal(str)
    withdraw_requested = Signal(str)
    withdraw_and_delete_requested = Signal(str)
    notice_requested = Signal(str)

    def __init__(self, purpose: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.purpose = purpose
        self.setObjectName(f"row_{purpose}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(self)
        self.state_label = QLabel(self)
        self.state_label.setObjectName("state")
        self.detail = QLabel(self)
        self.summary = QLabel(self)
        for label in (self.title, self.detail, self.summary):
            label.setWordWrap(True)
        self.view_button = QPushButton("View notice", self)
        self.action_button = QPushButton(self)
        self.delete_button = QPushButton(self)
        self.view_button.clicked.connect(lambda: self.notice_requested.emit(self.purpose))
        self.action_button.clicked.connect(self._act)
        self.delete_button.clicked.connect(
            lambda: self.withdraw_and_delete_requested.emit(self.purpose)
        )
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.state_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.view_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.action_button)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.summary)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)
        self._state: PurposeState | None = None

    def _act(self) -> None:
        if self._state is not None and self._state.granted:
            self.withdraw_requested.emit(self.purpose)
        else:
            self.give_requested.emit(self.purpose)

    def show_state(self, state: PurposeState, notice: Notice, derived: int) -> None:
        self._state = state
        self.title.setText(f"<b>{notice.title}</b>")
        self.state_label.setText(STATE_TEXT[state.state])
        self.summary.setText(notice.summary)
        if state.granted:
            self.detail.setText(
                f"Given {_when(state.given_at)} under notice version {state.notice_version}"
            )
        elif state.state == RECONSENT_NEEDED:
            self.detail.setText(
                f"Given under notice version {state.notice_version}; the notice is now version "
                f"{state.current_version}. It stays off until you give it again."
            )
        else:
            self.detail.setText(f"Notice version {state.current_version}")
        if state.granted:
            self.action_button.setText("Withdraw")
            action_description = f"Withdraw {notice.title} now; processing stops at once"
        elif state.state == RECONSENT_NEEDED:
            self.action_button.setText("Give again…")
            action_description = f"Read the changed notice for {notice.title} and decide"
        else:
            self.action_button.setText("Give…")
            action_description = f"Read the notice for {notice.title} and decide"
        # Offered only when there is something to delete: "(0 items)" would promise nothing.
        has_owner = self.purpose in PRODUCING
        self.delete_button.setVisible(has_owner and derived > 0)
        label = "Withdraw and delete" if state.granted else "Delete what it produced"
        self.delete_button.setText(f"{label} ({derived} item{'' if derived == 1 else 's'})…")
        self.delete_button.setEnabled(derived > 0)
        self._describe(notice, state, derived, action_description)

    def _describe(
        self, notice: Notice, state: PurposeState, derived: int, action_description: str
    ) -> None:
        self.setAccessibleName(f"{notice.title}: {STATE_TEXT[state.state]}")
        self.setAccessibleDescription(notice.summary)
        self.action_button.setAccessibleName(f"{self.action_button.text()} {notice.title}")
        self.action_button.setAccessibleDescription(action_description)
        self.view_button.setAccessibleName(f"View notice for {notice.title}")
        self.view_button.setAccessibleDescription(
            "Read what data it uses, what for, where, and for how long"
        )
        self.delete_button.setAccessibleName(f"{self.delete_button.text()} — {notice.title}")
        self.delete_button.setAccessibleDescription(
            f"Withdraw {notice.title} and delete the "
            f"{derived} item{'' if derived == 1 else 's'} produced under it, after asking once"
        )


class HistoryTab(QWidget):
    COLUMNS = ("When", "Permission", "What happened", "Where", "Data deleted")
    DETAIL_COLUMNS = ("#", "Permission id", "Notice version", "Record id")

    def __init__(self, gate: ConsentGate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gate = gate
        self.integrity = QLabel(self)
        self.integrity.setWordWrap(True)
        self.integrity.setObjectName("integrity")
        self.head = QLabel(self)
        self.head.setWordWrap(True)
        self.head.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.head.setAccessibleName("Ledger head hash")
        self.head.hide()
        columns = self.COLUMNS + self.DETAIL_COLUMNS
        self.table = QTableWidget(0, len(columns), self)
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAccessibleName("Consent history")
        self.table.setAccessibleDescription(
            "Every record of the consent ledger, oldest first: when, which permission, what "
            "happened, where, and whether deleting its data was asked"
        )
        self.details_button = QPushButton("Show &details", self)
        self.details_button.setCheckable(True)
        self.details_button.setAccessibleName("Show technical details")
        self.details_button.setAccessibleDescription(
            "Show the ledger's record numbers, permission ids, notice versions, record ids "
            "and head hash"
        )
        self.details_button.toggled.connect(self.show_details)
        self.verify_button = QPushButton("Verify now", self)
        self.verify_button.setAccessibleName("Verify the consent ledger")
        self.verify_button.setAccessibleDescription("Check that no record was changed or removed")
        self.verify_button.clicked.connect(self.refresh)
        self.export_button = QPushButton("Export receipts…", self)
        self.export_button.setAccessibleName("Export consent receipts")
        self.export_button.setAccessibleDescription(
            "Save a JSON consent receipt of every permission"
        )
        self.export_button.clicked.connect(self._export_clicked)
        self.kantara_button = QPushButton("Export as &Kantara receipt…", self)
        self.kantara_button.setAccessibleName("Export a Kantara consent receipt")
        self.kantara_button.setAccessibleDescription(
            "Save the permissions given now as a Kantara Consent Receipt v1.1, a standard "
            "format other tools can read"
        )
        self.kantara_button.clicked.connect(self._kantara_clicked)
        self.choose_export_path: Callable[[], str] = self._ask_export_path
        self.choose_kantara_path: Callable[[], str] = self._ask_kantara_path
        buttons = FlowLayout(margins=0)  # wraps at 640 px instead of scrolling sideways
        buttons.addWidget(self.verify_button)
        buttons.addWidget(self.details_button)
        buttons.add_stretch()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.kantara_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.integrity)
        layout.addWidget(self.head)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.show_details(False)
        self.refresh()

    def show_details(self, shown: bool) -> None:
        first = len(self.COLUMNS)
        for column in range(first, first + len(self.DETAIL_COLUMNS)):
            self.table.setColumnHidden(column, not shown)
        self.head.setVisible(shown)
        self.details_button.setText("Hide &details" if shown else "Show &details")

    def _title(self, purpose: str) -> str:
        try:
            return self.gate.notices.current(purpose).title
        except Exception:  # "*" (an erase of everything) or a purpose no notice knows
            return "Every permission" if purpose == "*" else purpose

    def refresh(self) -> None:
        result = self.gate.ledger.verify()
        if result.ok:
            self.integrity.setText(
                f"✓ The consent history is intact: {result.checked} "
                f"record{'' if result.checked == 1 else 's'}, none changed or removed."
            )
        else:
            self.integrity.setText(f"✗ The consent history does not verify: {result.describe()}")
        self.integrity.setAccessibleName(self.integrity.text())
        self.head.setText(f"Head hash: {result.head_hash or '—'}")
        records = self.gate.ledger.records()
        self.table.setRowCount(len(records))
        for row, r in enumerate(records):
            values = (
                _local(r.event_time),
                self._title(r.purpose),
                EVENT_TEXT.get(r.state, r.state.replace("_", " ")),
                WHERE_TEXT.get(r.collection_method, r.collection_method.replace("_", " ")),
                {True: "Yes", False: "No", None: ""}[r.delete_data_requested],
                str(r.seq),
                r.purpose,
                f"v{r.notice_version}" if r.notice_version else "",
                r.record_id,
            )
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))

    def _ask_export_path(self) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export consent receipts", "candor-consent-receipts.json", "JSON (*.json)"
        )
        return path

    def _export_clicked(self) -> None:
        path = self.choose_export_path()
        if path:
            self.export_to(Path(path))

    def _ask_kantara_path(self) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export a Kantara consent receipt", "candor-kantara-receipt.json",
            "JSON (*.json)"
        )
        return path

    def _kantara_clicked(self) -> None:
        path = self.choose_kantara_path()
        if path:
            self.export_kantara_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Candor's own receipt: every event, the full notices, the ledger head."""
        from app.consent.receipts import build_receipt

        self._save(path, build_receipt(self.gate), "Receipts")

    def export_kantara_to(self, path: Path) -> None:
        """A Kantara Consent Receipt v1.1 of the permissions given now."""
        from app.consent.kantara import NothingGiven, build_kantara_receipt

        try:
            receipt = build_kantara_receipt(self.gate)
        except NothingGiven:
            QMessageBox.information(
                self,
                "Nothing to put in a Kantara receipt",
                "No permission is given now, and a Kantara receipt records a consent in force. "
                "Give a permission first, or use \"Export receipts…\" for the full history.",
            )
            return
        self._save(path, receipt, "Kantara receipt")

    def _save(self, path: Path, receipt: dict[str, object], what: str) -> None:
        try:
            write_private(path, json.dumps(receipt, indent=2, ensure_ascii=False) + "\n")
        except OSError as err:
            QMessageBox.warning(
                self,
                "Export failed",
                f"Could not write {path}: {err.strerror}. Choose another place.",
            )
            return
        self.integrity.setText(f"{self.integrity.text()}  {what} saved to {path}.")


DataCounter = Callable[[str, Sequence[str]], int]  # (purpose, grant record ids) -> items
# (purpose, grant record ids) -> what deleting would erase, one line per item, in plain words
DataDescriber = Callable[[str, Sequence[str]], list[str]]
ConsentTab = Literal["permissions", "history"]
TABS: tuple[ConsentTab, ...] = ("permissions", "history")


def _no_descriptions(_purpose: str, _record_ids: Sequence[str]) -> list[str]:
    return []


def deletion_text(title: str, count: int, items: Sequence[str], *, granted: bool) -> str:
    """The question before "withdraw and delete": it names what goes, not "N item(s)"."""
    if items:
        named = list(items[:MAX_NAMED])
        rest = count - len(named)
        if rest > 0:
            named.append(f"{rest} more")
        what = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    else:
        what = f"{count} item{'' if count == 1 else 's'} produced under it"
    text = f"{what} will be deleted for good. This cannot be undone."
    if granted:
        return f"{title} will be withdrawn and {text}"
    return text[:1].upper() + text[1:]


class ConsentPanel(QWidget):
    def __init__(
        self,
        gate: ConsentGate,
        bridge: GateBridge,
        parent: QWidget | None = None,
        *,
        count_data: DataCounter = count_derived,
        delete_data: DataCounter = delete_derived,
        describe_data: DataDescriber = _no_descriptions,
    ) -> None:
        super().__init__(parent)
        self.gate = gate
        # The window passes its open store's counter, describer and deleter (see MainWindow).
        self.count_data = count_data
        self.delete_data = delete_data
        self.describe_data = describe_data
        self.setObjectName("consent_panel")
        self.setAccessibleName("Privacy and consent")
        self.setAccessibleDescription("Every permission Candor uses, and the consent history")
        intro = QLabel(
            "Everything Candor does runs on this device. Each permission below is separate; "
            "nothing is on until you give it, and withdrawing stops it at once.",
            self,
        )
        intro.setWordWrap(True)
        self.banner = QLabel(self)
        self.banner.setObjectName("reconsent_banner")
        self.banner.setWordWrap(True)
        colours = accents(self.palette())
        self.banner.setStyleSheet(f"background: {colours.warning_background}; "
                                  f"color: {colours.warning_text}; padding: 6px;")
        self.rows: dict[str, PurposeRow] = {}
        rows_widget = QWidget(self)
        rows_layout = QVBoxLayout(rows_widget)
        for state in gate.states():
            row = PurposeRow(state.purpose, rows_widget)
            row.give_requested.connect(self.give)
            row.withdraw_requested.connect(self.withdraw)
            row.withdraw_and_delete_requested.connect(self.withdraw_and_delete)
            row.notice_requested.connect(self.view_notice)
            rows_layout.addWidget(row)
            self.rows[state.purpose] = row
        rows_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidget(rows_widget)
        scroll.setWidgetResizable(True)
        scroll.setAccessibleName("Permissions")
        self.history = HistoryTab(gate, self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(scroll, "Permissions")
        self.tabs.addTab(self.history, "History")
        self.tabs.setAccessibleName("Privacy and consent sections")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        bridge.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        reconsent = []
        for state in self.gate.states():
            notice = self.gate.notices.current(state.purpose)
            derived = self.count_data(state.purpose, self.gate.grant_record_ids(state.purpose))
            self.rows[state.purpose].show_state(state, notice, derived)
            if state.state == RECONSENT_NEEDED:
                reconsent.append(notice.title)
        self.banner.setVisible(bool(reconsent))
        self.banner.setText(
            "The notice changed for: " + ", ".join(reconsent) + ". These stay off until you "
            "read the new notice and give them again."
        )
        self.banner.setAccessibleName(self.banner.text())
        self.history.refresh()

    def show_tab(self, tab: ConsentTab) -> None:
        self.tabs.setCurrentIndex(TABS.index(tab))

    def give(self, purpose: str) -> None:
        ask_for_purposes(self.gate, [purpose], via="panel", parent=self)

    def withdraw(self, purpose: str) -> None:
        self.gate.withdraw(purpose, via="panel")

    def withdraw_and_delete(self, purpose: str) -> None:
        ids = self.gate.grant_record_ids(purpose)
        count = self.count_data(purpose, ids)
        if count == 0:
            self.refresh()  # deleted meanwhile (the history, the CLI): nothing to ask about
            return
        title = self.gate.notices.current(purpose).title
        granted = self.gate.state(purpose).granted
        action = "Withdraw and delete" if granted else "Delete"
        if not self.confirm(
            f"Withdraw {title} and delete?" if granted else f"Delete what {title} produced?",
            deletion_text(title, count, self.describe_data(purpose, ids), granted=granted),
            action,
        ):
            return
        if granted:
            self.gate.withdraw(purpose, via="panel", delete_data=True)
        self.delete_data(purpose, ids)
        self.refresh()

    def confirm(self, title: str, text: str, action: str = "Withdraw and delete") -> bool:
        return confirm_destructive(self, title, text, action)

    def view_notice(self, purpose: str) -> None:
        viewer = NoticeViewer(self.gate.notices.current(purpose), self)
        viewer.exec()
        viewer.deleteLater()
