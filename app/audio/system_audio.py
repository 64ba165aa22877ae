"""System audio: what the computer plays (the other participants of a call), captured as a
second source through the same capture machinery as the microphone (app/audio/capture.py: the
lock-free ring, the timeline with its gaps, the watchdog for a lost device, the consent guard).

Library: `soundcard`. It talks to libpulse directly (PulseAudio, and PipeWire through its pulse
server) and to WASAPI on Windows, and lists each output's monitor / loopback as a "loopback
microphone". PortAudio (sounddevice) reaches PulseAudio only through ALSA's `pulse` device,
where a monitor cannot be chosen by name; `pulsectl` could find the monitor but would still
need a capture path. On macOS there is no loopback without ScreenCaptureKit or a virtual
device: the user picks a virtual device (BlackHole and the like) and is told so.

Consent: `system_audio` (the purpose of this source); `read()` hands out chunks only inside
`gate.guard("system_audio")`, and a withdrawal drops everything buffered at once.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.audio.capture import AudioCapture
from app.audio.devices import InputDevice
from app.audio.errors import AudioError
from app.consent.contract import Gate
from app.consent.purposes import SYSTEM_AUDIO

log = logging.getLogger(__name__)

# soundcard asks the sound server for this rate; the server resamples (no soxr stage here).
RATE = 16000
HOST = "PulseAudio" if sys.platform.startswith("linux") else "WASAPI"
PRESENCE_SECONDS = 0.5  # how often the source's presence is checked (one server round trip)
MAC_HINT = (
    "On macOS, system audio needs a virtual audio device: install BlackHole (or a similar "
    "loopback device), send the call's output to it, and pick it with --system-device."
)


class SystemAudioUnavailable(AudioError):
    """No system-audio source here (no sound server, no loopback, or an unknown device)."""


@dataclass(frozen=True)
class SystemSource:
    index: int
    id: str  # the sound server's name, e.g. "alsa_output.pci-0000_00_1f.3.analog-stereo.monitor"
    name: str
    is_default: bool

    def to_dict(self) -> dict[str, object]:
        return {"index": self.index, "id": self.id, "name": self.name,
                "is_default": self.is_default, "kind": "system"}


def _soundcard() -> Any:
    try:
        import soundcard
    except Exception as err:  # no libpulse / no sound server: say what is missing
        raise SystemAudioUnavailable(
            f"System audio cannot be captured here ({err}). On Linux it needs PulseAudio or "
            "PipeWire's pulse server running. " + (MAC_HINT if sys.platform == "darwin" else "")
        ) from err
    _reconnect_if_gone(soundcard)
    return soundcard


def _reconnect_if_gone(soundcard: Any) -> None:
    """soundcard holds one PulseAudio connection made at import; once that server has gone
    (PipeWire or PulseAudio restarted, or a test's private server replaced) every call on it
    aborts the process inside libpulse. Connect afresh when it is no longer ready. This uses
    soundcard's module-level `_pulse` (tested with 0.4.6): if that changes, nothing is done."""
    backend = getattr(soundcard, "pulseaudio", None)
    pulse = getattr(backend, "_pulse", None)
    if backend is None or pulse is None:
        return
    with _RECONNECT:
        try:
            ready = pulse._pa_context_get_state(pulse.context) == backend._pa.PA_CONTEXT_READY
        except Exception:
            return
        if not ready:
            log.info("the sound server connection was lost: connecting again")
            try:
                backend._pulse = backend._PulseAudio()
            except Exception as err:
                raise SystemAudioUnavailable(
                    f"The sound server cannot be reached ({err}).") from err


_RECONNECT = threading.Lock()


def list_system_sources() -> list[SystemSource]:
    """Every loopback source (the monitor of each output); the default output's is marked."""
    sc = _soundcard()
    try:
        loopbacks = [m for m in sc.all_microphones(include_loopback=True) if m.isloopback]
        default_out = sc.default_speaker()
    except Exception as err:
        raise SystemAudioUnavailable(f"System audio sources could not be listed ({err}).") from err
    default_ids = {default_out.id, f"{default_out.id}.monitor"} if default_out else set()
    return [SystemSource(i, m.id, m.name, m.id in default_ids) for i, m in enumerate(loopbacks)]


def resolve_system_source(device: int | str | None) -> SystemSource:
    sources = list_system_sources()
    if not sources:
        raise SystemAudioUnavailable(
            "No system-audio source was found: the sound server lists no output monitor. "
            + (MAC_HINT if sys.platform == "darwin" else "Check that an output device exists.")
        )
    if device is None:
        for source in sources:
            if source.is_default:
                return source
        return sources[0]
    for source in sources:
        if device == source.index or str(device) in (source.id, source.name, str(source.index)):
            return source
    raise SystemAudioUnavailable(
        f"No system-audio source matches {device!r}. Run `candor devices` to see them, then "
        "pick one by its number or name with --system-device."
    )


class _LoopbackStream:
    """A soundcard recorder behind the small part of sounddevice.InputStream that
    AudioCapture uses: start/stop/close, the callback on a thread of its own."""

    def __init__(self, source_id: str, *, samplerate: int, blocksize: int,
                 callback: Callable[..., None], finished_callback: Callable[[], None],
                 **_: Any) -> None:
        self._id = source_id
        self._rate = samplerate
        self._blocksize = blocksize
        self._callback = callback
        self._finished = finished_callback
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        sc = _soundcard()
        mic = sc.get_microphone(self._id, include_loopback=True)
        self._recorder = mic.recorder(samplerate=self._rate, channels=1,
                                      blocksize=self._blocksize)
        self._recorder.__enter__()
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="candor-system-audio",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        sc = _soundcard()
        checked = time.monotonic()
        try:
            while self._running.is_set():
                data = self._recorder.record(numframes=self._blocksize)
                if not self._running.is_set():
                    break
                if time.monotonic() - checked >= PRESENCE_SECONDS:
                    # A removed output's monitor stream is killed, yet soundcard's record()
                    # goes on returning silence (measured: an unloaded null sink): ask the
                    # sound server whether the source still exists.
                    checked = time.monotonic()
                    ids = {m.id for m in sc.all_microphones(include_loopback=True)}
                    if self._id not in ids:
                        log.info("the system-audio source went away")
                        break
                block = np.ascontiguousarray(data, dtype=np.float32).reshape(-1, 1)
                if len(block):
                    self._callback(block, len(block), None, None)
        except Exception as err:
            log.warning("system audio stopped: %s", type(err).__name__)
        finally:
            if self._running.is_set():  # not our stop(): the source went away
                self._finished()

    def stop(self, ignore_errors: bool = True) -> None:
        if not self._running.is_set():
            return
        self._running.clear()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)
        try:
            self._recorder.__exit__(None, None, None)
        except Exception:
            log.debug("closing the system-audio recorder failed", exc_info=True)

    def close(self, ignore_errors: bool = True) -> None:
        self.stop()


class SystemAudioCapture(AudioCapture):
    """What the computer plays, as 16 kHz mono chunks; `device` is a source from
    `list_system_sources()` (index, id or name), None for the default output's monitor."""

    purpose = SYSTEM_AUDIO
    # soundcard opens the monitor by name and _LoopbackStream checks that it still exists.
    watch_source = False

    def __init__(self, gate: Gate, device: int | str | None = None, **kwargs: Any) -> None:
        super().__init__(gate, device, **kwargs)
        self._source: SystemSource | None = None

    def _resolve(self, device: int | str | None) -> InputDevice:
        source = resolve_system_source(device)
        self._source = source
        return InputDevice(source.index, source.name, HOST, 1, float(RATE), source.is_default)

    def _default_stream_factory(self) -> Callable[..., Any]:
        def factory(**kwargs: Any) -> _LoopbackStream:
            assert self._source is not None
            kwargs.pop("device", None)
            return _LoopbackStream(self._source.id, **kwargs)

        return factory
