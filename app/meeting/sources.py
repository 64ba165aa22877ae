"""The meeting's audio sources: the user's microphone and what the computer plays.

A source is the device boundary of the meeting engine: `start()` opens it (raising
ConsentRequired without its purpose, or an AudioError), `read()` hands out `AudioChunk`s on the
source's own capture timeline (gaps are gaps, never shifted), raises DeviceLostError after a
loss and the gate's ConsentRequired after a withdrawal. The engine's tests inject a scripted
source through `open_source`; everything else opens the real devices here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, cast

from app.audio.capture import AudioChunk
from app.consent import Gate
from app.consent.purposes import MICROPHONE, SYSTEM_AUDIO, Purpose
from app.segments import SOURCE_LABELS, SOURCES, Source

__all__ = [
    "SOURCES",
    "SOURCE_LABELS",
    "SOURCE_PURPOSE",
    "AudioSource",
    "Device",
    "OpenSource",
    "Source",
    "open_source",
]

Device = int | str | None

# The purpose that lets each source be captured at all (captioning it also needs
# `transcription`).
SOURCE_PURPOSE: dict[Source, Purpose] = {"microphone": MICROPHONE, "system": SYSTEM_AUDIO}


class AudioSource(Protocol):
    muted: bool

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def read(self, timeout: float | None = None) -> AudioChunk | None: ...

    def switch_device(self, device: Device) -> None: ...

    @property
    def running(self) -> bool: ...

    @property
    def device_name(self) -> str | None: ...

    @property
    def overflows(self) -> int: ...


OpenSource = Callable[[Gate, Source, Device], AudioSource]


def open_source(gate: Gate, source: Source, device: Device) -> AudioSource:
    """The real device for `source` (not started)."""
    if source == "microphone":
        from app.audio.capture import AudioCapture

        return AudioCapture(gate, device)
    from app.audio.system_audio import SystemAudioCapture

    return cast(AudioSource, SystemAudioCapture(gate, device))
