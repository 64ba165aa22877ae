"""A scripted audio source: the one fake of the meeting engine's tests, at the device boundary
(app/meeting/sources.AudioSource). It plays real recordings as 16 kHz chunks on a timeline the
script chooses (gaps, a lost device, a slow device), paced like a device or all at once."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from app.audio.capture import AudioChunk
from app.audio.errors import DeviceLostError

RATE = 16000
BLOCK = 1600  # 0.1 s, as a device delivers


@dataclass(frozen=True)
class Lose:
    """The device disappears here (after the chunks before it were read)."""

    name: str = "scripted device"


@dataclass(frozen=True)
class Overflow:
    """The device could not hand over `blocks` blocks here (its buffer was full): they are
    counted in `overflows` and their audio is missing (script the chunks after it later)."""

    blocks: int = 1


def chunks_of(samples: np.ndarray, start: float = 0.0, block: int = BLOCK) -> list[AudioChunk]:
    return [AudioChunk(np.asarray(samples[i:i + block], np.float32), start + i / RATE, RATE)
            for i in range(0, len(samples), block)]


class ScriptedSource:
    """Delivers `script` (AudioChunks and Lose markers) from `start()`, `speed` times faster
    than real time (0: everything at once, as a device's buffer after a stall)."""

    def __init__(self, script: list[AudioChunk | Lose | Overflow], *, speed: float = 1.0,
                 device_name: str = "scripted device",
                 opening: threading.Event | None = None) -> None:
        self._script = deque(script)
        self.speed = speed
        self.muted = False
        self._name = device_name
        self._opening = opening
        self._cond = threading.Condition()
        self._running = False
        self._lost: Lose | None = None
        self._began = 0.0
        self.started = threading.Event()
        self.switched_to: list[object] = []
        self._overflows = 0

    @property
    def running(self) -> bool:
        return self._running

    @property
    def device_name(self) -> str | None:
        return self._name

    @property
    def overflows(self) -> int:
        return self._overflows

    def start(self) -> None:
        if self._opening is not None:
            self._opening.wait(30)  # a device that takes its time to open
        self._began = time.monotonic()
        self._running = True
        self.started.set()

    def stop(self) -> None:
        with self._cond:
            self._running = False
            self._lost = None
            self._cond.notify_all()

    def switch_device(self, device: object) -> None:
        with self._cond:
            self.switched_to.append(device)
            self._lost = None
            self._running = True
            self._cond.notify_all()

    def read(self, timeout: float | None = None) -> AudioChunk | None:
        deadline = time.monotonic() + (timeout or 0.0)
        with self._cond:
            while True:
                if self._lost is not None:
                    raise DeviceLostError(self._lost.name, "it was unplugged")
                if self._script:
                    head = self._script[0]
                    if isinstance(head, Lose):
                        self._script.popleft()
                        self._lost = head
                        continue
                    if isinstance(head, Overflow):
                        self._script.popleft()
                        self._overflows += head.blocks
                        continue
                    due = self._began + (head.end / self.speed if self.speed else 0.0)
                    # a stopped device's captured audio is still readable (drain)
                    if not self._running or time.monotonic() >= due:
                        self._script.popleft()
                        return head
                    wait = due - time.monotonic()
                elif not self._running:
                    return None
                else:
                    wait = deadline - time.monotonic()
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    return None
                self._cond.wait(wait)

    @property
    def timeline_now(self) -> float:
        """Where the device's timeline is now (seconds since it started, at its speed)."""
        if not self._began:
            return 0.0
        return (time.monotonic() - self._began) * (self.speed or 1.0)

    def extend(self, script: list[AudioChunk | Lose | Overflow]) -> None:
        """More of the timeline, delivered from now on (what a test plays once it has seen
        something happen)."""
        with self._cond:
            self._script.extend(script)
            self._cond.notify_all()

    @property
    def exhausted(self) -> bool:
        return not self._script


def scripted(sources: dict[str, ScriptedSource]):  # type: ignore[no-untyped-def]
    """An `open_source` for MeetingEngine that hands out the scripted sources."""

    def open_source(gate, source, device):  # type: ignore[no-untyped-def]
        gate.require({"microphone": "microphone", "system": "system_audio"}[source])
        return sources[source]

    return open_source
