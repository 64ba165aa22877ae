"""The command line (DESIGN.md §5). No arguments opens the window.

Exit status: 0 success, 1 failure, 2 bad usage or input, 3 a needed purpose is not given.
Each sub-command lives in its own module with a `register(subparsers)` function; heavy modules
(Qt, faster-whisper, noisereduce) are imported only inside the handlers that need them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from app import __version__
from app.cli.common import EXIT_CONSENT, EXIT_FAILURE, EXIT_USAGE, CliError
from app.consent.errors import ConsentError, ConsentRequired, UnknownPurpose
from app.passphrase import PassphraseError
from app.private_files import restrict_umask, tighten

# Modules under app.cli that add sub-commands, in the order `--help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "consent_cmd",
    "devices_cmd",
    "denoise_cmd",
    "meetings_cmd",
    "data_cmd",
    "transcribe_cmd",
    "listen_cmd",
    "models_cmd",
    "privacy_cmd",
    "keys_cmd",
    "vocabulary_cmd",
    "contribute_cmd",
)

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="candor",
        description=(
            "Candor: meetings with on-device live captions and transcripts. Nothing leaves this "
            "device, and nothing is processed without your recorded consent. "
            "Run without arguments to open the window."
        ),
    )
    parser.add_argument("--version", action="version", version=f"candor {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"app.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Before anything is created: every file of this process and its children is owner-only.
    restrict_umask()
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(args_list)
    from app.logging_setup import setup_logging
    from app.paths import data_dir

    if getattr(args, "tighten", True):  # `privacy check` reports modes as it finds them
        tighten(data_dir())  # a data folder an older Candor left readable by others
    setup_logging()
    if args.command is None:
        from app.ui.launch import run_gui

        return run_gui()
    try:
        return int(args.func(args) or 0)
    except CliError as err:
        print(f"candor: {err}", file=sys.stderr)
        return err.exit_code
    except ConsentRequired as err:
        print(f"candor: {err}", file=sys.stderr)
        return EXIT_CONSENT
    except (UnknownPurpose, PassphraseError) as err:  # a wrong or missing passphrase: input
        print(f"candor: {err}", file=sys.stderr)
        return EXIT_USAGE
    except ConsentError as err:  # an unreadable or untrusted ledger: say so, change nothing
        print(f"candor: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the user gets one clear line; the traceback goes to the log file
        log.exception("command %s failed", args.command)
        print(f"candor: {args.command} failed: {err}", file=sys.stderr)
        return EXIT_FAILURE
