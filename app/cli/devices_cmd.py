"""`candor devices [--json]`: the microphones this computer has, the default marked."""

from __future__ import annotations

import argparse
import json
from typing import Any

from app.cli.common import EXIT_FAILURE, EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "devices",
        help="list input devices (microphones)",
        description="List the input devices (microphones) and the system-audio sources (what this "
        "computer plays); * marks each default.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def _system_sources() -> list[Any]:
    """System-audio sources, or none (said on stderr) where they cannot be listed."""
    import sys

    from app.audio.errors import AudioError

    try:
        from app.audio.system_audio import list_system_sources

        return list(list_system_sources())
    except AudioError as err:
        print(f"candor: {err}", file=sys.stderr)
        return []


def run(args: argparse.Namespace) -> int:
    import sys

    from app.audio.devices import list_input_devices
    from app.audio.errors import NoInputDeviceError

    devices = list_input_devices()
    system = _system_sources()
    if args.json:
        listed = [{**device.to_dict(), "kind": "microphone"} for device in devices]
        print(json.dumps(listed + [source.to_dict() for source in system], indent=2))
    else:
        for device in devices:
            mark = "*" if device.is_default else " "
            print(
                f"{mark} {device.index:>3}  {device.name}  [{device.host_api}, "
                f"{device.channels} ch, {device.default_rate:g} Hz]"
            )
        if system:
            print("\nSystem audio (what this computer plays; `listen --system-device ID`):")
            for source in system:
                mark = "*" if source.is_default else " "
                print(f"{mark} {source.index:>3}  {source.name}  [{source.id}] system")
    if not devices:
        print(f"candor: {NoInputDeviceError()}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK
