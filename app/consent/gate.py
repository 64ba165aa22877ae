"""The one place that answers "may purpose P run now?".

The state of every purpose is derived from the ledger alone: P is allowed exactly when the last
record for P is a grant under P's current notice version, and the ledger verifies. Anything else
— never given, withdrawn, expired, a changed notice, a ledger that fails verification or whose key
is missing — means no (fail closed).

Guarantee: with `guard(P)`, work for P (emitting a caption, storing a row) either finishes before
a withdrawal of P is recorded, or does not happen. In this process a lock orders the two; across
processes the ledger's SQLite read lock holds off the other process's commit while the guard runs.

The same holds for "erase everything" done by another process (`candor data erase`): it removes
the ledger under an exclusive lock (`Ledger.destroy`) and starts a new one. Every guard and every
poll of the watcher checks that the ledger file is still the one this gate has open; once it is
not, nothing is allowed, the withdrawal listeners hear of every purpose that was given, and
`ended_elsewhere` says "erased" (or "replaced", for `candor consent new-ledger`). The gate then
adopts the new ledger as soon as it is complete (its signed head exists).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from app.consent.errors import ConsentRequired, LedgerError, LedgerTampered
from app.consent.ledger import (
    ALL_PURPOSES,
    NOTE_STATES,
    Ledger,
    LedgerRecord,
    RecordState,
    VerifyResult,
)
from app.consent.notices import Notice, NoticeCatalog
from app.consent.purposes import PURPOSES, SINGLE_USE, check_purpose

log = logging.getLogger(__name__)

PurposeStatus = Literal["not_given", "given", "reconsent_needed"]
NOT_GIVEN: Final = "not_given"
GIVEN: Final = "given"
RECONSENT_NEEDED: Final = "reconsent_needed"

Listener = Callable[[str], None]
# What another process did to the ledger this gate had open.
EndedElsewhere = Literal["erased", "replaced"]


@dataclass(frozen=True)
class PurposeState:
    purpose: str
    state: PurposeStatus
    current_version: int
    record_id: str | None = None  # the grant in force, when given
    given_at: str | None = None
    notice_version: int | None = None  # version of the last grant
    last_event: LedgerRecord | None = None

    @property
    def granted(self) -> bool:
        return self.state == GIVEN


def derive_states(
    records: Iterable[LedgerRecord], current_versions: dict[str, int]
) -> dict[str, PurposeState]:
    """Replay the ledger: the last record of each purpose decides its state."""
    last: dict[str, LedgerRecord] = {}
    last_grant: dict[str, LedgerRecord] = {}
    record: LedgerRecord | None
    for record in records:
        if record.purpose == ALL_PURPOSES:
            last.clear()
            last_grant.clear()
            continue
        if record.state in NOTE_STATES:  # notes never change whether a purpose is given
            continue
        last[record.purpose] = record
        if record.state == "given":
            last_grant[record.purpose] = record
    states: dict[str, PurposeState] = {}
    for purpose in PURPOSES:
        current = current_versions[purpose]
        record = last.get(purpose)
        grant = last_grant.get(purpose)
        if record is None:
            states[purpose] = PurposeState(purpose, NOT_GIVEN, current)
        elif record.state == "given" and record.notice_version == current:
            states[purpose] = PurposeState(
                purpose,
                GIVEN,
                current,
                record.record_id,
                record.event_time,
                record.notice_version,
                record,
            )
        elif record.state in ("given", "reconsent_needed"):
            states[purpose] = PurposeState(
                purpose,
                RECONSENT_NEEDED,
                current,
                None,
                grant.event_time if grant else None,
                grant.notice_version if grant else None,
                record,
            )
        else:
            states[purpose] = PurposeState(purpose, NOT_GIVEN, current, last_event=record)
    return states


class ConsentGate:
    def __init__(self, ledger: Ledger, notices: NoticeCatalog) -> None:
        self.ledger = ledger
        self.notices = notices
        # One lock orders guards, appends and refreshes. The gate's own, never swapped: the
        # ledger object changes when everything is erased, and a thread waiting on the old
        # ledger's lock would then run beside one holding the new one's.
        self._lock = threading.RLock()
        self.ended_elsewhere: EndedElsewhere | None = None
        self._retired: list[Ledger] = []  # ledgers another process replaced
        self._listeners: list[Listener] = []
        self._change_listeners: list[Callable[[], None]] = []
        self._watcher: threading.Thread | None = None
        self._stop_watching = threading.Event()
        self._records: list[LedgerRecord] = []
        self.integrity: VerifyResult = ledger.verify()
        self._states: dict[str, PurposeState] = {}
        with self._lock:
            if self.integrity.ok:
                self._records = ledger.records()
            self._recompute()
            self._mark_reconsent_needed()

    # -- state ---------------------------------------------------------------------------------
    def _current_versions(self) -> dict[str, int]:
        return {p: self.notices.current_version(p) for p in PURPOSES}

    def _recompute(self) -> None:
        states = derive_states(self._records, self._current_versions())
        if not self.integrity.ok:  # fail closed: nothing in an untrusted ledger counts
            states = {
                p: PurposeState(p, NOT_GIVEN, s.current_version, last_event=s.last_event)
                for p, s in states.items()
            }
        self._states = states  # replaced whole, so lock-free readers see one consistent snapshot

    def _mark_reconsent_needed(self) -> list[str]:
        """Record, once, that a purpose granted under an older notice must be given again."""
        changed = []
        for purpose, state in self._states.items():
            last = state.last_event
            if state.state == RECONSENT_NEEDED and last is not None and last.state == "given":
                notice = self.notices.current(purpose)
                self._append(purpose, "reconsent_needed", "system", "system", notice)
                changed.append(purpose)
        return changed

    def _append(
        self,
        purpose: str,
        state: RecordState,
        kind: str,
        via: str,
        notice: Notice | None,
        delete_data: bool | None = None,
    ) -> LedgerRecord:
        record = self.ledger.append(
            purpose=purpose,
            state=state,
            type=kind,
            collection_method=via,
            notice_version=notice.version if notice else None,
            notice_sha256=notice.sha256 if notice else None,
            delete_data_requested=delete_data,
        )
        self._records.append(record)
        self._recompute()
        return record

    def _take_in_replacement(self) -> list[str]:
        """The ledger file was removed or replaced by another process. Caller holds the lock.

        Until the new ledger is complete nothing is allowed; once its signed head exists (the
        eraser writes it last) it is opened and its records count. Returns the purposes that
        stopped being allowed."""
        before = {p for p, s in self._states.items() if s.granted}
        path, head = self.ledger.path, self.ledger.head_path
        fresh: Ledger | None = None
        if path.exists() and head.exists():
            try:
                fresh = Ledger(path, head)
            except LedgerError:  # half-made or unreadable: try again at the next poll
                log.info("the consent ledger was replaced; the new one is not readable yet")
        if fresh is None:
            self._records = []
            if self.ended_elsewhere is None:
                self.ended_elsewhere = "erased"  # the file is gone: an erase is under way
        else:
            # The old one may be inside a guard's read transaction right now: closed with the gate.
            self._retired.append(self.ledger)
            self.ledger = fresh
            self.integrity = fresh.verify()
            self._records = fresh.records() if self.integrity.ok else []
            first = self._records[0] if self._records else None
            erased = first is not None and first.state == "data_erased"
            if self.ended_elsewhere is None or erased:
                self.ended_elsewhere = "erased" if erased else "replaced"
        self._recompute()
        if fresh is not None:
            self._mark_reconsent_needed()
        stopped = sorted(before - {p for p, s in self._states.items() if s.granted})
        if stopped or fresh is not None:
            log.info("the consent ledger was %s by another Candor; stopped: %s",
                     self.ended_elsewhere, ", ".join(stopped) or "nothing")
        return stopped

    def _refresh(self) -> list[str]:
        """Take in records other processes appended; return purposes that stopped being allowed.

        Caller holds the lock.
        """
        if self.ledger.replaced():
            return self._take_in_replacement()
        if not self.integrity.ok:
            return []
        known = self._records[-1].seq if self._records else 0
        fresh = self.ledger.records(after_seq=known)
        if not fresh:
            return []
        before = {p for p, s in self._states.items() if s.granted}
        prev = self._records[-1].record_hash if self._records else "0" * 64
        for offset, record in enumerate(fresh, start=known + 1):
            problem = self.ledger.check_record(record, prev, offset)
            if problem:
                self.integrity = VerifyResult(
                    False, offset - 1, prev, problem, offset, record.record_id
                )
                log.error("consent ledger failed verification at record #%d", offset)
                break
            self._records.append(record)
            prev = record.record_hash
        self._recompute()
        return sorted(before - {p for p, s in self._states.items() if s.granted})

    def reload_notices(self) -> list[str]:
        """Read the notice folder again (a new version puts its purpose to re-consent)."""
        with self._lock:
            before = {p for p, s in self._states.items() if s.granted}
            self.notices.forget()
            self._recompute()
            self._mark_reconsent_needed()
            stopped = sorted(before - {p for p, s in self._states.items() if s.granted})
        self._notify(stopped)
        return stopped

    def refresh(self) -> None:
        """Pick up changes recorded by another process (another window, the CLI)."""
        with self._lock:
            stopped = self._refresh()
        self._notify(stopped)

    # -- questions -----------------------------------------------------------------------------
    def state(self, purpose: str) -> PurposeState:
        return self._states[check_purpose(purpose)]

    def states(self) -> list[PurposeState]:
        snapshot = self._states
        return [snapshot[p] for p in PURPOSES]

    def allowed(self, purpose: str) -> bool:
        """Lock-free, so it is safe even in an audio callback."""
        return self._states[check_purpose(purpose)].granted

    def record_id(self, purpose: str) -> str | None:
        return self._states[check_purpose(purpose)].record_id

    def missing(self, purposes: Iterable[str]) -> list[str]:
        return [p for p in purposes if not self.allowed(p)]

    def _reason(self, purposes: Iterable[str]) -> str:
        if self.ended_elsewhere == "erased":
            return "all data was erased by another Candor (`candor data erase`)"
        if not self.integrity.ok:
            return "the consent ledger failed verification, so no recorded consent is trusted"
        if any(self._states[p].state == RECONSENT_NEEDED for p in purposes):
            return "its notice changed since you gave it; please read it and give it again"
        return ""

    def require(self, purpose: str) -> str:
        return self.require_all([purpose])[purpose]

    def require_all(self, purposes: Iterable[str]) -> dict[str, str]:
        wanted = [check_purpose(p) for p in purposes]
        with self._lock:
            stopped = self._refresh()
            snapshot = self._states
        self._notify(stopped)
        missing = [p for p in wanted if not snapshot[p].granted]
        if missing:
            raise ConsentRequired(missing, self._reason(missing))
        return {p: snapshot[p].record_id or "" for p in wanted}

    @contextlib.contextmanager
    def guard(self, purpose: str) -> Iterator[str]:
        """Run a short piece of work for `purpose` only if it is allowed, and atomically so.

        Yields the id of the grant in force. Keep the block short; never call grant/withdraw
        from inside it on another thread.
        """
        check_purpose(purpose)
        stopped: list[str] = []
        try:
            ledger = self.ledger  # `_refresh` may adopt a new one inside; this one is left last
            with self._lock, ledger.read_transaction():
                stopped = self._refresh()
                state = self._states[purpose]
                if not state.granted:
                    raise ConsentRequired(purpose, self._reason([purpose]))
                yield state.record_id or ""
        finally:
            self._notify(stopped)

    def grant_record_ids(self, purpose: str) -> list[str]:
        """Every grant ever recorded for `purpose` (since the last erase)."""
        check_purpose(purpose)
        return [r.record_id for r in self._records if r.purpose == purpose and r.state == "given"]

    # -- changes -------------------------------------------------------------------------------
    def _require_current(self) -> None:
        """After `_refresh`: refuse to record into a ledger another process is replacing."""
        if self.ledger.replaced():
            raise LedgerError(
                "another Candor is erasing everything and replacing the consent ledger; "
                "nothing was recorded. Try again in a moment"
            )

    def _require_trusted(self) -> None:
        if not self.integrity.ok:
            raise LedgerTampered(
                "the consent ledger failed verification ("
                + self.integrity.describe()
                + "); nothing can be recorded in it. Run `candor consent verify` for details "
                "and `candor consent new-ledger --yes` to keep it as evidence and start anew"
            )

    def grant(self, purpose: str, via: str) -> LedgerRecord:
        check_purpose(purpose)
        with self._lock:
            self._require_trusted()
            self._refresh()
            self._require_current()
            record = self._append(purpose, "given", "explicit", via, self.notices.current(purpose))
        self._notify([])
        return record

    def withdraw(self, purpose: str, via: str, delete_data: bool = False) -> LedgerRecord | None:
        """Record a withdrawal; None when the purpose was not given and no deletion was asked."""
        check_purpose(purpose)
        with self._lock:
            self._require_trusted()
            self._refresh()
            self._require_current()
            state = self._states[purpose]
            if state.state == NOT_GIVEN and not delete_data:
                return None
            notice = (
                self.notices.get(purpose, state.notice_version) if state.notice_version else None
            )
            record = self._append(purpose, "withdrawn", "explicit", via, notice, delete_data)
        self._notify([purpose] if state.state != NOT_GIVEN else [])
        return record

    def expire(self, purpose: str) -> LedgerRecord | None:
        """End a single-use grant (model download) once its one use is over."""
        check_purpose(purpose)
        with self._lock:
            if not self._states[purpose].granted or self.ledger.replaced():
                return None
            notice = self.notices.current(purpose)
            record = self._append(purpose, "expired", "system", "system", notice)
        self._notify([purpose])
        return record

    def record_note(self, purpose: str, state: RecordState, via: str) -> LedgerRecord:
        """Record an event about a given purpose that does not change its state (a review, the
        participants being told, an objection). Raises ConsentRequired when it is not given."""
        if state not in NOTE_STATES:
            raise ValueError(f"{state!r} is not a note; use grant/withdraw/expire")
        check_purpose(purpose)
        with self._lock:
            self._require_trusted()
            self._refresh()
            self._require_current()
            current = self._states[purpose]
            if not current.granted:
                raise ConsentRequired(purpose, self._reason([purpose]))
            notice = self.notices.get(purpose, current.notice_version)
            record = self._append(purpose, state, "explicit", via, notice)
        self._notify([])
        return record

    def notes(self, purpose: str, state: RecordState | None = None) -> list[LedgerRecord]:
        """The note records of `purpose` since the last erase (optionally of one kind)."""
        check_purpose(purpose)
        return [
            r
            for r in self._records
            if r.purpose == purpose
            and r.state in NOTE_STATES
            and (state is None or r.state == state)
        ]

    @property
    def single_use(self) -> frozenset[str]:
        return SINGLE_USE

    def on_withdrawn(self, callback: Listener) -> Callable[[], None]:
        """Call `callback(purpose)` whenever a purpose stops being allowed, right after the record
        is written, from the recording thread. Returns a function that unsubscribes."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def on_change(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback()` after any recorded change (grants too): for views of the state."""
        self._change_listeners.append(callback)
        return lambda: (
            self._change_listeners.remove(callback) if callback in self._change_listeners else None
        )

    def _notify(self, stopped: list[str]) -> None:
        for purpose in stopped:
            for callback in list(self._listeners):
                try:
                    callback(purpose)
                except Exception:  # one broken listener must not keep others running
                    log.exception("withdrawal listener failed for %s", purpose)
        for change in list(self._change_listeners):
            try:
                change()
            except Exception:
                log.exception("consent change listener failed")

    # -- watching other processes --------------------------------------------------------------
    def start_watching(self, interval: float = 0.2) -> None:
        """Poll the ledger so withdrawals made elsewhere (the CLI) stop work here promptly."""
        if self._watcher is not None:
            return
        self._stop_watching.clear()

        def loop() -> None:
            while not self._stop_watching.wait(interval):
                try:
                    known = self._records[-1].seq if self._records else 0
                    if self.ledger.replaced() or self.ledger.tail_seq() != known:
                        self.refresh()
                except Exception:
                    log.exception("watching the consent ledger failed")

        self._watcher = threading.Thread(target=loop, name="consent-watch", daemon=True)
        self._watcher.start()

    def stop_watching(self) -> None:
        self._stop_watching.set()
        if self._watcher is not None:
            self._watcher.join(timeout=2)
            self._watcher = None

    def close(self) -> None:
        self.stop_watching()
        with self._lock:
            for old in self._retired:
                old.close()
            self._retired.clear()
            self.ledger.close()

    # -- erase everything ----------------------------------------------------------------------
    def record_erase(self, via: str) -> LedgerRecord:
        """After all data was erased: destroy the ledger and its key, and start a new one whose
        only record says that an erase happened."""
        with self._lock:
            before = [p for p, s in self._states.items() if s.granted]
            path, head = self.ledger.path, self.ledger.head_path
            with self.ledger.replacing():
                self.ledger = Ledger(path, head, starting_anew=True)
                record = self.ledger.append(
                    purpose=ALL_PURPOSES, state="data_erased", type="explicit",
                    collection_method=via
                )
            self._records = [record]
            self.integrity = self.ledger.verify()
            self._recompute()
        self._notify(before)
        return record


def ledger_paths(home: Path) -> tuple[Path, Path]:
    return home / "consent-ledger.sqlite3", home / "consent-ledger.head"


def open_gate(home: Path | None = None, notices: NoticeCatalog | None = None) -> ConsentGate:
    """The gate over the ledger in the data directory (or `home`)."""
    if home is None:
        from app.paths import data_dir

        home = data_dir()
    path, head = ledger_paths(home)
    return ConsentGate(Ledger(path, head), notices or NoticeCatalog())
