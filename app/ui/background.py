"""Run slow storage work (search, export) off the GUI thread and hand results back as signals.

The work function gets a `Task`: `task.report(obj)` sends a partial result or progress to the GUI
thread, `task.cancelled` says the window no longer wants the answer. Signals are emitted from the
pool's thread; their receivers live in the GUI thread, so Qt queues the calls there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

log = logging.getLogger(__name__)


class TaskSignals(QObject):
    reported = Signal(object)  # a partial result or a progress step
    succeeded = Signal(object)  # the work function's return value
    failed = Signal(object)  # the exception it raised
    finished = Signal()  # after succeeded or failed, always


class Task(QRunnable):
    def __init__(self, work: Callable[[Task], object]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python keeps it (TaskRunner._running) until it finished
        self.work = work
        self.signals = TaskSignals()
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def report(self, value: object) -> None:
        if not self.cancelled:
            self.signals.reported.emit(value)

    def run(self) -> None:
        try:
            value = self.work(self)
        except Exception as err:
            log.warning("background task failed: %s", type(err).__name__)
            self.signals.failed.emit(err)
        else:
            self.signals.succeeded.emit(value)
        self.signals.finished.emit()


class TaskRunner(QObject):
    """A private thread pool: closing the store waits for its tasks, and no one else's."""

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._running: set[Task] = set()

    def start(self, work: Callable[[Task], object], *,
              reported: Callable[[Any], object] | None = None,
              succeeded: Callable[[Any], object] | None = None,
              failed: Callable[[Any], object] | None = None,
              finished: Callable[[], object] | None = None) -> Task:
        """Run `work` on the pool. Give the receivers here: they are connected before the work
        starts, so a task that fails at once cannot emit into nothing (connecting after
        `start` lost a fast failure, and the window waited for it for ever)."""
        task = Task(work)
        self._running.add(task)
        for signal, receiver in ((task.signals.reported, reported),
                                 (task.signals.succeeded, succeeded),
                                 (task.signals.failed, failed)):
            if receiver is not None:
                signal.connect(receiver)
        if finished is not None:
            task.signals.finished.connect(finished)
        task.signals.finished.connect(lambda: self._running.discard(task))
        QTimer.singleShot(0, self, lambda: self._launch(task))
        return task

    def _launch(self, task: Task) -> None:
        if task.cancelled:  # cancelled before it began: it never runs, and says it is over
            task.signals.finished.emit()
            return
        self.pool.start(task)

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def cancel_all(self, wait_ms: int = -1) -> bool:
        """Ask every task to stop and wait for them; True when none is left running."""
        for task in list(self._running):
            task.cancel()
        return self.pool.waitForDone(wait_ms)
