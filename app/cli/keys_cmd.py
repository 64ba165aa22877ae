"""`candor keys …`: what protects the keys, and a passphrase for machines without a keyring.

A wrong or missing passphrase exits 2 (bad input, DESIGN.md §5) and changes nothing.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from app.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError

# Every secret a data directory can hold, as a user reads it.
SECRETS: tuple[tuple[str, str], ...] = (
    ("storage-master-key", "storage master key (wraps each meeting's key)"),
    ("consent-ledger", "consent ledger key (signs each record)"),
    ("consent-ledger-anchor", "consent ledger anchor (record count and last hash)"),
    ("model-records", "model record key (signs downloaded models' checksums)"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    keys = subparsers.add_parser(
        "keys", help="what protects your keys; a passphrase when there is no OS keyring",
        description="Candor's keys live in the OS keyring, or wrapped with your passphrase, or "
        "as plain files beside the data. `status` says which and what remains at risk.",
    )
    sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    status = sub.add_parser("status", help="what protects the keys, where each one is")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=cmd_status)

    phrase = sub.add_parser(
        "passphrase", help="wrap the key files with a passphrase (scrypt + AES-256-GCM)",
        description="The passphrase is asked on the terminal, or read from CANDOR_PASSPHRASE "
        "(and CANDOR_NEW_PASSPHRASE for the new one of `change`). It cannot be recovered: "
        "without it the stored meetings cannot be read.",
    )
    actions = phrase.add_subparsers(dest="passphrase_command", metavar="ACTION", required=True)
    actions.add_parser("set", help="wrap the key files with a new passphrase").set_defaults(
        func=cmd_set)
    actions.add_parser("change", help="change the passphrase").set_defaults(func=cmd_change)
    actions.add_parser(
        "remove", help="unwrap the keys back into plain files (no protection)"
    ).set_defaults(func=cmd_remove)


def _home() -> Path:
    from app.paths import data_dir

    return data_dir().resolve()


def cmd_status(args: argparse.Namespace) -> int:
    from app import keystore
    from app.key_protection import describe_protection

    home = _home()
    protection = describe_protection(home)
    where = []
    for name, what in SECRETS:
        location = keystore.secret_location(name, home=home)
        where.append({"name": name, "what": what,
                      "location": location.describe() if location else None,
                      "kind": location.kind if location else None})
    if args.json:
        print(json.dumps({**protection.to_dict(), "keys": where}, indent=2))
        return EXIT_OK
    print(f"Protection: {protection.mode}")
    print(protection.summary)
    print(f"What remains at risk: {protection.residual_risk}\n")
    for row in where:
        print(f"{row['what']}: {row['location'] or 'none yet'}")
    return EXIT_OK


def _run(action: str, change: Callable[[], object]) -> None:
    """Run a change of protection while no other Candor runs: one running would keep using (and
    writing) the keys as they were."""
    from app.passphrase import PassphraseError
    from app.storage.instance_lock import AlreadyRunning, InstanceLock

    try:
        lock = InstanceLock(f"`candor keys passphrase {action}`", _home()).acquire(wait=2.0)
    except AlreadyRunning as err:
        raise CliError(f"{err}; close it first, then try again", EXIT_FAILURE) from err
    try:
        change()
    except PassphraseError as err:
        raise CliError(str(err), EXIT_USAGE) from err
    finally:
        lock.release()


def cmd_set(args: argparse.Namespace) -> int:
    from app import passphrase
    from app.key_protection import describe_protection, require_settable, set_passphrase

    home = _home()
    wrapped: list[str] = []

    def change() -> None:
        require_settable(home)
        wrapped.extend(set_passphrase(home, passphrase.new()))

    _run("set", change)
    print(f"Passphrase set: {len(wrapped)} key(s) wrapped ({', '.join(wrapped) or 'none yet'}); "
          "no key file is left in the clear. Keys made later are wrapped too.")
    print(describe_protection(home).residual_risk)
    return EXIT_OK


def cmd_change(args: argparse.Namespace) -> int:
    from app import passphrase
    from app.key_protection import change_passphrase, require_set

    home = _home()

    def change() -> None:
        require_set(home)
        old = passphrase.current(str(home))
        change_passphrase(home, old, passphrase.new(passphrase.NEW_PASSPHRASE_ENV))

    _run("change", change)
    print("Passphrase changed; the keys are wrapped under the new one (with a new salt).")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    from app import passphrase
    from app.key_protection import RISKS, remove_passphrase, require_set

    home = _home()
    names: list[str] = []

    def change() -> None:
        require_set(home)
        names.extend(remove_passphrase(home, passphrase.current(str(home))))

    _run("remove", change)
    print(f"Passphrase removed: {len(names)} key(s) are plain files in {home / 'keys'} again.")
    print(f"warning: {RISKS['none']}")
    return EXIT_OK
