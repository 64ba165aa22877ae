"""`candor devices [--json]`: the microphones this computer has, the default marked."""

from __future__ import annotations

import argparse
import json

from app.cli.common import EXIT_FAILURE, EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "devices",
        help="list input devices (microphones)",
        description="List the input devices (microphones); * marks the default.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from app.audio.devices import list_input_devices
    from app.audio.errors import NoInputDeviceError

    devices = list_input_devices()
    if args.json:
        print(json.dumps([device.to_dict() for device in devices], indent=2))
    else:
        for device in devices:
            mark = "*" if device.is_default else " "
            print(
                f"{mark} {device.index:>3}  {device.name}  [{device.host_api}, "
                f"{device.channels} ch, {device.default_rate:g} Hz]"
            )
    if not devices:
        print(f"candor: {NoInputDeviceError()}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK
