"""What storage needs from the consent gate (app.consent's contract), as a typing Protocol, so
the store can be driven by the real ConsentGate or anything with the same four methods."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from app.consent import ConsentRequired

TRANSCRIPT_STORAGE = "transcript_storage"
TRANSCRIPTION = "transcription"
RECORDING_STORAGE = "recording_storage"


class Gate(Protocol):
    def allowed(self, purpose: str) -> bool: ...

    def require(self, purpose: str) -> str: ...

    def record_id(self, purpose: str) -> str | None: ...

    def guard(self, purpose: str) -> AbstractContextManager[str]: ...


__all__ = ["RECORDING_STORAGE", "TRANSCRIPTION", "TRANSCRIPT_STORAGE", "ConsentRequired", "Gate"]
