"""Opening the consent ledger waits while another Candor replaces it (erase everything).

An erase deletes the ledger's key, anchor, head and file, then writes a new ledger. A Candor that
opened the ledger in between found no file and no anchor but perhaps the new key, and could not
tell an erase in progress from a ledger deleted with its head: it marked the ledger lost, and the
erase's new ledger then failed verification. So every opening takes this lock shared and the
replacement takes it exclusive: an opener sees the old ledger or the complete new one.

An advisory `flock` on `keys/.ledger.lock` (an empty file): the kernel drops it when the process
dies. The thread that replaces may open the new ledger inside without waiting on itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".ledger.lock"

_replacing: dict[Path, int] = {}  # data directory → the thread replacing its ledger here
_registry = threading.Lock()


def _lock_file(home: Path) -> int:
    home.mkdir(parents=True, exist_ok=True, mode=0o700)  # parents=True alone: the umask's mode
    keys = home / "keys"
    keys.mkdir(exist_ok=True, mode=0o700)
    return os.open(keys / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)


@contextlib.contextmanager
def _held(home: Path, mode: int) -> Iterator[None]:
    fd = _lock_file(home)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # closing drops the lock


@contextlib.contextmanager
def opening(home: Path) -> Iterator[None]:
    """Held while a ledger is opened: waits for a replacement to finish."""
    key = home.resolve()
    with _registry:
        mine = _replacing.get(key) == threading.get_ident()
    if mine:
        yield
        return
    with _held(key, fcntl.LOCK_SH):
        yield


@contextlib.contextmanager
def replacing(home: Path) -> Iterator[None]:
    """Held while the ledger is deleted and its successor written."""
    key = home.resolve()
    with _held(key, fcntl.LOCK_EX):
        with _registry:
            _replacing[key] = threading.get_ident()
        try:
            yield
        finally:
            with _registry:
                _replacing.pop(key, None)
