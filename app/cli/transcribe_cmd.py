"""`candor transcribe FILE [--keep] [--denoise] [--model NAME|PATH] [--language xx] [--format F]`.

Consent: the purposes needed are checked before the model is touched, and the ledger is watched
for the whole run (like `candor listen`), so a withdrawal recorded by another process - `candor
consent revoke`, the window - stops this one at once: the transcription runs on a worker thread,
and this thread, woken by the withdrawal, says why and ends the command with exit 3 without
waiting for the recogniser to finish the 30 s window it is in. Nothing is printed or stored after
a withdrawal. `candor data erase` in another process ends it the same way (the gate sees the
ledger replaced; the message says all data was erased by another Candor).

If the recogniser is still inside a native call then, the process ends with `os._exit`: leaving
through the interpreter's normal exit while CTranslate2 computes makes its thread pool's
destructor abort the process ("terminate called without an active exception", exit 134; seen
in 1 of 3 runs here), and waiting for the call would keep the CPU on the user's audio for up to a
window after they said stop. Stdout, stderr and the log are flushed first.

`--keep` stores the transcript as a meeting (source "file"), which needs `transcript_storage`;
without `--keep` nothing is stored. With `--format json` the output then carries "meeting_id".
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.common import (
    ERASED_ELSEWHERE,
    EXIT_CONSENT,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
)
from app.cli.progress import StderrPercent
from app.consent import ConsentGate
from app.consent.purposes import NOISE_SUPPRESSION, TRANSCRIPT_STORAGE, TRANSCRIPTION
from app.segments import FORMATS, Segment

if TYPE_CHECKING:
    from app.transcription.models import ModelLocation

# How often the ledger is polled for withdrawals made elsewhere. Measured with
# benchmarks/consent.py: one poll (a tail-seq read) costs ~0.1 ms, and the gate's listeners run
# right after; 0.1 s keeps the reaction well inside the 0.5 s promised.
WATCH_INTERVAL_S = 0.1
# How long a stopped worker may take to leave on its own before the process ends without it.
GRACE_S = 0.2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transcribe",
        help="transcribe a recording on this device",
        description="Transcribe an audio (or video) file on this device and print the "
        "transcript. Needs the transcription permission (noise_suppression for --denoise, "
        "transcript_storage for --keep). Progress goes to stderr. Withdrawing a permission it "
        "uses stops it at once.",
    )
    parser.add_argument("file", metavar="FILE", type=Path, help="WAV, MP3, M4A, OGG, FLAC, ...")
    parser.add_argument("--keep", action="store_true",
                        help="also store the transcript as a meeting (needs transcript_storage)")
    parser.add_argument("--denoise", action="store_true",
                        help="suppress noise first (often lowers accuracy: measure first)")
    parser.add_argument("--model", metavar="NAME|PATH",
                        help="a model name from `candor models list` or a model folder")
    parser.add_argument("--language", metavar="xx",
                        help="the language spoken (e.g. en); default: English for English-only "
                        "models, detected for multilingual ones")
    parser.add_argument("--format", choices=FORMATS, default="txt", help="output format")
    parser.set_defaults(func=run)


class _Progress:
    """The stderr percentage, silenced for good once the command stops (no line after why)."""

    def __init__(self, label: str) -> None:
        self._printer = StderrPercent(label)
        self._lock = threading.Lock()
        self._muted = False

    def __call__(self, fraction: float) -> None:
        with self._lock:
            if not self._muted:
                self._printer(fraction)

    def stop(self) -> None:
        with self._lock:
            if not self._muted:
                self._muted = True
                self._printer.close()


@dataclass
class _Run:
    segments: list[Segment] | None = None
    error: BaseException | None = None


def _needed(args: argparse.Namespace) -> list[str]:
    return ([TRANSCRIPTION] + ([NOISE_SUPPRESSION] if args.denoise else [])
            + ([TRANSCRIPT_STORAGE] if args.keep else []))


def run(args: argparse.Namespace) -> int:
    from app.consent import open_gate
    from app.transcription.model_choice import model_for
    from app.transcription.models import ModelError, locate_model

    gate = open_gate()
    try:
        needed = _needed(args)
        gate.require_all(needed)
        try:
            location = locate_model(args.model) if args.model else model_for("final")
        except ModelError as err:
            raise CliError(str(err), EXIT_USAGE if args.model else EXIT_FAILURE) from err
        gate.start_watching(interval=WATCH_INTERVAL_S)
        try:
            segments = _transcribe(args, gate, location, needed)
        except _Said as said:
            return said.code
        if not segments:
            print(f"candor: no speech was found in {args.file}: the transcript is empty",
                  file=sys.stderr)
        meeting_id = _keep(args, gate, segments, location.name) if args.keep else None
    finally:
        gate.close()
    _print(args, segments, location.name, meeting_id)
    return EXIT_OK


def _transcribe(args: argparse.Namespace, gate: ConsentGate, location: ModelLocation,
                needed: list[str]) -> list[Segment]:
    from app.consent import ConsentRequired
    from app.storage.database import is_disk_full
    from app.transcription.denoising import DenoiseUnavailable
    from app.transcription.engine import WhisperEngine
    from app.transcription.files import AudioFileError, AudioReadError, transcribe_file
    from app.transcription.models import ModelError

    wake = threading.Event()
    withdrawn: list[str] = []
    cancel = threading.Event()

    def on_withdrawn(purpose: str) -> None:
        if purpose in needed:
            withdrawn.append(purpose)
            cancel.set()
            wake.set()

    unsubscribe = gate.on_withdrawn(on_withdrawn)
    progress = _Progress(f"transcribing {args.file.name}")
    outcome = _Run()

    def work() -> None:
        try:
            outcome.segments = transcribe_file(
                args.file, gate=gate, denoise=args.denoise, on_progress=progress, cancel=cancel,
                engine=WhisperEngine(location, language=args.language),
            )
        except BaseException as err:  # handed to the command's thread, which reports it
            outcome.error = err
        finally:
            wake.set()

    worker = threading.Thread(target=work, name="candor-transcribe", daemon=True)
    try:
        worker.start()
        while not wake.wait(0.5):  # a timeout keeps Ctrl+C responsive
            pass
    except KeyboardInterrupt:
        cancel.set()
        progress.stop()
        _leave_if_still_working(worker, gate, 130)
        raise
    finally:
        unsubscribe()
    progress.stop()
    if withdrawn:
        # Said at once; then the process ends, with or without the worker (module docstring).
        why = (ERASED_ELSEWHERE if gate.ended_elsewhere == "erased"
               else f"{withdrawn[0]} was withdrawn")
        print(f"candor: {why}, so the transcription stopped at once; "
              "nothing was printed or stored", file=sys.stderr, flush=True)
        _leave_if_still_working(worker, gate, EXIT_CONSENT)
        raise _Said(EXIT_CONSENT)
    err = outcome.error
    if err is None:
        assert outcome.segments is not None
        return outcome.segments
    if isinstance(err, ConsentRequired):
        raise err
    if isinstance(err, AudioReadError):
        raise CliError(str(err), EXIT_FAILURE) from err
    if isinstance(err, AudioFileError):
        raise CliError(str(err), EXIT_USAGE) from err
    if isinstance(err, ModelError | DenoiseUnavailable):
        raise CliError(str(err), EXIT_FAILURE) from err
    if isinstance(err, ValueError):  # e.g. a language the model does not know
        raise CliError(str(err), EXIT_USAGE) from err
    if isinstance(err, OSError) and is_disk_full(err):
        where = err.filename or "Candor's data folder"
        raise CliError(f"the disk is full: writing {where} failed. Free some space on that "
                       "disk, then try again", EXIT_FAILURE) from err
    raise err


class _Said(Exception):
    """The command stopped and has said why already: end with this exit code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _leave_if_still_working(worker: threading.Thread, gate: ConsentGate, code: int) -> None:
    """End the process now if the stopped worker is still in native code (module docstring)."""
    worker.join(GRACE_S)
    if not worker.is_alive():
        return
    sys.stdout.flush()
    sys.stderr.flush()
    gate.close()
    logging.shutdown()
    os._exit(code)


