"""The window's hold on stored data: the open meeting store, the instance lock, start-up upkeep,
the retention clock, and erase-everything. Views read `storage.store` each time (erasing replaces
it) and re-read when `changed` fires.

Upkeep that must know no other Candor is recording (closing meetings a crash left open, retention)
runs only when the window holds the instance lock, as `candor` started without arguments does.
A window built without the lock (tests, previews) shows and edits stored meetings but leaves
upkeep to whoever holds it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app.consent import ConsentGate
from app.storage import (
    EraseResult,
    InstanceLock,
    MeetingStore,
    RetentionResult,
    RetentionTimer,
    count_data_for_purpose,
    delete_data_for_purpose,
    erase_everything,
    open_store,
)
from app.storage.database import erase_set_aside, keep_set_aside, set_aside_notice
from app.storage.retention import PERIOD_LABELS
from app.ui.background import TaskRunner

log = logging.getLogger(__name__)

WINDOW_HOLDER = "the Candor window"
MIN_RETENTION_WAIT_S = 1.0  # never spin: an expiry due "now" is handled by the next tick


class MeetingBeingRecorded(Exception):
    """Erase-everything was asked while a meeting is being stored."""


def retention_note(result: RetentionResult) -> str:
    """One discreet status-bar line about an automatic erase (counts only, never content)."""
    n = result.count
    period = PERIOD_LABELS.get(result.period, result.period)
    noun = "transcript" if n == 1 else "transcripts"
    return (f"Erased {n} {noun} kept longer than {period} "
            f"({result.checked_at.astimezone().strftime('%H:%M')})")


class WindowStorage(QObject):
    changed = Signal()  # meetings, settings or the store itself changed: views re-read
    retention_erased = Signal(str)  # a discreet note: what the retention clock erased
    problem = Signal(str, str)  # (key, message) a problem the user must see; "" message clears it

    def __init__(
        self,
        store: MeetingStore,
        gate: ConsentGate,
        *,
        lock: InstanceLock | None = None,
        clock: Callable[[], datetime | None] = lambda: None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store: MeetingStore | None = store
        # Set by the window: the stored meetings whose final pass runs in the background after
        # they ended, and how to stop those passes keeping anything (an erase).
        self.finishing_meetings: Callable[[], frozenset[str]] = frozenset
        self.abandon_finishing: Callable[[], None] = lambda: None
        self.home: Path = store.home
        self.gate = gate
        self.lock = lock
        self.clock = clock  # None means "now"; tests move time instead of waiting
        self.tasks = TaskRunner(self)
        self.retention = RetentionTimer(store)
        self.last_retention: RetentionResult | None = None
        self.recovered: list[str] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.enforce_retention)

    @property
    def store(self) -> MeetingStore:
        if self._store is None:
            raise RuntimeError("the meeting store is closed")
        return self._store

    @property
    def is_open(self) -> bool:
        return self._store is not None

    @property
    def does_upkeep(self) -> bool:
        return self.lock is not None and self.lock.held

    def notify_changed(self) -> None:
        """Tell the views to re-read (after a meeting ended and was stored, for example)."""
        self.changed.emit()

    # -- start-up --------------------------------------------------------------------------

    def start(self) -> None:
        """Announce a set-aside database, then (holding the lock) close meetings a crash left
        open and run the retention clock now and from then on."""
        recovery = self.store.recovery
        if recovery is not None:
            self.problem.emit("recovery", recovery.message)
        else:  # set aside earlier and not acted on yet: said at every start, not only the first
            self.problem.emit("set_aside", set_aside_notice(self.home) or "")
        if not self.does_upkeep:
            return
        self.recovered = self.store.recover_interrupted()
        if self.recovered:
            n = len(self.recovered)
            self.problem.emit(
                "interrupted",
                f"{n} meeting{'s were' if n > 1 else ' was'} interrupted when Candor last "
                "stopped unexpectedly. Every caption saved before that is kept; the meeting "
                f"{'s are' if n > 1 else ' is'} in your history, marked interrupted.",
            )
            self.changed.emit()
        self.enforce_retention()

    # -- a damaged database set aside ---------------------------------------------------

    def keep_set_aside(self) -> None:
        """Keep the set-aside databases for recovery; they are no longer announced."""
        keep_set_aside(self.home)
        self._set_aside_handled()

    def erase_set_aside(self) -> None:
        erase_set_aside(self.home)
        self._set_aside_handled()

    def _set_aside_handled(self) -> None:
        self.problem.emit("recovery", "")
        self.problem.emit("set_aside", "")
        self.changed.emit()

    # -- retention -------------------------------------------------------------------------

    def enforce_retention(self) -> RetentionResult | None:
        if not self.does_upkeep or self._store is None:
            return None
        self._timer.stop()
        now = self.clock()
        result = self.retention.tick(now)
        if result is None:
            self.problem.emit("retention", self.retention.error or "retention failed")
        else:
            self.problem.emit("retention", "")
            self.last_retention = result
            if result.count:
                self.retention_erased.emit(retention_note(result))
                self.changed.emit()
        wait = max(MIN_RETENTION_WAIT_S, self.retention.seconds_until_next(now))
        self._timer.start(int(wait * 1000))
        return result

    @property
    def next_retention_check_ms(self) -> int:
        return self._timer.remainingTime() if self._timer.isActive() else -1

    # -- withdraw and delete (the consent panel) ------------------------------------------

    def count_for_purpose(self, purpose: str, record_ids: Sequence[str]) -> int:
        if self._store is None:  # mid-erase (the ledger's erase record refreshes the panel)
            return 0
        return count_data_for_purpose(purpose, list(record_ids), store=self._store)

    def describe_for_purpose(self, purpose: str, record_ids: Sequence[str]) -> list[str]:
        """What deleting `purpose`'s data would erase, one meeting per line ("the transcript of
        'Weekly sync', 1 Dec, 12 min"); [] for data that is not meetings (learned words)."""
        from app.consent.purposes import VOCABULARY_LEARNING
        from app.ui.storage_text import what_goes

        if self._store is None or purpose == VOCABULARY_LEARNING or not record_ids:
            return []
        store = self._store
        ids = set(store.produced_under(record_ids))
        return [what_goes(m) for m in store.list_meetings() if m.id in ids]

    def delete_for_purpose(self, purpose: str, record_ids: Sequence[str]) -> int:
        # Through the open store, so a meeting being recorded under these records stops there.
        deleted = delete_data_for_purpose(purpose, list(record_ids), store=self.store)
        self.changed.emit()
        return deleted

    # -- erase everything -----------------------------------------------------------------

    def erase_everything(self, *, via: str = "panel") -> EraseResult:
        """Erase every meeting, key, setting and log; the consent ledger keeps only the record
        of the erase (every permission goes back to not given). Refused while a meeting is
        being stored, so no caption is written into a store that is going away. A meeting
        that has ended and whose final transcript is still being made does not refuse it: its
        final pass is stopped and keeps nothing (`abandon_finishing`), then all is erased."""
        store = self.store
        if store.active_meetings - self.finishing_meetings():
            raise MeetingBeingRecorded(
                "A meeting is being recorded and stored now. End the meeting first, then erase."
            )
        self.abandon_finishing()
        self.tasks.cancel_all()
        self._timer.stop()
        store.close()
        self._store = None

        def erase_ledger() -> str:
            record = self.gate.record_erase(via=via)
            return ("the consent ledger now holds only the record that everything was erased "
                    f"({record.record_id})")

        try:
            result = erase_everything(self.home, lock=self.lock, ledger_eraser=erase_ledger)
        finally:
            # Even if the erase failed half-way the window needs a working (fresh) store.
            self._store = open_store(self.home, lock=self.lock)
            self.retention = RetentionTimer(self._store)
            self.changed.emit()
        self.problem.emit("recovery", "")
        self.problem.emit("set_aside", "")
        self.problem.emit("retention", "")
        if self.does_upkeep:
            self.enforce_retention()
        log.warning("erase everything from the window: %d meeting(s)", result.meetings)
        return result

    # -- closing ---------------------------------------------------------------------------

    def close(self) -> None:
        """Stop background work and the clock, close the store, release the lock."""
        self._timer.stop()
        self.tasks.cancel_all()
        if self._store is not None:
            self._store.close()
            self._store = None
        if self.lock is not None:
            self.lock.release()
