"""Key files wrapped with a passphrase: `keys/wrapped-keys.json`, for machines without a keyring.

Promise: with a passphrase set, no key is on disk in the clear. Every secret of the data
directory (the storage master key, the ledger key, the ledger's anchor, …) is one AES-256-GCM
ciphertext under a key-encryption key derived from the passphrase with scrypt, a memory-hard KDF
(`cryptography`'s, i.e. OpenSSL's): a copy of the folder is worthless without the passphrase, and
each guess at it costs the default scrypt cost (measured below). The header (KDF name, its cost
and salt) is the AEAD's associated data, so it cannot be swapped for a cheaper one unnoticed.

The derived key and the unwrapped secrets live only in this process's memory, from the first
unlock to its end (`forget` drops them). Every change re-reads the file under the keys folder's
lock and rewrites it atomically (fsync, rename), so two processes never lose each other's keys.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from app.passphrase import WrongPassphrase

VAULT_NAME = "wrapped-keys.json"
FORMAT = "candor-wrapped-keys"
VERSION = 1
LOCK_NAME = ".vault.lock"  # one writer of the file at a time; taken before `_guard`, never after


@dataclass(frozen=True, slots=True)
class KdfCost:
    """scrypt's cost. The default is the OWASP recommendation for scrypt; measured on the 2-core
    reference machine it costs 0.42 s CPU per derivation (0.41-0.43 s over 5 runs at load 2.2;
    0.38-0.53 s over 14 at load 7-9) and 128 MiB (128·n·r bytes; peak RSS +139 MB), paid once
    per process. Tests inject a cheaper one; the file records which was used."""

    n: int = 2**17
    r: int = 8
    p: int = 1

    @property
    def memory_bytes(self) -> int:
        return 128 * self.n * self.r * self.p

    def describe(self) -> str:
        return (f"scrypt N=2^{self.n.bit_length() - 1}, r={self.r}, p={self.p}, "
                f"{self.memory_bytes // 2**20} MiB per guess")


DEFAULT_COST = KdfCost()


class VaultDamaged(Exception):
    """The wrapped-keys file is not one Candor wrote, or cannot be read."""


@dataclass(slots=True)
class _Open:
    kek: bytes
    salt: bytes
    cost: KdfCost
    secrets: dict[str, bytes]


_open: dict[Path, _Open] = {}
_guard = threading.Lock()


def vault_path(home: Path) -> Path:
    return home / "keys" / VAULT_NAME


def exists(home: Path) -> bool:
    return vault_path(home).exists()


def is_unlocked(home: Path) -> bool:
    return home in _open


def forget(home: Path | None = None) -> None:
    """Drop unwrapped keys from memory (all, or one data directory's)."""
    with _guard:
        if home is None:
            _open.clear()
        else:
            _open.pop(home, None)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, what: str) -> bytes:
    try:
        return base64.b64decode(str(text).encode("ascii"), validate=True)
    except (ValueError, binascii.Error) as err:
        raise VaultDamaged(f"{what} is not valid base64") from err


def _derive(passphrase: str, salt: bytes, cost: KdfCost) -> bytes:
    return Scrypt(salt=salt, length=32, n=cost.n, r=cost.r, p=cost.p).derive(
        passphrase.encode("utf-8")
    )


def _header(salt: bytes, cost: KdfCost, names: list[str]) -> dict[str, object]:
    # The names are not secret (every profile has the same few) and let `candor keys status`
    # say which keys exist without asking for the passphrase; being associated data, they
    # cannot be edited unnoticed.
    return {"format": FORMAT, "version": VERSION, "aead": "AES-256-GCM",
            "kdf": {"name": "scrypt", "n": cost.n, "r": cost.r, "p": cost.p, "salt": _b64(salt)},
            "names": names}