def _keep(args: argparse.Namespace, gate: ConsentGate, segments: list[Segment],
          model: str) -> str | None:
    """Store the transcript as a meeting; on failure the transcript is still printed (it is
    not lost) and the command fails with why."""
    from app.cli.store_access import cli_store, storage_errors
    from app.consent import ConsentRequired
    from app.storage.database import StorageError
    from app.storage.sink import keep_transcript

    seconds = max((s.end for s in segments), default=0.0)
    try:
        with cli_store("transcribe --keep", create=True) as store, storage_errors():
            meeting_id = keep_transcript(store, gate, segments, source="file",
                                         title=args.file.stem, model=model,
                                         language=args.language or "en", seconds=seconds)
    except (CliError, ConsentRequired, StorageError) as err:
        _print(args, segments, model, None)
        code = EXIT_CONSENT if isinstance(err, ConsentRequired) else getattr(
            err, "exit_code", EXIT_FAILURE)
        raise CliError(f"the transcript above was not kept: {err}", code) from err
    if meeting_id is None:
        print("candor: the transcript was kept and, as your retention period is \"end of "
              "meeting\", erased at once", file=sys.stderr)
    else:
        print(f"candor: transcript kept as meeting {meeting_id} (`candor meetings show "
              f"{meeting_id}`)", file=sys.stderr)
    return meeting_id


def _print(args: argparse.Namespace, segments: list[Segment], model: str,
           meeting_id: str | None) -> None:
    from app.segments import render

    metadata: dict[str, object] = {"file": str(args.file), "model": model,
                                   "language": args.language or "auto"}
    if args.keep:
        metadata["meeting_id"] = meeting_id
    sys.stdout.write(render(segments, args.format, title=args.file.stem, metadata=metadata))
    sys.stdout.flush()
