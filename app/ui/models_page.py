"""The speech models page: every catalogue model and every folder the user added, with its size,
memory, languages, speed and published accuracy (cited with its source), whether it is installed
and what it is used for — and the user's actions: download (asks `model_download` each time, with
progress and Cancel), use for live captions or saved transcripts, test speed, delete.

The page only displays `catalogue.list_catalogue()` entries and forwards actions to
`download.download_model`, `model_choice.choose`, `bench.run_bench` and `catalogue.delete_model`;
slow work runs on the page's own thread pool, and every outcome is said on the page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.consent import ConsentGate, ConsentRequired
from app.consent.purposes import MODEL_DOWNLOAD
from app.transcription.catalogue import CatalogueEntry, delete_model, list_catalogue
from app.transcription.manifest import NO_PUBLISHED_FIGURE, figure_text
from app.transcription.model_choice import USE_TITLES, Use
from app.ui.background import Task, TaskRunner
from app.ui.confirm import confirm_destructive
from app.ui.consent_dialog import ask_for_purposes

VIA = "window: speech models page"
COLUMNS = ("Model", "Download", "Memory", "Speed", "Accuracy", "Language", "On this device",
           "Used for")

AskPermission = Callable[[ConsentGate, list[str], str, QWidget], bool]


def _ask(gate: ConsentGate, purposes: list[str], via: str, parent: QWidget) -> bool:
    return ask_for_purposes(gate, purposes, via, parent)


def _size(value: int | None) -> str:
    if not value:
        return "—"
    return f"{value / 1e9:.1f} GB" if value >= 1e9 else f"{value / 1e6:.0f} MB"


def _state(entry: CatalogueEntry) -> str:
    if entry.installed is None:
        return "download started, not finished" if entry.partial_download else "not installed"
    origin = {"bundled": "bundled with Candor", "downloaded": "downloaded",
              "folder": "your folder"}.get(entry.installed, entry.installed)
    if entry.verification == "damaged":
        return f"{origin}, damaged"
    return origin


def _used_for(entry: CatalogueEntry) -> str:
    return " and ".join(USE_TITLES[u] for u in ("live", "final") if u in entry.used_for) or "—"


def _accuracy_cell(entry: CatalogueEntry) -> str:
    """The class and the figure every model is compared on, or the explicit marker."""
    figure = entry.headline_accuracy
    shown = f"{figure_text(figure)} on {figure.dataset}" if figure else NO_PUBLISHED_FIGURE
    return f"{entry.accuracy_class}, {shown}" if entry.accuracy_class else shown


def _accuracy_text(entry: CatalogueEntry) -> str:
    """The published figures with where they come from: a class alone would be a claim."""
    lines = [f"{figure_text(f)} on {f.dataset} ({f.source}: {f.url})"
             + (f", {f.note}" if f.note else "") for f in entry.accuracy]
    if entry.accuracy_note:
        lines.append(entry.accuracy_note)
    return "\n".join(lines)


class ModelsPage(QWidget):
    """Signals tell the rest of the window that a choice changed (so a running view can say
    which model the next meeting uses)."""

    choices_changed = Signal()

    def __init__(self, gate: ConsentGate, parent: QWidget | None = None, *,
                 ask_permission: AskPermission = _ask, endpoint: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("models-page")
        self.gate = gate
        self.ask_permission = ask_permission
        self.endpoint = endpoint
        self.runner = TaskRunner(self, threads=1)
        self.entries: list[CatalogueEntry] = []
        self._cancel: threading.Event | None = None
        self._busy = ""  # what the page is doing ("" = nothing)

        intro = QLabel("Speech models run on this device. Candor ships Whisper tiny.en; more "
                       "accurate models can be downloaded when you ask (each download asks for "
                       "your permission). Live captions need a fast model; saved transcripts can "
                       "use a slower, more accurate one.")
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Speech models")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_actions)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.download_button = QPushButton("Download…")
        self.cancel_button = QPushButton("Cancel download")
        self.live_button = QPushButton("Use for live captions")
        self.final_button = QPushButton("Use for saved transcripts")
        self.bench_button = QPushButton("Test speed")
        self.delete_button = QPushButton("Delete…")
        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.live_button.clicked.connect(lambda: self.use_selected("live"))
        self.final_button.clicked.connect(lambda: self.use_selected("final"))
        self.bench_button.clicked.connect(self.bench_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        buttons = QHBoxLayout()
        for button in (self.download_button, self.cancel_button, self.live_button,
                       self.final_button, self.bench_button, self.delete_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setAccessibleName("Download progress")
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Models status")

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self.refresh()

    # ---- display --------------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        keep = select or (self.selected.name if self.selected else None)
        self.entries = list_catalogue()
        self.table.setRowCount(len(self.entries))
        for row, e in enumerate(self.entries):
            memory = f"{e.memory_mb:,} MB" + ("" if e.fits_memory else " (more than is free)")
            cells = (e.name + (" (default)" if e.default else ""), _size(e.download_bytes),
                     memory, e.speed_class or "—", _accuracy_cell(e),
                     {"en": "English", "multilingual": "many languages"}.get(e.language,
                                                                            e.language or "—"),
                     _state(e), _used_for(e))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 4 and e.accuracy:
                    item.setToolTip(_accuracy_text(e))
                self.table.setItem(row, column, item)
        names = [e.name for e in self.entries]
        self.table.selectRow(names.index(keep) if keep in names else 0)
        self._update_actions()

    @property
    def selected(self) -> CatalogueEntry | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.entries):
            return None
        return self.entries[rows[0].row()]

    def select(self, name: str) -> None:
        self.table.selectRow([e.name for e in self.entries].index(name))

    def _update_actions(self) -> None:
        e = self.selected
        idle = not self._busy
        installed = e is not None and e.installed is not None
        self.download_button.setEnabled(idle and e is not None and e.repo is not None
                                        and (not installed or e.verification == "damaged"))
        self.download_button.setText("Resume download…" if e is not None and e.partial_download
                                     else "Download…")
        self.cancel_button.setVisible(self._busy == "download")
        usable = idle and installed and e is not None and e.verification != "damaged"
        self.live_button.setEnabled(bool(usable) and e is not None and "live" not in e.used_for)
        self.final_button.setEnabled(bool(usable) and e is not None
                                     and "final" not in e.used_for)
        self.bench_button.setEnabled(bool(usable))
        self.delete_button.setEnabled(idle and e is not None and (
            (installed and e.installed in ("downloaded", "folder")) or e.partial_download))
        if e is None:
            self.details.clear()
            return
        parts = [f"<b>{e.name}</b>: {e.description.rstrip('.')}."]
        if e.license:
            parts.append(f"Licence: {e.license}.")
        if e.accuracy:
            parts.append("Published accuracy: " + "; ".join(
                f"{figure_text(f)} on {f.dataset} ({f.source})"
                for f in e.accuracy) + ".")
        else:
            parts.append(f"Published accuracy: {NO_PUBLISHED_FIGURE}.")
        if not e.fits_memory:
            parts.append(f"It needs about {e.memory_mb:,} MB of memory, more than is free now.")
        self.details.setText(" ".join(parts))

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def _set_busy(self, what: str) -> None:
        self._busy = what
        self._update_actions()

    # ---- actions --------------------------------------------------------------------------
    def download_selected(self) -> Task | None:
        from app.transcription.download import download_model
        from app.transcription.manifest import load_manifest

        e = self.selected
        if e is None or self._busy:
            return None
        spec = load_manifest().get(e.name)
        if spec is None:
            return None
        if not self.ask_permission(self.gate, [MODEL_DOWNLOAD], VIA, self):
            self._say(f"Nothing was downloaded: downloading {e.name} needs your permission.")
            return None
        cancel = self._cancel = threading.Event()
        gate, endpoint = self.gate, self.endpoint
        self._set_busy("download")
        self.progress.setValue(0)
        self.progress.show()
        self._say(f"Downloading {e.name} ({_size(spec.size)}) from {spec.repo}…")

        def work(task: Task) -> object:
            return download_model(spec, gate=gate, endpoint=endpoint, on_progress=task.report,
                                  cancel=cancel)

        task = self.runner.start(
            work, reported=self._download_progress,
            succeeded=lambda result: self._downloaded(e.name, result),
            failed=lambda err: self._download_failed(e.name, err))
        return task

    def _download_progress(self, p: object) -> None:
        from app.transcription.download import DownloadProgress

        if not isinstance(p, DownloadProgress) or not p.total:
            return
        self.progress.setValue(round(100 * p.fraction))
        what = {"listing": "asking the hub", "downloading": f"downloading {p.file or ''}",
                "verifying": f"checking {p.file or ''}", "installing": "installing"}[p.phase]
        self._say(f"{p.done / 1e6:.1f} of {p.total / 1e6:.1f} MB — {what}")

    def _downloaded(self, name: str, result: object) -> None:
        from app.transcription.download import DownloadResult

        self.progress.hide()
        self._set_busy("")
        moved = (f", {result.transferred / 1e6:.1f} MB downloaded"
                 if isinstance(result, DownloadResult) else "")
        self.refresh(select=name)
        self._say(f"{name} is installed and every file matched its checksum{moved}. Choose "
                  "what to use it for.")

    def _download_failed(self, name: str, err: object) -> None:
        from app.transcription.download import DownloadCancelled, DownloadError

        self.progress.hide()
        self._set_busy("")
        self.refresh(select=name)
        if isinstance(err, DownloadCancelled):
            self._say(f"The download of {name} was cancelled. Download it again to resume where "
                      "it stopped.")
        elif isinstance(err, ConsentRequired):
            self._say(f"The download of {name} stopped: the permission to download models was "
                      "withdrawn.")
        elif isinstance(err, DownloadError):
            self._say(f"The download failed: {err}.")
        else:
            self._say(f"The download of {name} failed ({type(err).__name__}: {err}). Download "
                      "it again to resume where it stopped.")

    def cancel_download(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self._say("Cancelling the download…")

    def use_selected(self, use: Use) -> None:
        from app.transcription.model_choice import choose
        from app.transcription.models import ModelError

        e = self.selected
        if e is None or e.path is None:
            return
        # a folder the user added is recorded by its path; a catalogue model by its name
        target = e.name if e.installed != "folder" else str(e.path)
        try:
            choose(target, (use,))
        except ModelError as err:
            self._say(f"{e.name} cannot be used for {USE_TITLES[use]}: {err}.")
            return
        self.refresh(select=e.name)
        note = ""
        if use == "live" and e.speed_class not in (None, "fastest", "fast"):
            note = " It may be too slow for live captions on this machine: Test speed tells."
        self._say(f"{USE_TITLES[use].capitalize()} now use {e.name}.{note}")
        self.choices_changed.emit()

    def bench_selected(self, runs: int = 3) -> Task | None:
        from app.transcription.bench import run_bench
        from app.transcription.memory import check_fits
        from app.transcription.models import locate_model

        e = self.selected
        if e is None or e.path is None or self._busy:
            return None
        target = e.name if e.installed != "folder" else str(e.path)
        self._set_busy("bench")
        self._say(f"Testing the speed of {e.name} on this machine…")

        def work(task: Task) -> object:
            location = locate_model(target)
            check_fits(location.name, location.spec, location.path)
            return run_bench(location, runs=runs, on_step=task.report)

        task = self.runner.start(
            work, reported=lambda text: self._say(f"Testing {e.name}: {text}"),
            succeeded=self._benched,
            failed=lambda err: self._bench_failed(e.name, err))
        return task

    def _benched(self, result: object) -> None:
        from app.transcription.bench import BenchResult

        self._set_busy("")
        if not isinstance(result, BenchResult):
            return
        advice = {"keeps up": "it can keep up with live captions here",
                  "marginal": "live captions would come later and coarser; fine for saved "
                              "transcripts",
                  "too slow": "too slow for live captions here; use it for saved transcripts"}
        self._say(f"{result.model}: {result.audio_seconds:.0f} s of speech took "
                  f"{result.rtf_wall * result.audio_seconds:.1f} s (real-time factor "
                  f"{result.rtf_wall:.2f}), {100 * result.wer:.0f} % word errors on the clip — "
                  f"{advice[result.verdict]}."
                  + (f" Note: {result.load_note}." if result.load_note else ""))

    def _bench_failed(self, name: str, err: object) -> None:
        self._set_busy("")
        self._say(f"The speed test of {name} could not run: {err}.")

    def delete_selected(self, confirm: Callable[[QWidget, str, str, str], bool] | None = None
                        ) -> bool:
        from app.transcription.models import ModelError

        e = self.selected
        if e is None or self._busy:
            return False
        what = (f"the model {e.name} ({_size(e.download_bytes)})" if e.installed
                else f"the unfinished download of {e.name}")
        used = _used_for(e)
        text = f"Delete {what} from this device?" + (
            f" It is used for {used}; those go back to the default model." if e.used_for else "")
        if not (confirm or confirm_destructive)(self, "Delete model", text, "Delete"):
            return False
        try:
            deleted = delete_model(e.name)
        except ModelError as err:
            self._say(f"{e.name} was not deleted: {err}.")
            return False
        self.refresh(select=e.name)
        reset = "; ".join(f"{USE_TITLES[u]} now use the default model" for u in deleted.reset)
        self._say(f"Deleted {what}." + (f" {reset.capitalize()}." if reset else ""))
        if deleted.reset:
            self.choices_changed.emit()
        return True

    def shutdown(self) -> None:
        self.cancel_download()
        self.runner.cancel_all()