def _aad(header: dict[str, object]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _read(home: Path) -> tuple[dict[str, object], bytes, bytes]:
    path = vault_path(home)
    try:
        data = json.loads(path.read_text("utf-8"))
        header = {k: data[k] for k in ("format", "version", "aead", "kdf", "names")}
        nonce, sealed = _unb64(data["nonce"], "nonce"), _unb64(data["ciphertext"], "ciphertext")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise VaultDamaged(f"{path} cannot be read as Candor's wrapped keys ({err})") from err
    if header["format"] != FORMAT or header["version"] != VERSION:
        raise VaultDamaged(f"{path} is not a version {VERSION} Candor wrapped-keys file")
    return header, nonce, sealed


def _cost_and_salt(header: dict[str, object], path: Path) -> tuple[KdfCost, bytes]:
    kdf = header["kdf"]
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise VaultDamaged(f"{path} names no scrypt cost")
    try:
        return KdfCost(int(kdf["n"]), int(kdf["r"]), int(kdf["p"])), _unb64(kdf["salt"], "salt")
    except (KeyError, ValueError, TypeError) as err:
        raise VaultDamaged(f"{path} names no usable scrypt cost") from err


def _decrypt(kek: bytes, header: dict[str, object], nonce: bytes, sealed: bytes,
             home: Path) -> dict[str, bytes]:
    try:
        plain = AESGCM(kek).decrypt(nonce, sealed, _aad(header))
    except InvalidTag as err:
        raise WrongPassphrase(
            f"the passphrase does not open the keys of {home} (wrong passphrase, or "
            f"{vault_path(home)} was changed); nothing was changed — try again"
        ) from err
    body = json.loads(plain)
    return {name: _unb64(value, name) for name, value in body["secrets"].items()}


def _write(home: Path, opened: _Open) -> None:
    header = _header(opened.salt, opened.cost, sorted(opened.secrets))
    nonce = secrets.token_bytes(12)  # random per write: 2^-32 collision odds after 2^32 writes
    body = json.dumps({"secrets": {k: _b64(v) for k, v in sorted(opened.secrets.items())}})
    sealed = AESGCM(opened.kek).encrypt(nonce, body.encode("utf-8"), _aad(header))
    text = json.dumps({**header, "nonce": _b64(nonce), "ciphertext": _b64(sealed)}, indent=1)
    path = vault_path(home)
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, text.encode("utf-8") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself must survive a power cut
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def _folder_lock(home: Path) -> Iterator[None]:
    keys = home / "keys"
    keys.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(keys / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def create(home: Path, passphrase: str, contents: dict[str, bytes],
           cost: KdfCost = DEFAULT_COST) -> None:
    """Write a new wrapped-keys file holding `contents`, and keep it unlocked."""
    salt = secrets.token_bytes(16)
    opened = _Open(_derive(passphrase, salt, cost), salt, cost, dict(contents))
    with _folder_lock(home), _guard:
        _write(home, opened)
        _open[home] = opened


def unlock(home: Path, passphrase: str) -> dict[str, bytes]:
    """Derive the key from `passphrase` and open the file; raises WrongPassphrase."""
    header, nonce, sealed = _read(home)
    cost, salt = _cost_and_salt(header, vault_path(home))
    kek = _derive(passphrase, salt, cost)
    contents = _decrypt(kek, header, nonce, sealed, home)
    with _guard:
        _open[home] = _Open(kek, salt, cost, contents)
    return dict(contents)


def _opened(home: Path, ask: Callable[[], str]) -> _Open:
    with _guard:
        opened = _open.get(home)
    if opened is None:
        unlock(home, ask())
        with _guard:
            opened = _open[home]
    return opened


def read(home: Path, ask: Callable[[], str]) -> dict[str, bytes]:
    """The secrets as this process last saw them, asking for the passphrase once if needed."""
    return dict(_opened(home, ask).secrets)


def read_fresh(home: Path, ask: Callable[[], str]) -> dict[str, bytes]:
    """The secrets as the file holds them now (another process may have changed them)."""
    opened = _opened(home, ask)
    with _guard:
        _refresh(home, opened)
        return dict(opened.secrets)


def _refresh(home: Path, opened: _Open) -> None:
    header, nonce, sealed = _read(home)
    cost, salt = _cost_and_salt(header, vault_path(home))
    if salt != opened.salt or cost != opened.cost:
        raise WrongPassphrase(
            f"the passphrase of {home} was changed by another Candor since this one was "
            "unlocked; close this one and start it again"
        )
    opened.secrets = _decrypt(opened.kek, header, nonce, sealed, home)


def update(home: Path, ask: Callable[[], str],
           change: Callable[[dict[str, bytes]], object]) -> None:
    """Apply `change` to the secrets as the file holds them now, and write them back."""
    opened = _opened(home, ask)
    with _folder_lock(home), _guard:
        _refresh(home, opened)
        change(opened.secrets)
        _write(home, opened)


def rewrap(home: Path, old: str, new: str, cost: KdfCost = DEFAULT_COST) -> None:
    """Change the passphrase: the same secrets under a key from `new` and a fresh salt."""
    with _folder_lock(home):
        contents = unlock(home, old)
        salt = secrets.token_bytes(16)
        opened = _Open(_derive(new, salt, cost), salt, cost, contents)
        with _guard:
            _write(home, opened)
            _open[home] = opened


def destroy_file(home: Path) -> None:
    """Overwrite and unlink the wrapped-keys file, and forget its keys."""
    path = vault_path(home)
    with _folder_lock(home):
        if path.exists():
            size = path.stat().st_size
            with open(path, "r+b") as handle:
                handle.write(secrets.token_bytes(max(size, 1)))
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
    forget(home)


def held_names(home: Path) -> frozenset[str] | None:
    """The names of the secrets the file holds (from its authenticated header; read without the
    passphrase), or None when it cannot be read."""
    try:
        names = _read(home)[0]["names"]
    except VaultDamaged:
        return None
    return frozenset(str(n) for n in names) if isinstance(names, list) else None


def cost_of(home: Path) -> KdfCost | None:
    """The scrypt cost the file was written with (readable without the passphrase)."""
    try:
        header, _nonce, _sealed = _read(home)
        return _cost_and_salt(header, vault_path(home))[0]
    except VaultDamaged:
        return None
