""""Share anonymised corrections…": the contribution preview and the file written from it.

The dialog only displays and forwards: the content comes from app.contribution.service (the
preview runs on the storage task pool, so OpenDP's import and the aggregation never block the
window). "Save file…" asks for the single-use `contribution` permission with its notice every
time (the consent dialog flow), then writes exactly the text shown. Errors are shown here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.consent import ConsentGate, ConsentRequired
from app.consent.purposes import CONTRIBUTION
from app.contribution.release import DEFAULT_EPSILON, MAX_EPSILON
from app.contribution.service import Contribution, export, prepare
from app.storage.database import StorageError
from app.storage.export import ExportError
from app.ui.consent_dialog import ask_for_purposes
from app.ui.window_storage import WindowStorage

VIA = "share anonymised corrections dialog"
SUGGESTED_NAME = "candor-contribution.json"


def summary_text(contribution: Contribution) -> str:
    privacy = contribution.document["privacy"]
    assert isinstance(privacy, dict)
    shared = len(contribution.pairs)
    return (
        f"{contribution.meetings_read} meeting(s) read, {contribution.meetings_with_pairs} with "
        f"corrections to count; {contribution.pairs_before_noise} pair(s) were corrected in at "
        f"least {privacy['k']} meetings. After the noise (ε {privacy['epsilon']:g}, δ "
        f"{privacy['delta']:.0e}) {shared} pair(s) would be shared: a pair needs about "
        f"{privacy['threshold_meetings']} meetings."
    )


class ContributionDialog(QDialog):
    def __init__(self, storage: WindowStorage, gate: ConsentGate,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.storage = storage
        self.gate = gate
        self.contribution: Contribution | None = None
        self.saved_to: Path | None = None
        # Tests answer this instead of the platform's file dialog.
        self.choose_path: Callable[[str], str] = self._ask_path
        self.setObjectName("contribution_dialog")
        self.setWindowTitle("Share anonymised corrections")
        self.setAccessibleName("Share anonymised corrections")
        self.setAccessibleDescription(
            "A preview of the anonymised, aggregated file of your corrections, and saving it")
        self.resize(620, 560)

        about = QLabel(
            "Help improve speech recognition for everyone without giving up your meetings: "
            "this file holds only which short terms the recogniser heard and what you "
            "corrected them to, counted in different meetings with noise added. No sentences, "
            "names, numbers, addresses, times, meeting ids or audio. Candor never sends it: "
            "you decide what to do with the file.", self)
        about.setWordWrap(True)

        self.epsilon = QDoubleSpinBox(self)
        self.epsilon.setObjectName("contribution_epsilon")
        self.epsilon.setRange(0.1, MAX_EPSILON)
        self.epsilon.setSingleStep(0.1)
        self.epsilon.setDecimals(1)
        self.epsilon.setValue(DEFAULT_EPSILON)
        self.epsilon.setAccessibleName("Privacy budget epsilon")
        self.epsilon.setAccessibleDescription(
            f"Smaller shares less and adds more noise; {DEFAULT_EPSILON:g} is recommended")
        self.epsilon.editingFinished.connect(self.refresh)

        self.summary = QLabel(self)
        self.summary.setObjectName("contribution_summary")
        self.summary.setWordWrap(True)
        self.preview = QPlainTextEdit(self)
        self.preview.setObjectName("contribution_preview")
        self.preview.setReadOnly(True)
        self.preview.setAccessibleName("The file, exactly")
        self.preview.setAccessibleDescription("Exactly the text the file will hold")
        self.status = QLabel(self)
        self.status.setObjectName("contribution_status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)

        self.save_button = QPushButton("&Save file…", self)
        self.save_button.setAccessibleName("Save file")
        self.save_button.setAccessibleDescription(
            "Asks for the Share anonymised corrections permission, then writes this file")
        self.save_button.setEnabled(False)
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save)
        self.close_button = QPushButton("&Close", self)
        self.close_button.setAccessibleName("Close")
        self.close_button.setAccessibleDescription("Close without writing anything")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow("Privacy budget (ε):", self.epsilon)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self._generation = 0

    # -- preview ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Compute the preview in the background; `save_button` is enabled once it is shown."""
        self._generation += 1
        generation = self._generation
        epsilon = self.epsilon.value()
        store = self.storage.store
        self.save_button.setEnabled(False)
        self.summary.setText("Counting your corrections…")
        task = self.storage.tasks.start(lambda _task: prepare(store, epsilon))
        task.signals.succeeded.connect(lambda value: self._shown(generation, value))
        task.signals.failed.connect(lambda err: self._failed(generation, err))

    def _shown(self, generation: int, value: object) -> None:
        if generation != self._generation or not isinstance(value, Contribution):
            return
        self.contribution = value
        self.preview.setPlainText(value.text)
        self.summary.setText(summary_text(value))
        self.save_button.setEnabled(True)

    def _failed(self, generation: int, err: object) -> None:
        if generation != self._generation:
            return
        self.contribution = None
        self.preview.clear()
        self.summary.setText("")
        self.status.setText(f"The preview could not be made: {err}")

    # -- saving -----------------------------------------------------------------------------
    def _ask_path(self, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, "Save the contribution file", suggested,
                                              "JSON (*.json);;All files (*)")
        return path

    def save(self) -> Path | None:
        if self.contribution is None:
            return None
        chosen = self.choose_path(SUGGESTED_NAME)
        if not chosen:
            return None
        if not ask_for_purposes(self.gate, [CONTRIBUTION], via=VIA, parent=self):
            self.status.setText("Not saved: the permission was not given. Nothing was written.")
            return None
        path = Path(chosen)
        try:
            written = export(self.storage.store, path, self.gate, self.epsilon.value())
        except (ExportError, StorageError, ConsentRequired) as err:
            self.status.setText(f"The file was not written: {err}")
            return None
        if written.text != self.contribution.text:  # corrections changed since the preview
            self._shown(self._generation, written)
            self.status.setText(f"Your corrections changed since the preview; wrote the "
                                f"updated content shown to {path}.")
        else:
            self.status.setText(f"Wrote {path}: {len(written.pairs)} pair(s). Candor sent "
                                "nothing; the permission was used once and will be asked again.")
        self.saved_to = path
        return path


def open_contribution_dialog(storage: WindowStorage, gate: ConsentGate,
                             parent: QWidget | None = None) -> ContributionDialog:
    dialog = ContributionDialog(storage, gate, parent)
    dialog.show()
    dialog.refresh()
    return dialog
