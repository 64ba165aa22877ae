"""`candor denoise IN.wav OUT.wav [--strength low|medium|high]`: noise suppression for a file.

Streamed in blocks (app/audio/denoise_file.py), so an hour of audio fits in a few MB. The ledger
is watched while it runs: a withdrawal of `noise_suppression` recorded by another process stops
it between two blocks (within ~0.1 s), exit 3, and no output file is left; so does `candor data
erase` in another process (the message says all data was erased). Only a regular
input file is read, and the output must be a new path or a regular file (app/audio/wavio.py
says why links, devices and FIFOs are refused): exit 2 otherwise.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from app.cli.common import (
    ERASED_ELSEWHERE,
    EXIT_CONSENT,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
)
from app.cli.progress import StderrPercent
from app.consent.purposes import NOISE_SUPPRESSION

PURPOSE = NOISE_SUPPRESSION
WATCH_INTERVAL_S = 0.1  # as for `candor transcribe`


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "denoise",
        help="suppress background noise in a WAV file (needs noise_suppression)",
        description=(
            "Suppress steady background noise (fans, hum, room noise) in a WAV file, on this "
            "device. The noise is learned from the file's quiet stretches. Needs the "
            "noise_suppression permission."
        ),
    )
    parser.add_argument("input", type=Path, metavar="IN.wav")
    parser.add_argument("output", type=Path, metavar="OUT.wav")
    parser.add_argument(
        "--strength",
        choices=("low", "medium", "high"),
        default="medium",
        help="how much noise to remove (default: medium)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.audio.denoise_file import denoise_wav
    from app.audio.wavio import WavError, WavReader, WavReadError, WavWriteError, WavWriter
    from app.consent import ConsentRequired, open_gate

    gate = open_gate()
    try:
        try:
            gate.require(PURPOSE)
        except ConsentRequired as err:
            raise CliError(str(err), EXIT_CONSENT) from err
        stop = threading.Event()
        unsubscribe = gate.on_withdrawn(lambda p: stop.set() if p == PURPOSE else None)
        gate.start_watching(interval=WATCH_INTERVAL_S)
        progress = StderrPercent("denoising", step=10)
        try:
            with WavReader(args.input) as reader, WavWriter(
                args.output, channels=reader.info.channels, rate=reader.info.rate
            ) as writer:
                result = denoise_wav(reader, writer, gate, strength=args.strength, stop=stop,
                                     on_progress=progress)
        except ConsentRequired as err:
            why = (ERASED_ELSEWHERE if gate.ended_elsewhere == "erased"
                   else "noise_suppression was withdrawn")
            raise CliError(
                f"{why}, so denoising stopped at once; {args.output} was not written",
                EXIT_CONSENT) from err
        except WavReadError as err:
            raise CliError(f"{err}; {args.output} was not written", EXIT_FAILURE) from err
        except WavError as err:
            raise CliError(str(err), EXIT_USAGE) from err
        except WavWriteError as err:
            raise CliError(str(err), EXIT_FAILURE if err.disk_full else EXIT_USAGE) from err
        finally:
            unsubscribe()
            progress.close()
    finally:
        gate.close()
    note = (f"noise learned from {result.quiet_seconds:.1f} s of quiet audio" if result.learned
            else "no second of quiet audio found: the start may stay noisy")
    print(f"wrote {args.output} ({result.seconds:.1f} s, strength {args.strength}; {note})")
    return EXIT_OK
