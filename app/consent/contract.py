"""What every processing stage needs from the consent gate, as a typing Protocol.

Stages (capture, transcription, storage) take a `Gate` in their constructor: the real
`ConsentGate` in the app, and anything with these methods where a test must inject one.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol


class Gate(Protocol):
    def allowed(self, purpose: str) -> bool: ...

    def require(self, purpose: str) -> str: ...

    def record_id(self, purpose: str) -> str | None: ...

    def guard(self, purpose: str) -> AbstractContextManager[str]: ...

    def on_withdrawn(self, callback: Callable[[str], None]) -> Callable[[], None]: ...
