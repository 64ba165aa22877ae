"""What the transcription stages need from the consent gate (app.consent's contract)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from app.consent import ConsentRequired

TRANSCRIPTION = "transcription"
MICROPHONE = "microphone"
NOISE_SUPPRESSION = "noise_suppression"
MODEL_DOWNLOAD = "model_download"


class Gate(Protocol):
    def allowed(self, purpose: str) -> bool: ...

    def require(self, purpose: str) -> str: ...

    def guard(self, purpose: str) -> AbstractContextManager[str]: ...

    def on_withdrawn(self, callback: Callable[[str], None]) -> Callable[[], None]: ...


__all__ = ["MICROPHONE", "MODEL_DOWNLOAD", "NOISE_SUPPRESSION", "TRANSCRIPTION",
           "ConsentRequired", "Gate"]
