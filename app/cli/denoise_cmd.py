"""`candor denoise IN.wav OUT.wav [--strength low|medium|high]`: noise suppression for a file."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.common import EXIT_CONSENT, EXIT_OK, EXIT_USAGE, CliError
from app.cli.progress import StderrPercent
from app.consent.purposes import NOISE_SUPPRESSION

PURPOSE = NOISE_SUPPRESSION


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
    import numpy as np

    from app.audio.wavio import WavError, read_wav, write_wav
    from app.consent import ConsentRequired, open_gate

    gate = open_gate()
    try:
        gate.require(PURPOSE)
    except ConsentRequired as err:
        raise CliError(str(err), EXIT_CONSENT) from err
    try:
        samples, rate = read_wav(args.input)
    except WavError as err:
        raise CliError(str(err), EXIT_USAGE) from err
    output = args.output
    if output.is_dir() or not output.parent.is_dir():
        raise CliError(f"cannot write {output}: give a file name in an existing folder", EXIT_USAGE)

    from app.audio.denoise import StreamingDenoiser, find_quiet

    channels = samples.shape[1]
    total = samples.shape[0] * channels
    done = 0
    progress = StderrPercent("denoising", step=10)
    cleaned = []
    notes = []
    for channel in range(channels):
        signal = samples[:, channel]
        denoiser = StreamingDenoiser(gate, rate=rate, strength=args.strength)
        try:
            quiet = find_quiet(signal, rate)
            if len(quiet) >= rate:
                denoiser.learn_noise(quiet)
                notes.append(f"noise learned from {len(quiet) / rate:.1f} s of quiet audio")
            else:
                notes.append("no second of quiet audio found: the start may stay noisy")
            out = []
            step = 10 * rate
            for start in range(0, len(signal), step):
                out.append(denoiser.process(signal[start : start + step]))
                done += min(step, len(signal) - start)
                progress(done / total)
            out.append(denoiser.flush())
        except ConsentRequired as err:
            raise CliError(str(err), EXIT_CONSENT) from err
        finally:
            denoiser.close()
        cleaned.append(np.concatenate(out)[: len(signal)])
    progress.close()
    # Withdrawn while we worked: blocks after it passed through untouched; write nothing.
    try:
        gate.require(PURPOSE)
    except ConsentRequired as err:
        raise CliError(str(err), EXIT_CONSENT) from err
    try:
        write_wav(output, np.stack(cleaned, axis=1), rate)
    except OSError as err:
        raise CliError(f"cannot write {output}: {err.strerror or err}", EXIT_USAGE) from err
    seconds = samples.shape[0] / rate
    print(f"wrote {output} ({seconds:.1f} s, strength {args.strength}; {notes[0]})")
    return EXIT_OK
