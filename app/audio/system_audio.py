"""System audio capture (what the computer plays): filled in by the system-audio step."""

from __future__ import annotations

from app.audio.errors import AudioError


class SystemAudioCapture:
    def __init__(self, gate: object, device: int | str | None = None) -> None:
        raise AudioError("Capturing system audio is not available in this build.")
