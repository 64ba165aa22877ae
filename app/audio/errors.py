"""Audio errors the user can act on: each message says what went wrong and what to do."""

from __future__ import annotations


class AudioError(Exception):
    """Base of every audio error; `str(err)` is a complete, user-facing sentence."""


class NoInputDeviceError(AudioError):
    """There is no microphone at all (or the sound server cannot be reached)."""

    def __init__(self, detail: str = "") -> None:
        message = (
            "No microphone was found. Connect a microphone (or start the sound server), "
            "then refresh the device list (`candor devices`)."
        )
        if detail:
            message += f" ({detail})"
        super().__init__(message)


class DeviceNotFoundError(AudioError):
    """The requested device does not exist (an old index, a misspelt name)."""

    def __init__(self, device: int | str) -> None:
        super().__init__(
            f"No input device matches {device!r}. Run `candor devices` to see the microphones "
            "this computer has, then pick one by its number or name."
        )
        self.device = device


class DeviceBusyError(AudioError):
    """Another program holds the device exclusively."""

    def __init__(self, device_name: str, detail: str = "") -> None:
        message = (
            f"The microphone {device_name!r} is busy: another program is using it. Close that "
            "program or pick another microphone."
        )
        if detail:
            message += f" ({detail})"
        super().__init__(message)
        self.device_name = device_name


class UnsupportedRateError(AudioError):
    """The device accepted none of the sample rates Candor can work with."""

    def __init__(self, device_name: str, rates: list[int]) -> None:
        tried = ", ".join(str(rate) for rate in rates)
        super().__init__(
            f"The microphone {device_name!r} accepts none of the sample rates Candor can use "
            f"(tried {tried} Hz). Pick another microphone."
        )
        self.device_name = device_name
        self.rates = rates


class DeviceLostError(AudioError):
    """The device stopped delivering audio mid-capture (unplugged, server gone, stalled)."""

    def __init__(self, device_name: str, reason: str) -> None:
        super().__init__(
            f"The microphone {device_name!r} stopped delivering audio ({reason}). Everything "
            "captured so far is kept. Pick another microphone to continue."
        )
        self.device_name = device_name
        self.reason = reason
