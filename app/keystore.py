"""Small secrets (encryption and HMAC keys) kept outside the data they protect.

A secret lives in the OS keyring (service "Candor", one username per secret *and* per data
directory, so two CANDOR_HOMEs never share or overwrite a key). When no usable keyring backend
exists (a headless machine, tests), it lives in a 0600 file under `<data dir>/keys/` instead —
or, once the user set a passphrase, inside `keys/wrapped-keys.json`, wrapped with it
(`app/keyvault.py`); `app/key_protection.py` says what each of the three protects against.

Where a secret went is remembered on disk (`keys/NAME.keyring` marker, or the key file itself),
so a keyring that is locked or missing later is reported as an error instead of silently
creating a new key, which would make everything encrypted under the old key unreadable.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import logging
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from app import keyvault, passphrase
from app.paths import data_dir
from app.private_files import write_private

log = logging.getLogger(__name__)

SERVICE = "Candor"
KEYS_DIR = "keys"
CREATION_LOCK = ".creation.lock"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class SecretUnavailable(Exception):
    """A secret that was created earlier cannot be read now; nothing new was created."""


@dataclass(frozen=True, slots=True)
class SecretLocation:
    kind: Literal["keyring", "file", "passphrase"]
    where: str  # human-readable: the keyring backend and entry, or the key file path

    def describe(self) -> str:
        if self.kind == "keyring":
            return f"OS keyring: {self.where}"
        if self.kind == "passphrase":
            return f"wrapped with your passphrase: {self.where}"
        return f"key file (mode 0600, outside the database): {self.where}"


def _home(home: Path | None) -> Path:
    return (home if home is not None else data_dir()).resolve()


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"secret name {name!r} must be lower-case letters, digits, . _ -")


def _keys_dir(home: Path) -> Path:
    path = home / KEYS_DIR
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def keyring_username(name: str, home: Path | None = None) -> str:
    """The keyring entry's username: the secret's name plus the data directory it belongs to."""
    return f"{name} [{_home(home)}]"


def _keyring_backend() -> Any | None:
    """The active keyring backend, or None when only the 'fail' backend is there."""
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:  # a broken backend configuration is the same as no backend here
        log.warning("keyring backend could not be loaded", exc_info=True)
        return None
    if isinstance(backend, fail.Keyring):
        return None
    return backend


def keyring_available() -> bool:
    return _keyring_backend() is not None


def _backend_name(backend: Any) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


@contextlib.contextmanager
def _creation_lock(keys: Path) -> Iterator[None]:
    # Two processes starting together must agree on one secret, not each create their own.
    with os.fdopen(os.open(keys / CREATION_LOCK, os.O_RDWR | os.O_CREAT, 0o600), "r+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _encode(secret: bytes) -> str:
    return base64.b64encode(secret).decode("ascii")


def _decode(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as err:
        raise SecretUnavailable(f"the secret in {where} is not valid base64: {err}") from err


def _read_file(path: Path) -> bytes | None:
    """The key in `path`; None when it is gone (another Candor erasing it just now)."""
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            # Someone loosened it; tighten rather than refuse, and say so in the log.
            log.warning("key file %s had mode %o; setting 0600", path, mode)
            path.chmod(0o600)
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as err:
        raise SecretUnavailable(f"the key file {path} is damaged (not text): {err}") from err
    return _decode(text, str(path))


def _write_file(path: Path, secret: bytes) -> None:
    tmp = path.with_name(path.name + ".new")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, _encode(secret).encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def shred_file(path: Path) -> None:
    """Overwrite a key file before unlinking it, so the bytes do not linger in that block."""
    # Moved out of its name first: a reader finds the whole key or none, never the random
    # bytes written over it (another Candor reading while this one erases).
    doomed = path.with_name(f".{path.name}.{secrets.token_hex(8)}.shredding")
    os.rename(path, doomed)
    size = doomed.stat().st_size
    with open(doomed, "r+b") as handle:
        handle.write(secrets.token_bytes(max(size, 1)))
        handle.flush()
        os.fsync(handle.fileno())
    doomed.unlink()


def key_files(home: Path | None = None) -> dict[str, Path]:
    """The secrets kept as plain key files in this data directory, by name."""
    keys = _home(home) / KEYS_DIR
    if not keys.is_dir():
        return {}
    return {p.name[: -len(".key")]: p for p in sorted(keys.glob("*.key")) if p.is_file()}


def read_key_file(path: Path) -> bytes:
    secret = _read_file(path)
    if secret is None:
        raise SecretUnavailable(f"the key file {path} went away while it was read")
    return secret


def write_key_file(name: str, secret: bytes, home: Path | None = None) -> None:
    _check_name(name)
    root = _home(home)
    _keys_dir(root)
    _write_file(_paths(name, root)[0], secret)


def creation_lock(home: Path | None = None) -> contextlib.AbstractContextManager[None]:
    return _creation_lock(_keys_dir(_home(home)))


def _paths(name: str, home: Path) -> tuple[Path, Path]:
    keys = home / KEYS_DIR
    return keys / f"{name}.key", keys / f"{name}.keyring"


def _ask(home: Path) -> Callable[[], str]:
    return lambda: passphrase.current(str(home))


def _from_vault(name: str, home: Path) -> bytes | None:
    try:
        return keyvault.read_fresh(home, _ask(home)).get(name)
    except keyvault.VaultDamaged as err:
        raise SecretUnavailable(f"{err}; the keys wrapped in it cannot be read") from err


def _read_existing(name: str, home: Path) -> bytes | None:
    key_file, marker = _paths(name, home)
    if key_file.exists():
        return _read_file(key_file)
    if not marker.exists():
        return _from_vault(name, home) if keyvault.exists(home) else None
    backend = _keyring_backend()
    user = keyring_username(name, home)
    if backend is None:
        raise SecretUnavailable(
            f"the key {name!r} is kept in the OS keyring (service {SERVICE!r}, user {user!r}), "
            "but no keyring is available now. Unlock or start your keyring (for example log in "
            "to the desktop session) and try again."
        )
    try:
        text = backend.get_password(SERVICE, user)
    except Exception as err:
        raise SecretUnavailable(
            f"the OS keyring could not be read for key {name!r} ({err}). Unlock it and try again."
        ) from err
    if text is None:
        raise SecretUnavailable(
            f"the key {name!r} is missing from the OS keyring (service {SERVICE!r}, user "
            f"{user!r}). Data encrypted under it cannot be read without it."
        )
    return _decode(text, f"the OS keyring entry {user!r}")


def get_secret(name: str, *, home: Path | None = None) -> bytes | None:
    """The secret if it exists, None if it was never created (or was deleted).

    Raises SecretUnavailable when it exists but cannot be read now.
    """
    _check_name(name)
    return _read_existing(name, _home(home))


def get_or_create_secret(name: str, *, size: int = 32, home: Path | None = None) -> bytes:
    """The secret called `name` for this data directory, created (random, `size` bytes) if new."""
    _check_name(name)
    root = _home(home)
    existing = _read_existing(name, root)
    if existing is not None:
        return existing
    keys = _keys_dir(root)
    with _creation_lock(keys):
        existing = _read_existing(name, root)
        if existing is not None:
            return existing
        secret = secrets.token_bytes(size)
        _store_new(name, root, secret)
        return secret


def _store_new(name: str, root: Path, secret: bytes) -> None:
    """Keyring first; else beside the passphrase-wrapped keys if there are any; else a file."""
    key_file, marker = _paths(name, root)
    if _store_in_keyring(name, root, secret):
        write_private(
            marker,
            f"The key {name!r} is in the OS keyring: service {SERVICE!r}, "
            f"user {keyring_username(name, root)!r}.\n",
        )
        log.info("created secret %s in the OS keyring", name)
    elif keyvault.exists(root):
        try:
            keyvault.update(root, _ask(root), lambda held: held.__setitem__(name, secret))
        except keyvault.VaultDamaged as err:
            raise SecretUnavailable(f"{err}; {name!r} could not be kept in it") from err
        log.info("created secret %s under the passphrase", name)
    else:
        _write_file(key_file, secret)
        log.info("created secret %s in key file %s", name, key_file)


def set_secret(
    name: str,
    value: bytes,
    *,
    home: Path | None = None,
    only_if: Callable[[bytes | None], bool] | None = None,
) -> bool:
    """Replace the secret `name` where it is kept (or keep a new one as `get_or_create_secret`
    would): for small values that change, such as the consent ledger's anchor. With `only_if`,
    the current value is read and the test made under the same lock as the write, so two
    processes cannot interleave; returns whether it was written."""
    _check_name(name)
    root = _home(home)
    keys = _keys_dir(root)
    with _creation_lock(keys):
        if only_if is not None and not only_if(_read_existing(name, root)):
            return False
        key_file, marker = _paths(name, root)
        if key_file.exists():
            _write_file(key_file, value)
        elif marker.exists():
            backend = _keyring_backend()
            if backend is None:
                raise SecretUnavailable(
                    f"the value {name!r} is kept in the OS keyring, which is not available now; "
                    "unlock or start it and try again"
                )
            try:
                backend.set_password(SERVICE, keyring_username(name, root), _encode(value))
            except Exception as err:
                raise SecretUnavailable(
                    f"the OS keyring refused to update {name!r}: {err}"
                ) from err
        else:
            _store_new(name, root, value)
    return True


def _store_in_keyring(name: str, home: Path, secret: bytes) -> bool:
    backend = _keyring_backend()
    if backend is None:
        return False
    user = keyring_username(name, home)
    encoded = _encode(secret)
    try:
        backend.set_password(SERVICE, user, encoded)
        # Some backends accept a write and keep nothing (the 'null' backend): read it back.
        stored = backend.get_password(SERVICE, user)
    except Exception:
        log.warning("OS keyring refused the secret %s; using a key file", name, exc_info=True)
        return False
    if stored != encoded:
        log.warning("OS keyring did not keep the secret %s; using a key file", name)
        with contextlib.suppress(Exception):
            backend.delete_password(SERVICE, user)
        return False
    return True


def secret_location(name: str, *, home: Path | None = None) -> SecretLocation | None:
    """Where the secret lives, without reading it; None if it does not exist."""
    _check_name(name)
    root = _home(home)
    key_file, marker = _paths(name, root)
    if key_file.exists():
        return SecretLocation("file", str(key_file))
    if not marker.exists() and keyvault.exists(root):
        held = keyvault.held_names(root)  # None when the file is damaged: say where it was
        if held is not None and name not in held:
            return None
        cost = keyvault.cost_of(root)
        return SecretLocation(
            "passphrase",
            f"{keyvault.vault_path(root)} (AES-256-GCM, key derived with "
            f"{cost.describe() if cost else 'scrypt'})",
        )
    if marker.exists():
        backend = _keyring_backend()
        backend_name = _backend_name(backend) if backend is not None else "not available now"
        return SecretLocation(
            "keyring",
            f"service {SERVICE!r}, user {keyring_username(name, root)!r} "
            f"(backend: {backend_name})",
        )
    return None


def delete_secret(name: str, *, home: Path | None = None) -> bool:
    """Destroy the secret wherever it is. True if there was one.

    A key file is overwritten before it is unlinked, so the bytes do not linger in that block.
    """
    _check_name(name)
    root = _home(home)
    key_file, marker = _paths(name, root)
    found = False
    if key_file.exists():
        with contextlib.suppress(FileNotFoundError):  # another Candor destroyed it meanwhile
            shred_file(key_file)
            found = True
    if keyvault.exists(root) and name in (keyvault.held_names(root) or ()):
        try:
            keyvault.update(root, _ask(root), lambda held: held.pop(name, None))
        except keyvault.VaultDamaged as err:
            raise SecretUnavailable(f"{err}; {name!r} could not be destroyed in it") from err
        found = True
    if marker.exists():
        backend = _keyring_backend()
        if backend is None:
            raise SecretUnavailable(
                f"the key {name!r} is in the OS keyring, which is not available now; "
                "unlock it and try again so the key can be destroyed."
            )
        try:
            backend.delete_password(SERVICE, keyring_username(name, root))
        except Exception as err:
            from keyring.errors import PasswordDeleteError

            if not isinstance(err, PasswordDeleteError):  # already gone is fine
                raise SecretUnavailable(
                    f"the OS keyring refused to delete {name!r}: {err}"
                ) from err
        marker.unlink()
        found = True
    if found:
        log.info("destroyed secret %s", name)
    return found
