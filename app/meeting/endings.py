"""Meetings whose final pass is still running, each on its own engine's control thread.

Ending a meeting never blocks the next one (issue 13, defect 11): the window hands the ended
meeting here and can start another at once. Nothing here runs on, or joins on, the GUI thread:
the engine's thread reports progress and completion; `wait` is for quitting and for tests.
Plain Python; the Qt controller turns the callbacks into signals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

M = TypeVar("M")


def ending_name(title: str | None, started: datetime | None) -> str:
    """How the progress line names a meeting: its title, else when it began."""
    if title:
        return f"\u2018{title}\u2019"
    if started is not None:
        return f"the meeting of {started.astimezone():%H:%M}"
    return "the meeting"


def progress_text(name: str, fraction: float) -> str:
    return f"Making the final transcript of {name}\u2026 {round(fraction * 100)} %"


@dataclass
class Ending(Generic[M]):
    meeting: M
    name: str
    fraction: float = 0.0


class Endings(Generic[M]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: list[Ending[M]] = []
        self._futures: list[Future[Any]] = []

    def add(self, meeting: M, name: str,
            end: Callable[[Callable[[float], None]], Future[Any]],
            on_progress: Callable[[Ending[M]], None],
            on_done: Callable[[M, Future[Any]], None]) -> Ending[M]:
        """Track `meeting` while `end(progress)` runs; `on_done` is called (on the engine's
        thread) once it is no longer counted as ending."""
        ending = Ending(meeting, name)
        with self._lock:
            self._running.append(ending)

        def progress(fraction: float) -> None:
            ending.fraction = max(ending.fraction, fraction)
            on_progress(ending)

        future = end(progress)
        with self._lock:
            self._futures.append(future)

        def done(finished: Future[Any]) -> None:
            with self._lock:
                if ending in self._running:
                    self._running.remove(ending)
                if finished in self._futures:
                    self._futures.remove(finished)
            on_done(meeting, finished)

        future.add_done_callback(done)
        return ending

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._running)

    def running(self) -> list[Ending[M]]:
        with self._lock:
            return list(self._running)

    def meetings(self) -> list[M]:
        return [e.meeting for e in self.running()]

    def wait(self, timeout: float | None = None) -> bool:
        """Wait (never on the GUI thread, except when quitting) until every final pass is
        done; True if none is left."""
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                futures = list(self._futures)
            if not futures:
                return not self.busy
            for future in futures:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    future.exception(left)
                except TimeoutError:
                    return False
