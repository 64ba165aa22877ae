"""Starting the consent ledger anew, knowingly (`candor consent new-ledger --yes`).

Promise: only a ledger that cannot be trusted — damaged, unreadable, failing verification, or
missing although one existed — is replaced; its files are kept beside it as evidence, byte for
byte, and the new ledger's first record says that it replaced one. Every permission is then not
given until given again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.consent import ledger_lock
from app.consent.errors import ConsentError, LedgerError
from app.consent.gate import ledger_paths
from app.consent.ledger import ALL_PURPOSES, Ledger, LedgerRecord


class LedgerTrusted(ConsentError):
    """The ledger verifies: replacing it would throw away valid consent records."""


@dataclass(frozen=True, slots=True)
class NewLedger:
    kept: tuple[Path, ...]  # the old ledger's files, renamed as evidence
    why: str  # why the old one could not be trusted
    path: Path
    record: LedgerRecord  # the new ledger's first record ("ledger_replaced")


def _evidence_name(path: Path, stamp: str) -> Path:
    candidate = path.with_name(f"{path.name}.untrusted-{stamp}")
    number = 1
    while candidate.exists() or candidate.is_symlink():  # never overwrite earlier evidence
        number += 1
        candidate = path.with_name(f"{path.name}.untrusted-{stamp}-{number}")
    return candidate


def start_new_ledger(home: Path, via: str = "cli") -> NewLedger:
    path, head = ledger_paths(home)
    try:
        old = Ledger(path, head)
    except LedgerError as err:  # unreadable, truncated, not a ledger: untrusted by definition
        why = str(err)
    else:
        try:
            if old.key is None and old.key_problem:
                raise LedgerError(
                    f"the ledger key cannot be read now ({old.key_problem}); nothing was changed. "
                    "Make it available and try again, so the new ledger can be keyed"
                )
            result = old.verify()
        finally:
            old.close()
        if result.ok:
            raise LedgerTrusted("the consent ledger verifies; there is no reason to replace it")
        why = result.describe()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = []
    with ledger_lock.replacing(home):  # another Candor opening now waits for the new ledger
        # a ledger that replaced another is its own file, linked from the path (Ledger)
        real = path.resolve() if path.is_symlink() else path
        moves = ((real, path), (head, head), (Path(f"{real}-journal"), Path(f"{path}-journal")))
        for old_file, named in moves:
            if old_file.exists() or old_file.is_symlink():
                target = _evidence_name(named, stamp)
                old_file.rename(target)
                kept.append(target)
        if path.is_symlink():
            path.unlink()
        fresh = Ledger(path, head, starting_anew=True)
        try:
            record = fresh.append(
                purpose=ALL_PURPOSES, state="ledger_replaced", type="explicit",
                collection_method=via
            )
        finally:
            fresh.close()
    return NewLedger(tuple(kept), why, path, record)
