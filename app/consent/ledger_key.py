"""The ledger's HMAC key, kept outside the ledger so a rewritten ledger cannot re-sign itself.

It lives in the OS keyring when a usable backend exists, otherwise in a 0600 file in the data
directory's `keys/` folder. Which one is used is reported (`where`) so the user can see it.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

KEYRING_SERVICE = "Candor"
KEY_BYTES = 32


@dataclass
class LedgerKey:
    secret: bytes
    where: str  # "OS keyring (<backend>)" or the key file's path


def _usable_keyring() -> object | None:
    try:
        import keyring
        from keyring.backends import fail, null
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    if getattr(backend, "priority", 1) <= 0:
        return None
    return backend


class LedgerKeyStore:
    def __init__(self, key_file: Path, keyring_user: str) -> None:
        self.key_file = key_file
        self.keyring_user = keyring_user

    def load(self) -> LedgerKey | None:
        backend = _usable_keyring()
        if backend is not None:
            try:
                value = backend.get_password(KEYRING_SERVICE, self.keyring_user)
            except Exception as err:  # a locked or broken keyring: fall back to the file
                log.warning("keyring unavailable (%s); using the key file", type(err).__name__)
            else:
                if value:
                    return LedgerKey(bytes.fromhex(value), f"OS keyring ({type(backend).__name__})")
        if self.key_file.is_file():
            return LedgerKey(bytes.fromhex(self.key_file.read_text().strip()), str(self.key_file))
        return None

    def create(self) -> LedgerKey:
        secret = secrets.token_bytes(KEY_BYTES)
        backend = _usable_keyring()
        if backend is not None:
            try:
                backend.set_password(KEYRING_SERVICE, self.keyring_user, secret.hex())
                return LedgerKey(secret, f"OS keyring ({type(backend).__name__})")
            except Exception as err:
                log.warning("could not store the ledger key in the keyring (%s)", err)
        self.key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secret.hex() + "\n")
        return LedgerKey(secret, str(self.key_file))

    def destroy(self) -> None:
        backend = _usable_keyring()
        if backend is not None:
            try:
                backend.delete_password(KEYRING_SERVICE, self.keyring_user)
            except Exception:  # absent already
                log.info("no ledger key in the keyring to delete")
        self.key_file.unlink(missing_ok=True)
