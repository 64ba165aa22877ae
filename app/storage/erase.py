"""Erase everything: every meeting, its keys, the vocabulary, the master key, settings and logs.

The master key is destroyed first, so from that instant every transcript (including any copy
in a set-aside damaged database) is unreadable even if the rest is interrupted; then rows are
deleted with secure_delete and the files removed. The consent ledger belongs to the consent
core: it is handed to `ledger_eraser`, which keeps only the record that an erase happened.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app import keystore
from app.paths import data_dir
from app.settings import SETTINGS_NAME
from app.storage import crypto
from app.storage.database import DB_NAME, SIDE_FILES, set_aside_files
from app.storage.instance_lock import InstanceLock
from app.storage.retention import SETTINGS_FILE
from app.storage.store import open_store

log = logging.getLogger(__name__)

LedgerEraser = Callable[[], str]  # erases the ledger but for an "erased" record; says what it did


@dataclass
class EraseResult:
    meetings: int = 0
    vocabulary_terms: int = 0
    removed: list[Path] = field(default_factory=list)
    keys_destroyed: list[str] = field(default_factory=list)
    ledger: str = ""


def _remove(path: Path, result: EraseResult) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        result.removed.append(path)


def erase_everything(
    home: Path | None = None,
    *,
    lock: InstanceLock | None = None,
    ledger_eraser: LedgerEraser | None = None,
) -> EraseResult:
    """Erase all stored data and keys in `home`. Needs the instance lock (the caller's, or it is
    taken here: raises AlreadyRunning while another Candor runs). The caller must have closed
    its own MeetingStore first."""
    root = home if home is not None else data_dir()
    own_lock = None
    if lock is None or not lock.held:
        own_lock = InstanceLock("candor data erase", root).acquire()
    result = EraseResult()
    try:
        if keystore.delete_secret(crypto.MASTER_KEY_NAME, home=root):
            result.keys_destroyed.append(crypto.MASTER_KEY_NAME)
        db = root / DB_NAME
        if db.exists():
            store = open_store(root, lock=own_lock or lock)
            try:
                ids = [m for m, _s, _e in store.retention_rows()]
                result.meetings = len(store.delete_meetings(ids, reason="erase everything"))
                from app.vocabulary.store import VocabularyStore

                result.vocabulary_terms = VocabularyStore(store).clear(reason="erase everything")
            finally:
                store.close()
        for suffix in ("", *SIDE_FILES):
            _remove(root / f"{DB_NAME}{suffix}", result)
        for path in set_aside_files(root):
            _remove(path, result)
        _remove(root / SETTINGS_FILE, result)
        _remove(root / SETTINGS_NAME, result)  # the window's preferences: a fresh start
        from app.contribution.pending import PENDING_NAME  # sealed under the master key

        _remove(root / PENDING_NAME, result)
        logs = root / "logs"
        if logs.is_dir():
            for path in sorted(logs.iterdir()):
                if path.name == "candor.log":
                    # The running logger keeps this file open: empty it rather than unlink it.
                    with open(path, "r+b") as handle:
                        handle.truncate(0)
                    result.removed.append(path)
                elif path.is_file():
                    _remove(path, result)
        if ledger_eraser is None:
            result.ledger = ("consent ledger left unchanged: no ledger eraser was given "
                             "(the consent core provides it)")
        else:
            try:
                result.ledger = ledger_eraser()
            except Exception as err:  # the data is gone already: say so, and what failed
                log.exception("resetting the consent ledger after the erase failed")
                result.ledger = f"the consent ledger could not be reset ({err})"
        log.warning("erased everything: %d meeting(s), %d file(s), keys %s",
                    result.meetings, len(result.removed), result.keys_destroyed)
    finally:
        if own_lock is not None:
            own_lock.release()
    return result
