"""TEMPORARY test-only consent gate with the app.consent.ConsentGate contract (COMMON-BRIEF).

Used by the storage tests until the lead's consent core is merged into main; then they switch to
`app.consent.open_gate()`. It keeps grants in memory, hands out a fresh record id per grant, and
implements guard() with the same rule as the real gate: a withdrawal waits for guarded blocks.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator

from app.storage.consent_types import ConsentRequired


class InMemoryGate:
    def __init__(self, granted: Iterable[str] = ()) -> None:
        self._records: dict[str, str] = {}
        self._lock = threading.RLock()
        self._callbacks: list[Callable[[str], None]] = []
        self.history: list[tuple[str, str, str]] = []  # (record id, purpose, event)
        for purpose in granted:
            self.grant(purpose)

    def grant(self, purpose: str, via: str = "test") -> str:
        with self._lock:
            record = f"rec-{uuid.uuid4().hex[:12]}"
            self._records[purpose] = record
            self.history.append((record, purpose, "given"))
            return record

    def withdraw(self, purpose: str, via: str = "test", delete_data: bool = False) -> None:
        with self._lock:
            self._records.pop(purpose, None)
            self.history.append((f"rec-{uuid.uuid4().hex[:12]}", purpose, "withdrawn"))
        for callback in list(self._callbacks):
            callback(purpose)

    def grant_ids(self, purpose: str) -> list[str]:
        return [r for r, p, event in self.history if p == purpose and event == "given"]

    def allowed(self, purpose: str) -> bool:
        return purpose in self._records

    def record_id(self, purpose: str) -> str | None:
        return self._records.get(purpose)

    def require(self, purpose: str) -> str:
        record = self._records.get(purpose)
        if record is None:
            raise ConsentRequired([purpose])
        return record

    def require_all(self, purposes: Iterable[str]) -> dict[str, str]:
        missing = [p for p in purposes if p not in self._records]
        if missing:
            raise ConsentRequired(missing)
        return {p: self._records[p] for p in purposes}

    @contextlib.contextmanager
    def guard(self, purpose: str) -> Iterator[str]:
        with self._lock:
            yield self.require(purpose)

    def on_withdrawn(self, callback: Callable[[str], None]) -> Callable[[], None]:
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)
