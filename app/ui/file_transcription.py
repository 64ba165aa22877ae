"""The "Transcribe a file" window: one recording at a time, transcribed off the GUI thread with
its progress, a Cancel that stops it within a segment, the result as a timed read-only
transcript, "Save as…" and "Keep in history".

A separate, non-modal window, so meetings and the rest of Candor go on while a file is
transcribed. Closing it cancels a transcription in progress. Nothing is stored unless the user
asks to keep the result, and then only with `transcript_storage` given.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.consent import ConsentGate, ConsentRequired
from app.consent.purposes import TRANSCRIPT_STORAGE, TRANSCRIPTION
from app.segments import Segment
from app.storage import StorageError
from app.storage.export import save_transcript
from app.storage.sink import keep_transcript
from app.ui.background import Task, TaskRunner
from app.ui.consent_dialog import ask_for_purposes
from app.ui.storage_text import clock, plural
from app.ui.transcript_save import PathChooser, ask_transcript_path, file_stem, save_transcript_as
from app.ui.window_storage import WindowStorage

log = logging.getLogger(__name__)

VIA = "file_transcription"
PROGRESS_STEPS = 1000


@dataclass(frozen=True)
class FileTranscript:
    path: Path
    segments: list[Segment]
    model: str
    language: str | None

    @property
    def seconds(self) -> float:
        return max((s.end for s in self.segments), default=0.0)


def _default_engine(model: str | None) -> Any:
    from app.transcription.engine import WhisperEngine
    from app.transcription.model_choice import model_for

    # The model the user chose for saved transcripts (`candor models use NAME --for final`), as
    # `candor transcribe` uses. No language given: an English-only model answers in English, a
    # multilingual one detects.
    return WhisperEngine(model if model is not None else model_for("final"), language=None)


class FileTranscriptionWindow(QWidget):
    def __init__(
        self,
        gate: ConsentGate,
        storage: WindowStorage,
        parent: QWidget | None = None,
        *,
        engine_factory: Callable[[str | None], Any] = _default_engine,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.gate = gate
        self.storage = storage
        self.engine_factory = engine_factory
        self.model: str | None = None  # a model name or folder; None: the default model
        self.choose_save_path: PathChooser = self._ask_save_path
        self.result: FileTranscript | None = None
        self.kept_meeting_id: str | None = None
        self.path: Path | None = None
        self.runner = TaskRunner(self, threads=1)
        self._task: Task | None = None
        self._cancel = threading.Event()
        self._withdrawn = threading.Event()
        self._unsubscribe: Callable[[], None] | None = None

        self.setWindowTitle("Transcribe a file — Candor")
        self.setObjectName("file_transcription")
        self.resize(720, 520)

        self.file_label = QLabel("No file chosen", self)
        self.file_label.setTextFormat(Qt.TextFormat.RichText)
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Transcription status")
        self.notice = QLabel("", self)  # "one file at a time", while a file is transcribed
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.progress = QProgressBar(self)
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setFormat("%p %")
        self.progress.setAccessibleName("Share of the recording transcribed")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop transcribing this file; nothing is kept")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()

        self.transcript = QPlainTextEdit(self)
        self.transcript.setReadOnly(True)
        self.transcript.setAccessibleName("Transcript of the file")
        self.transcript.setPlaceholderText("The transcript appears here when the file is done.")

        self.save_button = QPushButton("Save as…", self)
        self.save_button.setToolTip("Write the transcript to a file: TXT, SRT, VTT, JSON or MD")
        self.save_button.clicked.connect(self.save_as)
        self.keep_button = QPushButton("Keep in history", self)
        self.keep_button.setToolTip(
            "Store this transcript, encrypted on this device, with your meetings"
        )
        self.keep_button.clicked.connect(self.keep_in_history)
        self.close_button = QPushButton("Close", self)
        self.close_button.setObjectName("file_close")
        self.close_button.setAccessibleName("Close Transcribe a file")
        self.close_button.setAccessibleDescription(
            "Close this window (Esc or Ctrl+W); a transcription in progress is cancelled and "
            "nothing is kept"
        )
        self.close_button.clicked.connect(self.close)
        # Esc and Ctrl+W close it like any window of the desktop (issue 13, defect 7).
        # (One shortcut per key: two for the same key would be ambiguous and neither would act.)
        for keys in (QKeySequence(Qt.Key.Key_Escape), QKeySequence("Ctrl+W")):
            shortcut = QShortcut(keys, self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self.close)

        top = QHBoxLayout()
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.keep_button)
        actions.addWidget(self.save_button)
        actions.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.file_label)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.notice)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(actions)
        self._update_buttons()

    # -- running -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self, path: Path) -> bool:
        """Transcribe `path` in the background; False (and says why) when one already runs."""
        if self.running:
            self.explain_busy()
            return False
        self._bring_up()
        self.path = path
        self.result = None
        self.kept_meeting_id = None
        self.transcript.clear()
        self.file_label.setText(
            f"<b>{html.escape(path.name)}</b> — {html.escape(str(path.parent))}"
        )
        self.file_label.setToolTip(str(path))
        self.progress.setRange(0, 0)  # busy: nothing is known about the progress yet
        self.progress.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        self.status.setText("Loading the model… (transcribing on this device)")
        self._cancel = threading.Event()
        self._withdrawn = threading.Event()
        cancel, withdrawn = self._cancel, self._withdrawn

        def on_withdrawn(purpose: str) -> None:
            # Called on whichever thread recorded the withdrawal: only flags, at once.
            if purpose == TRANSCRIPTION:
                withdrawn.set()
                cancel.set()

        self._unsubscribe = self.gate.on_withdrawn(on_withdrawn)
        model, factory, gate = self.model, self.engine_factory, self.gate

        def work(task: Task) -> FileTranscript:
            from app.transcription.files import transcribe_file

            engine = factory(model)
            try:
                segments = transcribe_file(path, gate=gate, engine=engine,
                                           on_progress=task.report, cancel=cancel)
                return FileTranscript(path, segments, engine.location.name, engine.language)
            finally:
                engine.release()

        task = self.runner.start(
            work, reported=self._progressed,
            succeeded=self._done,
            failed=self._failed, finished=self._finished)
        self._task = task
        self._update_buttons()
        return True

    def explain_busy(self) -> None:
        self._bring_up()
        name = self.path.name if self.path is not None else "a file"
        self.notice.setText(
            f"Already transcribing {name}. Candor transcribes one file at a time: wait for it "
            "or cancel it, then choose the next file."
        )
        self.notice.show()

    def cancel(self) -> None:
        if self._task is None:
            return
        self._cancel.set()
        self._task.cancel()
        self.cancel_button.setEnabled(False)
        self.status.setText("Cancelling…")

    def _progressed(self, fraction: object) -> None:
        if self._cancel.is_set() or self.path is None:
            return
        if self.progress.maximum() == 0:
            self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setValue(round(float(fraction) * PROGRESS_STEPS))  # type: ignore[arg-type]
        self.status.setText(
            f"Transcribing {self.path.name} on this device… {self.percent_done} % of the "
            "recording done"
        )

    @property
    def percent_done(self) -> int:
        if self.progress.maximum() == 0:
            return 0
        return round(100 * self.progress.value() / self.progress.maximum())

    def _done(self, result: object) -> None:
        assert isinstance(result, FileTranscript)
        if self._withdrawn.is_set():
            self._show_withdrawn()
            return
        self.result = result
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setValue(PROGRESS_STEPS)
        self.transcript.setPlainText(
            "\n".join(f"[{clock(s.start)} – {clock(s.end)}]  {s.text.strip()}"
                      for s in result.segments)
        )
        if result.segments:
            self.status.setText(
                f"Done: {plural(len(result.segments), 'segment')} from {result.path.name} "
                f"(model {result.model}). Nothing was stored: save it to a file or keep it in "
                "history."
            )
        else:
            self.status.setText(f"Done: no speech was found in {result.path.name}.")

    def _failed(self, err: object) -> None:
        from app.transcription.engine import TranscriptionCancelled
        from app.transcription.files import AudioFileError
        from app.transcription.models import ModelError

        self.progress.hide()
        if isinstance(err, ConsentRequired) or self._withdrawn.is_set():
            self._show_withdrawn()
        elif isinstance(err, TranscriptionCancelled):
            self.status.setText("Cancelled. Nothing from this file was transcribed or kept.")
        elif isinstance(err, AudioFileError):
            self.status.setText(f"This file cannot be transcribed: {err}.")
        elif isinstance(err, ModelError):
            self.status.setText(f"The speech model cannot be used: {err}.")
        else:
            log.error("file transcription failed: %s", type(err).__name__)
            self.status.setText(f"The transcription failed ({type(err).__name__}: {err}).")

    def _show_withdrawn(self) -> None:
        self.progress.hide()
        self.result = None
        self.transcript.clear()
        self.status.setText(
            "Stopped: permission to transcribe was withdrawn, so Candor stopped and kept "
            "nothing from this file. Allow transcription again to transcribe it."
        )

    def _finished(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._task = None
        self.notice.hide()
        self.cancel_button.hide()
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_result = self.result is not None and bool(self.result.segments)
        self.save_button.setEnabled(has_result)
        self.keep_button.setEnabled(has_result and self.kept_meeting_id is None)

    def _bring_up(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()

    def shutdown(self, wait_ms: int = 30000) -> None:
        """Stop a transcription in progress and wait for its thread (the window is closing)."""
        self.cancel()
        self.runner.cancel_all(wait_ms)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running:
            self.cancel()  # closing this window is the user saying they no longer want it
        super().closeEvent(event)

    # -- the result --------------------------------------------------------------------------
    def _ask_save_path(self, suggested: str) -> str:
        return ask_transcript_path(self, "Save transcript", suggested)

    def save_as(self) -> Path | None:
        result = self.result
        if result is None:
            return None
        metadata: dict[str, object] = {"file": result.path.name, "model": result.model,
                                       "language": result.language or "auto"}

        def write(path: Path) -> str:
            return save_transcript(path, result.segments, title=result.path.stem,
                                   metadata=metadata)

        saved = save_transcript_as(self, "Save transcript", file_stem(result.path.stem),
                                   self.choose_save_path, write)
        if saved is not None:
            self.status.setText(f"Saved the transcript of {result.path.name} to {saved}.")
        return saved

    def keep_in_history(self) -> str | None:
        """Store the result as a meeting (source "file"), asking for `transcript_storage`
        first if it is not given. The meeting id, or None when nothing was stored."""
        result = self.result
        if result is None or self.kept_meeting_id is not None:
            return None
        if not ask_for_purposes(self.gate, [TRANSCRIPT_STORAGE], via=VIA, parent=self):
            self.status.setText("Not kept: keeping transcripts was not allowed. You can still "
                                "save it to a file.")
            return None
        try:
            meeting_id = keep_transcript(
                self.storage.store, self.gate, result.segments, source="file",
                title=result.path.name, model=result.model, language=result.language,
                seconds=result.seconds,
            )
        except ConsentRequired:
            self.status.setText("Not kept: keeping transcripts is not allowed.")
            return None
        except StorageError as err:
            self.status.setText(f"Not kept: {err}.")
            return None
        self.storage.notify_changed()
        if meeting_id is None:
            self.status.setText(
                "Not kept: your retention setting erases transcripts at the end of each "
                "meeting. Save it to a file instead, or change the setting."
            )
            return None
        self.kept_meeting_id = meeting_id
        self._update_buttons()
        self.status.setText(
            f"Kept in history as “{result.path.name}”, encrypted on this device."
        )
        return meeting_id
