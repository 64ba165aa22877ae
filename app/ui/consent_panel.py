"""Privacy & consent: every permission with its state, and the ledger's history.

Giving from here takes two clicks ("Give…", then "Allow" in the notice); withdrawing takes one.
"Withdraw and delete" says how many items will go and asks once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

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
from app.ui.gate_bridge import GateBridge

STATE_TEXT = {
    GIVEN: "Given",
    RECONSENT_NEEDED: "Needs your consent again",
    "not_given": "Not given",
}


def _when(iso: str | None) -> str:
    return f"{iso[:16].replace('T', ' ')} UTC" if iso else ""


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
        has_owner = self.purpose in PRODUCING
        self.delete_button.setVisible(has_owner and (state.granted or derived > 0))
        label = "Withdraw and delete" if state.granted else "Delete what it produced"
        self.delete_button.setText(f"{label} ({derived} item{'' if derived == 1 else 's'})")
        self.delete_button.setEnabled(state.granted or derived > 0)
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
            f"Withdraw {notice.title} and delete the {derived} item(s) produced under it"
        )


class HistoryTab(QWidget):
    COLUMNS = ("#", "Time (UTC)", "Permission", "Event", "Where", "Notice", "Deletion asked")

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
        self.table = QTableWidget(0, len(self.COLUMNS), self)
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAccessibleName("Consent history")
        self.table.setAccessibleDescription("Every record of the consent ledger, oldest first")
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
        self.choose_export_path: Callable[[], str] = self._ask_export_path
        buttons = QHBoxLayout()
        buttons.addWidget(self.verify_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.integrity)
        layout.addWidget(self.head)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        result = self.gate.ledger.verify()
        if result.ok:
            self.integrity.setText(
                f"✓ The ledger verifies: {result.checked} record(s), none changed or removed."
            )
        else:
            self.integrity.setText(f"✗ The ledger does not verify: {result.describe()}")
        self.integrity.setAccessibleName(self.integrity.text())
        self.head.setText(f"Head hash: {result.head_hash or '—'}")
        records = self.gate.ledger.records()
        self.table.setRowCount(len(records))
        for row, r in enumerate(records):
            values = (
                str(r.seq),
                r.event_time[:19].replace("T", " "),
                r.purpose,
                r.state.replace("_", " "),
                r.collection_method.replace("_", " "),
                f"v{r.notice_version}" if r.notice_version else "",
                {True: "yes", False: "no", None: ""}[r.delete_data_requested],
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

    def export_to(self, path: Path) -> None:
        from app.consent.receipts import build_receipt

        try:
            write_private(
                path, json.dumps(build_receipt(self.gate), indent=2, ensure_ascii=False) + "\n"
            )
        except OSError as err:
            QMessageBox.warning(
                self,
                "Export failed",
                f"Could not write {path}: {err.strerror}. Choose another place.",
            )
            return
        self.integrity.setText(f"{self.integrity.text()}  Receipts saved to {path}.")


DataCounter = Callable[[str, Sequence[str]], int]  # (purpose, grant record ids) -> items


class ConsentPanel(QDialog):
    def __init__(
        self,
        gate: ConsentGate,
        bridge: GateBridge,
        parent: QWidget | None = None,
        *,
        count_data: DataCounter = count_derived,
        delete_data: DataCounter = delete_derived,
    ) -> None:
        super().__init__(parent)
        self.gate = gate
        # The window passes its open store's counter and deleter (see MainWindow).
        self.count_data = count_data
        self.delete_data = delete_data
        self.setWindowTitle("Privacy & consent — Candor")
        self.setObjectName("consent_panel")
        self.setAccessibleName("Privacy and consent")
        self.setAccessibleDescription("Every permission Candor uses, and the consent history")
        self.resize(760, 640)
        intro = QLabel(
            "Everything Candor does runs on this device. Each permission below is separate; "
            "nothing is on until you give it, and withdrawing stops it at once.",
            self,
        )
        intro.setWordWrap(True)
        self.banner = QLabel(self)
        self.banner.setObjectName("reconsent_banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fff4ce; color: #3b2f00; padding: 6px;")
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
        close = QPushButton("Close", self)
        close.setAccessibleName("Close Privacy and consent")
        close.setAccessibleDescription("Close this window; nothing changes")
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
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

    def give(self, purpose: str) -> None:
        ask_for_purposes(self.gate, [purpose], via="panel", parent=self)

    def withdraw(self, purpose: str) -> None:
        self.gate.withdraw(purpose, via="panel")

    def withdraw_and_delete(self, purpose: str) -> None:
        ids = self.gate.grant_record_ids(purpose)
        count = self.count_data(purpose, ids)
        title = self.gate.notices.current(purpose).title
        if not self.confirm(
            f"Withdraw {title} and delete?",
            f"{title} will be withdrawn and {count} item(s) produced under it will be deleted "
            "for good. This cannot be undone.",
        ):
            return
        self.gate.withdraw(purpose, via="panel", delete_data=True)
        self.delete_data(purpose, ids)
        self.refresh()

    def confirm(self, title: str, text: str) -> bool:
        return confirm_destructive(self, title, text, "Withdraw and delete")

    def view_notice(self, purpose: str) -> None:
        viewer = NoticeViewer(self.gate.notices.current(purpose), self)
        viewer.exec()
        viewer.deleteLater()
