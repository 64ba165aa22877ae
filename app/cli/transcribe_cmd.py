"""`candor transcribe FILE [--denoise] [--model NAME|PATH] [--language xx] [--format F]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError
from app.cli.progress import StderrPercent
from app.segments import FORMATS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transcribe",
        help="transcribe a recording on this device",
        description="Transcribe an audio (or video) file on this device and print the "
        "transcript. Needs the transcription permission (and noise_suppression for --denoise). "
        "Progress goes to stderr.",
    )
    parser.add_argument("file", metavar="FILE", type=Path, help="WAV, MP3, M4A, OGG, FLAC, ...")
    parser.add_argument("--denoise", action="store_true",
                        help="suppress noise first (often lowers accuracy: measure first)")
    parser.add_argument("--model", metavar="NAME|PATH",
                        help="a model name from `candor models list` or a model folder")
    parser.add_argument("--language", metavar="xx",
                        help="the language spoken (e.g. en); default: English for English-only "
                        "models, detected for multilingual ones")
    parser.add_argument("--format", choices=FORMATS, default="txt", help="output format")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.consent import open_gate
    from app.segments import render
    from app.transcription.denoising import DenoiseUnavailable
    from app.transcription.engine import WhisperEngine
    from app.transcription.files import AudioFileError, transcribe_file
    from app.transcription.model_choice import model_for
    from app.transcription.models import ModelError, locate_model

    gate = open_gate()
    try:
        needed = ["transcription"] + (["noise_suppression"] if args.denoise else [])
        gate.require_all(needed)
        try:
            location = locate_model(args.model) if args.model else model_for("final")
        except ModelError as err:
            raise CliError(str(err), EXIT_USAGE if args.model else EXIT_FAILURE) from err
        progress = StderrPercent(f"transcribing {args.file.name}")
        try:
            segments = transcribe_file(
                args.file,
                gate=gate,
                denoise=args.denoise,
                on_progress=progress,
                engine=WhisperEngine(location, language=args.language),
            )
        except AudioFileError as err:
            raise CliError(str(err), EXIT_USAGE) from err
        except (ModelError, DenoiseUnavailable) as err:
            raise CliError(str(err), EXIT_FAILURE) from err
        except ValueError as err:  # e.g. a language the model does not know
            raise CliError(str(err), EXIT_USAGE) from err
        finally:
            progress.close()
    finally:
        gate.close()
    metadata = {"file": str(args.file), "model": location.name,
                "language": args.language or "auto"}
    sys.stdout.write(render(segments, args.format, title=args.file.stem, metadata=metadata))
    return EXIT_OK
