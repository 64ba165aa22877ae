"""Where a passphrase comes from: `CANDOR_PASSPHRASE` (scripts, tests), else the terminal.

Promise: a passphrase is never written anywhere, never logged, and never guessed: with no
terminal and no `CANDOR_PASSPHRASE` the caller gets `PassphraseNeeded`, whose message says how to
give one. The window answers at start-up with its own dialog (`app/ui/passphrase_dialog.py`)
before anything asks here.
"""

from __future__ import annotations

import getpass
import os
import sys

PASSPHRASE_ENV = "CANDOR_PASSPHRASE"
NEW_PASSPHRASE_ENV = "CANDOR_NEW_PASSPHRASE"  # `keys passphrase change` without a terminal
# Scrypt makes each guess cost ~0.4 s of CPU and 128 MiB, but a short passphrase still falls to
# an offline search of a copied folder: 8 characters is the floor NIST SP 800-63B sets.
MIN_LENGTH = 8


class PassphraseError(Exception):
    """The passphrase was missing, wrong or unacceptable; nothing was changed (exit status 2)."""


class PassphraseNeeded(PassphraseError):
    pass


class WrongPassphrase(PassphraseError):
    pass


def _interactive() -> bool:
    return sys.stdin.isatty()


def current(home_text: str) -> str:
    """The passphrase that unlocks the keys of the data directory `home_text`."""
    given = os.environ.get(PASSPHRASE_ENV)
    if given:
        return given
    if not _interactive():
        raise PassphraseNeeded(
            f"the keys of {home_text} are protected by a passphrase, and there is no terminal to "
            f"type it in: run the command in a terminal, or set {PASSPHRASE_ENV}"
        )
    return getpass.getpass(f"Passphrase for Candor's keys ({home_text}): ")


def check_acceptable(passphrase: str) -> None:
    if len(passphrase) < MIN_LENGTH:
        raise PassphraseError(
            f"the new passphrase is too short ({len(passphrase)} characters): use at least "
            f"{MIN_LENGTH}, ideally several unrelated words; nothing was changed"
        )


def new(env: str = PASSPHRASE_ENV) -> str:
    """A new passphrase: from `env`, or typed twice on the terminal."""
    given = os.environ.get(env)
    if given is not None:
        check_acceptable(given)
        return given
    if not _interactive():
        raise PassphraseNeeded(
            f"a new passphrase is needed and there is no terminal to type it in: run the "
            f"command in a terminal, or set {env}"
        )
    first = getpass.getpass("New passphrase: ")
    check_acceptable(first)
    if getpass.getpass("The same passphrase again: ") != first:
        raise PassphraseError("the two passphrases differ; nothing was changed")
    return first
