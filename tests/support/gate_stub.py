"""A tiny stand-in for app.consent's gate, used only until the real consent core is merged.

Same contract (allowed / require / guard / on_withdrawn / grant / withdraw); injected through
constructors. Replace with `app.consent.open_gate()` once it exists in main.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class ConsentRequired(Exception):
    def __init__(self, purposes: list[str]) -> None:
        self.purposes = purposes
        super().__init__(
            "; ".join(f"{p} is not given: run `candor consent grant {p}`" for p in purposes)
        )


class StubGate:
    def __init__(self, *granted: str) -> None:
        self._lock = threading.RLock()
        self._granted: dict[str, str] = {}
        self._callbacks: list[Callable[[str], None]] = []
        self._counter = 0
        for purpose in granted:
            self.grant(purpose)

    def allowed(self, purpose: str) -> bool:
        with self._lock:
            return purpose in self._granted

    def require(self, purpose: str) -> str:
        with self._lock:
            if purpose not in self._granted:
                raise ConsentRequired([purpose])
            return self._granted[purpose]

    def record_id(self, purpose: str) -> str | None:
        with self._lock:
            return self._granted.get(purpose)

    @contextmanager
    def guard(self, purpose: str) -> Iterator[str]:
        with self._lock:
            yield self.require(purpose)

    def on_withdrawn(self, callback: Callable[[str], None]) -> Callable[[], None]:
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return unsubscribe

    def grant(self, purpose: str, via: str = "test") -> str:
        with self._lock:
            self._counter += 1
            self._granted[purpose] = f"rec-{self._counter}"
            return self._granted[purpose]

    def withdraw(self, purpose: str, via: str = "test", delete_data: bool = False) -> None:
        with self._lock:
            self._granted.pop(purpose, None)
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback(purpose)
