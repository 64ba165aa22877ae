"""What Candor holds: the transparency report as a readable table, how long each category is
kept, "Export everything…" and "Erase everything…".

The figures come from app.storage.report.build_report, the changes from app.storage (retention
settings, export_all, erase via WindowStorage); this dialog shows them and forwards the choices.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import cast

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.storage import (
    AlreadyRunning,
    StorageError,
    build_report,
    export_all,
)
from app.storage.export import ExportResult
from app.storage.report import Category, ConsentState, Report
from app.ui.background import Task
from app.ui.confirm import confirm_destructive
from app.ui.flow_layout import FlowLayout
from app.ui.gate_bridge import GateBridge
from app.ui.storage_text import human_bytes, local_iso, plural
from app.ui.window_storage import MeetingBeingRecorded, WindowStorage

CATEGORY_TITLES = {
    "transcripts": "Meeting transcripts",
    "recordings": "Meeting recordings (audio)",
    "consent_ledger": "Consent ledger",
    "keys": "Encryption keys",
    "logs": "Logs",
    "settings_and_locks": "Settings and locks",
    "set_aside_databases": "Damaged databases set aside",
    "other_files": "Other files",
}
COLUMNS = ("What", "Items", "Size", "Oldest", "Next automatic erase")


def _consent_line(consent: ConsentState, title: str) -> str:
    record = consent.record_id
    return (f"Consent ({title}): {consent.state}"
            + (f", ledger record {record}" if record else ""))


class TransparencyView(QWidget):
    retention_requested = Signal()  # the retention periods are chosen in Settings
    export_finished = Signal(object)  # ExportResult, or the exception that stopped it
    erased = Signal(object)  # EraseResult

    def __init__(
        self, storage: WindowStorage, bridge: GateBridge, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.storage = storage
        self.setObjectName("transparency_view")
        self.setAccessibleName("What Candor holds")
        self.setAccessibleDescription(
            "Everything Candor keeps on this device, where, how it is protected and until when"
        )
        self.choose_export_folder: Callable[[], str] = self._ask_export_folder
        self.report: Report | None = None
        self.export_task: Task | None = None
        self.progress: QProgressDialog | None = None

        intro = QLabel(
            "Everything Candor keeps is below, and all of it is on this device: nothing is kept "
            "anywhere else. Transcripts are encrypted; deleting one destroys its key.",
            self,
        )
        intro.setWordWrap(True)
        self.summary = QLabel(self)
        self.summary.setObjectName("holdings_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.table = QTreeWidget(self)
        self.table.setObjectName("holdings_table")
        self.table.setColumnCount(len(COLUMNS))
        self.table.setHeaderLabels(COLUMNS)
        self.table.setWordWrap(True)
        self.table.setUniformRowHeights(False)
        header = self.table.header()
        header.setStretchLastSection(True)
        # The first column is sized to the category names (not to the long detail lines spanning
        # the row); the view scrolls sideways rather than hide a name at large font sizes.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setAccessibleName("Report columns")
        header.setAccessibleDescription(", ".join(COLUMNS))
        self.table.setAccessibleName("What Candor holds, by category")
        self.table.setAccessibleDescription(
            "One row per kind of data with its count, size, oldest item and next automatic "
            "erase; below each, where it is stored, how it is protected and the consent for it"
        )

        # Where each kind is stored, how it is protected, its consent record: behind Details.
        self.details_button = QPushButton("Show &details", self)
        self.details_button.setCheckable(True)
        self.details_button.setAccessibleName("Show details")
        self.details_button.setAccessibleDescription(
            "Show under each kind of data where it is stored, how it is protected, the key and "
            "the consent it was kept under (or expand one row with the Right arrow key)"
        )
        self.details_button.toggled.connect(self._show_details)
        self.retention_button = QPushButton("Change how long things are &kept…", self)
        self.retention_button.setAccessibleName("Change how long things are kept")
        self.retention_button.setAccessibleDescription(
            "Open Settings, where the retention period of each kind of data is chosen"
        )
        self.retention_button.clicked.connect(self.retention_requested)

        self.status = QLabel(self)
        self.status.setObjectName("holdings_status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.refresh_button = QPushButton("&Refresh", self)
        self.refresh_button.setAccessibleName("Refresh the report")
        self.refresh_button.setAccessibleDescription("Count again what Candor holds now")
        self.export_button = QPushButton("E&xport everything…", self)
        self.export_button.setAccessibleName("Export everything")
        self.export_button.setAccessibleDescription(
            "Copy every meeting (JSON, text and SRT), the consent receipts and this report into "
            "a new folder you choose"
        )
        self.erase_button = QPushButton("&Erase everything…", self)
        self.erase_button.setAccessibleName("Erase everything")
        self.erase_button.setAccessibleDescription(
            "Erase every stored meeting, key, setting and log after asking once; the consent "
            "ledger keeps only the record that an erase happened"
        )
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self.export_everything)
        self.erase_button.clicked.connect(self.erase_everything)

        buttons = FlowLayout(margins=0)  # wraps at 640 px instead of scrolling sideways
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.details_button)
        buttons.addWidget(self.retention_button)
        buttons.add_stretch()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.erase_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

        storage.changed.connect(self.refresh)
        bridge.changed.connect(self.refresh)
        self.refresh()

    def _show_details(self, shown: bool) -> None:
        self.details_button.setText("Hide &details" if shown else "Show &details")
        if shown:
            self.table.expandAll()
        else:
            self.table.collapseAll()

    # -- the report ------------------------------------------------------------------------

    def category(self, name: str) -> Category | None:
        return self.report.category(name) if self.report is not None else None

    def row(self, name: str) -> QTreeWidgetItem | None:
        for index in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(index)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == name:
                return item
        return None

    def refresh(self) -> None:
        if not self.storage.is_open:
            return
        try:
            report = build_report(
                self.storage.store, gate=self.storage.gate, now=self.storage.clock()
            )
        except StorageError as err:
            self.summary.setText(f"The report cannot be made: {err}")
            return
        self.report = report
        self._fill_table(report)
        transcripts = report.category("transcripts")
        meetings, size = (transcripts.count, transcripts.bytes) if transcripts else (0, 0)
        protection = report.protection  # what guards the keys, and what it leaves at risk
        self.summary.setText(
            f"Candor holds {plural(meetings, 'stored meeting')} "
            f"({human_bytes(size)} of encrypted transcript) in "
            f"{report.data_dir}. Everything there takes {human_bytes(report.total_bytes)}."
            f"\n\n{protection.summary}\nWhat remains at risk: {protection.residual_risk}"
        )
        self.summary.setAccessibleName(self.summary.text())

    def _fill_table(self, report: Report) -> None:
        self.table.clear()
        for cat in report.categories:
            name = cat.category
            size = cat.bytes
            dates = cat.dates
            item = QTreeWidgetItem([
                CATEGORY_TITLES.get(name, name.replace("_", " ").capitalize()),
                str(cat.count),
                human_bytes(size),
                local_iso(dates.oldest) if dates else "",
                local_iso(dates.next_automatic_erase) if dates else "",
            ])
            item.setData(0, Qt.ItemDataRole.UserRole, name)
            item.setToolTip(2, f"{size} bytes")
            for column in (1, 2):
                item.setTextAlignment(
                    column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                )
            for line in self._details(cat):
                child = QTreeWidgetItem([line])
                child.setToolTip(0, line)
                item.addChild(child)
            self.table.addTopLevelItem(item)
            for row in range(item.childCount()):  # spanning works once the item is in the tree
                child_item = item.child(row)
                if child_item is not None:
                    child_item.setFirstColumnSpanned(True)
            item.setExpanded(self.details_button.isChecked())
        metrics = self.table.fontMetrics()
        tops = (self.table.topLevelItem(i) for i in range(self.table.topLevelItemCount()))
        names = [top.text(0) for top in tops if top is not None]
        widest = max([metrics.horizontalAdvance(n) for n in [*names, COLUMNS[0]]])
        self.table.header().resizeSection(
            0, widest + self.table.indentation() + 3 * metrics.averageCharWidth()
        )

    def _details(self, cat: Category) -> list[str]:
        lines = []
        if cat.segments is not None:
            lines.append(f"Transcript segments: {cat.segments}; database files on disk: "
                         f"{human_bytes(cat.file_bytes or 0)}")
        if cat.stored_in:
            lines.append(f"Stored in: {cat.stored_in}")
        if cat.encryption:
            # The report's sentences are long; one clause per line keeps them readable.
            first, *rest = cat.encryption.split("; ")
            lines.append(f"Protection: {first}")
            lines += [f"    {clause[:1].upper()}{clause[1:]}" for clause in rest]
        if cat.key_location:
            lines.append(f"Key: {cat.key_location}")
        if cat.retention is not None:
            lines.append(f"Kept: {cat.retention.text}")
        if cat.consent is not None:
            purpose = cat.consent.purpose
            try:
                title = self.storage.gate.notices.current(purpose).title
            except Exception:  # a purpose the notices do not know: show its id
                title = purpose
            lines.append(_consent_line(cat.consent, title))
        if cat.note:
            lines.append(f"Note: {cat.note}")
        if cat.category in ("set_aside_databases", "other_files"):
            lines += [f"File: {f.path} ({human_bytes(f.bytes)})" for f in cat.files or ()]
        return lines

    # -- export everything -----------------------------------------------------------------

    def _ask_export_folder(self) -> str:
        return QFileDialog.getExistingDirectory(
            self, "Choose where to put the export (a new folder is made inside it)"
        )

    def export_everything(self) -> Task | None:
        chosen = self.choose_export_folder()
        if not chosen:
            return None
        stamp = datetime.now().strftime("%Y-%m-%d_%H%M%S")
        dest = Path(chosen) / f"candor-export-{stamp}"
        store, gate = self.storage.store, self.storage.gate

        def work(task: Task) -> ExportResult:
            return export_all(
                store, dest, gate=gate, now=self.storage.clock(),
                progress=lambda done, total, what: task.report((done, total, what)),
            )

        self.progress = QProgressDialog("Preparing the export…", "", 0, 0, self)
        self.progress.setCancelButton(None)  # export_all cannot stop half-way; it is quick
        self.progress.setWindowTitle("Exporting everything")
        self.progress.setAccessibleName("Export progress")
        self.progress.setAccessibleDescription(f"Writing everything Candor holds to {dest}")
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setMinimumDuration(0)
        self.progress.show()
        self.export_button.setEnabled(False)
        self.erase_button.setEnabled(False)
        self.status.setText(f"Exporting to {dest}…")
        task = self.storage.tasks.start(
            work, reported=self._export_progress,
            succeeded=self._export_done,
            failed=self._export_failed)
        self.export_task = task
        return task

    def _export_progress(self, step: object) -> None:
        done, total, what = cast(tuple[int, int, str], step)
        progress = self.progress
        if progress is None:
            return
        progress.setLabelText(
            "Export finished" if what == "done" else f"Writing {what} ({done + 1} of {total})"
        )
        progress.setMaximum(int(total))
        # A modal progress dialog's setValue runs the event loop, which may deliver the end of
        # the export (and close this dialog) before it returns: set the value last.
        progress.setValue(int(done))

    def _export_ended(self) -> None:
        self.export_task = None
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        self.export_button.setEnabled(True)
        self.erase_button.setEnabled(True)

    def _export_done(self, result: ExportResult) -> None:
        self._export_ended()
        text = (f"Exported {plural(result.meetings, 'meeting')}, the consent "
                f"{'receipts' if result.receipts else 'note'} and the report to {result.dest}.")
        if result.damaged:
            text += (f" {plural(len(result.damaged), 'meeting')} could not be read; each is "
                     "listed in a “.unreadable.txt” file there.")
        self.status.setText(text)
        self.status.setAccessibleName(text)
        self.export_finished.emit(result)

    def _export_failed(self, err: object) -> None:
        self._export_ended()
        self.status.setText(f"The export stopped: {err}")
        QMessageBox.warning(self, "Export failed", f"The export stopped: {err}")
        self.export_finished.emit(err)

    # -- erase everything ------------------------------------------------------------------

    def erase_statement(self) -> str:
        transcripts = self.category("transcripts")
        aside = self.category("set_aside_databases")
        meetings = transcripts.count if transcripts else 0
        parts = [
            f"{plural(meetings, 'stored meeting')} with {'its' if meetings == 1 else 'their'} "
            "transcripts and keys",
            "the master key",
            "your retention settings",
            "Candor's logs",
        ]
        if aside:
            parts.append(plural(aside.count, "damaged database") + " set aside")
        return (
            "This erases, for good: " + ", ".join(parts[:-1]) + " and " + parts[-1] + ". "
            "The consent ledger is replaced by a single record saying that an erase happened, so "
            "every permission goes back to “not given” and everything switches off. Nothing "
            "outside Candor's data folder is touched. If you want a copy, cancel and use "
            "“Export everything…” first."
        )

    def confirm(self, title: str, text: str, action: str) -> bool:
        return confirm_destructive(self, title, text, action)

    def erase_everything(self) -> None:
        self.refresh()
        if not self.confirm("Erase everything Candor holds?", self.erase_statement(),
                            "Erase everything"):
            return
        try:
            result = self.storage.erase_everything(via="panel")
        except MeetingBeingRecorded as err:
            QMessageBox.information(self, "Nothing was erased", str(err))
            return
        except (StorageError, AlreadyRunning, OSError) as err:
            QMessageBox.warning(self, "Erase failed", f"The erase did not finish: {err}")
            self.refresh()
            return
        text = (f"Erased {plural(result.meetings, 'meeting')} and "
                f"{plural(len(result.removed), 'file')}. {result.ledger[:1].upper()}"
                f"{result.ledger[1:]}.")
        self.status.setText(text)
        self.status.setAccessibleName(text)
        self.refresh()
        self.erased.emit(result)
