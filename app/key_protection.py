"""What protects a data directory's keys — the OS keyring, a passphrase, or neither — said
plainly with what remains at risk, and the passphrase's life: set, change, remove.

Promise: each change of protection is all or nothing and loses no key. Setting a passphrase
writes (and fsyncs) the wrapped file before the plain key files are shredded; removing it writes
the plain files before the wrapped file is destroyed; a wrong passphrase changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app import keystore, keyvault
from app.keyvault import DEFAULT_COST, KdfCost
from app.passphrase import PASSPHRASE_ENV, PassphraseError, WrongPassphrase, check_acceptable

ProtectionMode = Literal["keyring", "passphrase", "none"]
SET_COMMAND = "candor keys passphrase set"

SUMMARIES: dict[ProtectionMode, str] = {
    "keyring": (
        "Your keys are in the OS keyring, which your login session opens: a copy of the data "
        "folder alone cannot be read. The consent ledger's anchor (its record count and last "
        "hash) is kept in the keyring too, so a ledger rolled back, emptied or re-signed with "
        "its key is reported as tampered."
    ),
    "passphrase": (
        "Your keys are wrapped with your passphrase (AES-256-GCM under a key derived with "
        "scrypt, a memory-hard function) in keys/wrapped-keys.json, and unwrapped only in the "
        "memory of a running Candor: a copy of the data folder cannot be read without the "
        "passphrase. The consent ledger's anchor (its record count and last hash) is wrapped "
        "with them, so a ledger rolled back, emptied or re-signed is reported as tampered."
    ),
    "none": (
        "Your keys are plain files in keys/ (mode 0600) beside the data, with neither an OS "
        "keyring nor a passphrase to protect them."
    ),
}
RISKS: dict[ProtectionMode, str] = {
    "keyring": (
        "Any program running as you while your keyring is unlocked can ask it for the keys; "
        "someone with your login can read your meetings."
    ),
    "passphrase": (
        "A weak passphrase can be guessed offline from a copy of the folder (each guess costs "
        "{cost}); a program running as you can read a running Candor's memory; and putting "
        "back an older copy of the whole folder (ledger and wrapped keys together) undoes later "
        "changes unnoticed. A forgotten passphrase cannot be recovered: the meetings are lost."
    ),
    "none": (
        "Anyone who copies the folder can read your meetings, and with the ledger key in it can "
        "remove a withdrawal from the consent ledger and re-sign it unnoticed. Set a passphrase "
        f"with `{SET_COMMAND}`."
    ),
}


@dataclass(frozen=True, slots=True)
class KeyProtection:
    mode: ProtectionMode
    summary: str
    residual_risk: str

    def to_dict(self) -> dict[str, str]:
        return {"mode": self.mode, "summary": self.summary, "residual_risk": self.residual_risk}


def protection_mode(home: Path) -> ProtectionMode:
    home = home.resolve()
    if keyvault.exists(home):
        return "passphrase"
    if keystore.key_files(home):
        return "none"  # some key sits in the clear, whatever else is in a keyring
    markers = list((home / keystore.KEYS_DIR).glob("*.keyring"))
    if markers or keystore.keyring_available():
        return "keyring"
    return "none"


def describe_protection(home: Path) -> KeyProtection:
    home = home.resolve()
    mode = protection_mode(home)
    cost = keyvault.cost_of(home) if mode == "passphrase" else None
    risk = RISKS[mode].format(cost=(cost or DEFAULT_COST).describe())
    return KeyProtection(mode, SUMMARIES[mode], risk)


def require_settable(home: Path) -> None:
    """Raises PassphraseError when `set` would be refused (asked before the passphrase is)."""
    home = home.resolve()
    if keyvault.exists(home):
        raise PassphraseError(
            "a passphrase is already set; change it with `candor keys passphrase change`"
        )
    if not keystore.key_files(home) and keystore.keyring_available():
        raise PassphraseError(
            "your keys are kept in the OS keyring, which already protects them; a "
            "passphrase is for machines without one. Nothing was changed"
        )


def set_passphrase(home: Path, new: str, cost: KdfCost = DEFAULT_COST) -> list[str]:
    """Wrap every key file of `home` with `new`; returns the names wrapped."""
    check_acceptable(new)
    home = home.resolve()
    with keystore.creation_lock(home):
        require_settable(home)
        files = keystore.key_files(home)
        contents = {name: keystore.read_key_file(path) for name, path in files.items()}
        keyvault.create(home, new, contents, cost)
        for path in files.values():
            keystore.shred_file(path)
    return sorted(contents)


def change_passphrase(home: Path, old: str, new: str, cost: KdfCost = DEFAULT_COST) -> None:
    check_acceptable(new)
    home = home.resolve()
    require_set(home)
    keyvault.rewrap(home, old, new, cost)


def remove_passphrase(home: Path, current: str) -> list[str]:
    """Unwrap the keys back into plain key files (the 'neither' protection); returns names."""
    home = home.resolve()
    require_set(home)
    contents = keyvault.unlock(home, current)
    with keystore.creation_lock(home):
        for name, secret in contents.items():
            keystore.write_key_file(name, secret, home)
        keyvault.destroy_file(home)
    return sorted(contents)


def require_set(home: Path) -> None:
    if not keyvault.exists(home):
        raise PassphraseError(f"no passphrase is set; set one with `{SET_COMMAND}`")


def unlock_with(home: Path, ask: Callable[[str], str | None]) -> bool:
    """Unwrap the keys before anything needs them (the window at start-up): with
    CANDOR_PASSPHRASE if set, else `ask(problem)` until it gives the right passphrase (True) or
    None (the user cancelled: False). A damaged wrapped-keys file raises SecretUnavailable."""
    home = home.resolve()
    if not keyvault.exists(home) or keyvault.is_unlocked(home):
        return True
    problem = ""
    given: str | None = os.environ.get(PASSPHRASE_ENV) or None
    while True:
        if given is None:
            given = ask(problem)
            if given is None:
                return False
        try:
            keyvault.unlock(home, given)
            return True
        except WrongPassphrase as err:
            problem = str(err)
        except keyvault.VaultDamaged as err:
            raise keystore.SecretUnavailable(str(err)) from err
        given = None
