"""What storage needs from the consent gate (app.consent's contract), as a typing Protocol."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

try:
    from app.consent import ConsentRequired
except ImportError:  # TEMPORARY until the consent core is merged into main; then delete this

    class ConsentRequired(Exception):  # type: ignore[no-redef]
        def __init__(self, purposes: list[str]) -> None:
            self.purposes = list(purposes)
            super().__init__(
                "; ".join(f"purpose {p!r} is not given: run `candor consent grant {p}`"
                          for p in purposes)
            )


TRANSCRIPT_STORAGE = "transcript_storage"
TRANSCRIPTION = "transcription"
RECORDING_STORAGE = "recording_storage"


class Gate(Protocol):
    def allowed(self, purpose: str) -> bool: ...

    def require(self, purpose: str) -> str: ...

    def record_id(self, purpose: str) -> str | None: ...

    def guard(self, purpose: str) -> AbstractContextManager[str]: ...


__all__ = ["RECORDING_STORAGE", "TRANSCRIPTION", "TRANSCRIPT_STORAGE", "ConsentRequired", "Gate"]
