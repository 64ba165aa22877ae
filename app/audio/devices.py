"""Input devices as PortAudio sees them, with a rescan for hot-plugged microphones.

PortAudio scans devices only when it is initialised, so a microphone plugged in after start-up
appears only after `rescan()`. Re-initialising would kill open streams, so it is refused while
a capture is running.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

from app.audio.errors import AudioError, DeviceNotFoundError, NoInputDeviceError

_open_streams = 0
_open_streams_lock = threading.Lock()


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    host_api: str
    channels: int
    default_rate: float
    is_default: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def label(self) -> str:
        """What a device picker shows."""
        return f"{self.name} ({self.host_api})"


def _sd() -> Any:
    import sounddevice

    return sounddevice


def _default_input_index() -> int | None:
    sd = _sd()
    try:
        info = sd.query_devices(kind="input")
    except (sd.PortAudioError, ValueError):
        return None
    return int(info["index"])


def list_input_devices() -> list[InputDevice]:
    """Every device with at least one input channel; empty when there is none."""
    sd = _sd()
    hostapis = sd.query_hostapis()
    default = _default_input_index()
    devices = []
    for info in sd.query_devices():
        if int(info["max_input_channels"]) <= 0:
            continue
        devices.append(
            InputDevice(
                index=int(info["index"]),
                name=str(info["name"]),
                host_api=str(hostapis[info["hostapi"]]["name"]),
                channels=int(info["max_input_channels"]),
                default_rate=float(info["default_samplerate"]),
                is_default=int(info["index"]) == default,
            )
        )
    return devices


def require_input_devices() -> list[InputDevice]:
    """Like `list_input_devices`, but raises NoInputDeviceError when there is none."""
    devices = list_input_devices()
    if not devices:
        raise NoInputDeviceError()
    return devices


def default_input_device() -> InputDevice:
    devices = require_input_devices()
    for device in devices:
        if device.is_default:
            return device
    # PortAudio reports no default although inputs exist: the first one is the honest choice.
    return devices[0]


def resolve_input_device(device: int | str | None) -> InputDevice:
    """The device a user meant: None = the default, an index, or (part of) a name."""
    if device is None:
        return default_input_device()
    devices = require_input_devices()
    if isinstance(device, str) and device.strip().isdigit():
        device = int(device.strip())
    if isinstance(device, int):
        for candidate in devices:
            if candidate.index == device:
                return candidate
        raise DeviceNotFoundError(device)
    wanted = device.strip().lower()
    exact = [d for d in devices if d.name.lower() == wanted]
    if exact:
        return exact[0]
    partial = [d for d in devices if wanted in d.name.lower()]
    if len(partial) == 1:
        return partial[0]
    raise DeviceNotFoundError(device)


def rescan() -> list[InputDevice]:
    """Re-initialise PortAudio so hot-plugged devices appear, then list the inputs again."""
    with _open_streams_lock:
        if _open_streams:
            raise AudioError(
                "The device list cannot be refreshed while the microphone is in use. Stop the "
                "capture (or wait until the lost device has been closed) and refresh again."
            )
        sd = _sd()
        sd._terminate()
        sd._initialize()
    return list_input_devices()


def _stream_opened() -> None:
    global _open_streams
    with _open_streams_lock:
        _open_streams += 1


def _stream_closed() -> None:
    global _open_streams
    with _open_streams_lock:
        _open_streams = max(0, _open_streams - 1)
