"""The consent ledger's anchor: which ledger, how many records, and the last record's hash,
kept with the ledger's key — in the OS keyring, or wrapped with the passphrase — and not in the
ledger's own files.

Why: the head file beside the ledger is signed with the ledger key, so whoever holds that key
(a copy of a keys folder without protection) can delete a withdrawal, rebuild the chain and
re-sign the head. The anchor is where that copy cannot write: `verify` compares the ledger with
it and reports a ledger rolled back, emptied, swapped or re-signed. Without a keyring or a
passphrase the anchor is one more file in `keys/`; it then only catches a ledger deleted or
rolled back by accident, which `app/key_protection.py` says plainly.

The anchor only moves forward (a higher record count of the same ledger) except when a ledger is
deliberately started anew (`consent new-ledger`, erase everything).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from app import keystore

ANCHOR_NAME = "consent-ledger-anchor"
GENESIS = "0" * 64  # the ledger's GENESIS_HASH: what an anchor of no record points at
# The anchor of a ledger found missing whose length was never anchored (a profile from before
# anchors): it keeps saying so, whatever empty ledger is created in its place, until new-ledger.
LOST_LEDGER = "lost"


@dataclass(frozen=True, slots=True)
class Anchor:
    profile_id: str  # the ledger's own id (its meta table): a swapped ledger has another
    seq: int  # how many records the ledger held
    record_hash: str  # the keyed hash of record #seq (the genesis hash for none)

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode("utf-8")


def _decode(data: bytes) -> Anchor:
    try:
        fields = json.loads(data)
        return Anchor(str(fields["profile_id"]), int(fields["seq"]), str(fields["record_hash"]))
    except (ValueError, KeyError, TypeError) as err:
        raise keystore.SecretUnavailable(
            f"the consent ledger's anchor cannot be read ({err}); it looks damaged"
        ) from err


def read_anchor(home: Path) -> Anchor | None:
    """The anchor, or None when none was kept. Raises SecretUnavailable when it cannot be read
    (a locked keyring), and a PassphraseError when the passphrase is needed and not given."""
    data = keystore.get_secret(ANCHOR_NAME, home=home)
    return None if data is None else _decode(data)


def advance_anchor(home: Path, anchor: Anchor) -> bool:
    """Move the anchor forward to `anchor` (never back, never to another ledger: two processes
    appending at once both call this, in either order)."""

    def newer(current: bytes | None) -> bool:
        if current is None:
            return True
        held = _decode(current)
        return held.profile_id == anchor.profile_id and anchor.seq > held.seq

    return keystore.set_secret(ANCHOR_NAME, anchor.encode(), home=home, only_if=newer)


def reset_anchor(home: Path, anchor: Anchor) -> None:
    """Point the anchor at a ledger started anew on purpose."""
    keystore.set_secret(ANCHOR_NAME, anchor.encode(), home=home)


def delete_anchor(home: Path) -> None:
    keystore.delete_secret(ANCHOR_NAME, home=home)


def anchor_location(home: Path) -> str:
    location = keystore.secret_location(ANCHOR_NAME, home=home)
    return location.describe() if location else "nowhere yet"


def anchor_problem(anchor: Anchor, profile_id: str, hashes: list[str], where: str) -> str:
    """Why the ledger (its records' hashes in order) does not match its anchor, or ""."""
    count = len(hashes)
    missing = (
        "the consent ledger is missing although one existed: its anchor ({where}) records "
        f"{anchor.seq} record(s), and the ledger here holds none"
    ).format(where=where)
    if anchor.profile_id == LOST_LEDGER:
        return (f"the consent ledger is missing although one existed: its key was still kept "
                f"but the ledger file was gone (noted in its anchor, {where})")
    if anchor.profile_id != profile_id:
        if anchor.seq == 0:
            return ""  # the ledger replaced had no record: no consent was lost
        if count == 0:
            return missing
        return (f"the consent ledger was replaced by another one: its anchor ({where}) belongs "
                f"to a ledger of {anchor.seq} record(s) with a different id")
    if anchor.seq > count:
        if count == 0:
            return missing
        return (f"the consent ledger was rolled back: its anchor ({where}) records "
                f"{anchor.seq} records, the ledger holds {count}; records were removed")
    if anchor.seq and hashes[anchor.seq - 1] != anchor.record_hash:
        return (f"record #{anchor.seq} is not the one anchored ({where}): records were removed "
                "or changed and the ledger re-signed")
    return ""


def ledger_left_a_trace(home: Path, key_name: str) -> bool:
    """Whether a ledger exists or existed here: its key or its anchor is still kept. A check that
    finds no ledger file must then open it (and report it missing), not say "none yet"."""
    return any(keystore.secret_location(name, home=home) is not None
               for name in (key_name, ANCHOR_NAME))


def open_anchor(home: Path, now: Anchor, *, existed: bool, key_created: bool,
                starting_anew: bool, verifies: Callable[[], bool]) -> str:
    """At opening a ledger whose key is at hand (`now`: the ledger as it is): why it cannot be
    trusted against its anchor, or "". Anchors a ledger that has none yet (new, or from before
    anchors) once it verifies, and follows one started anew on purpose."""
    try:
        anchor = read_anchor(home)
    except keystore.SecretUnavailable as err:
        return f"its anchor cannot be read: {err}"
    if anchor is None and not existed and not key_created and not starting_anew:
        # A ledger from before anchors, deleted with its head: its key is the one trace.
        # Noted in the anchor, so the empty ledger made in its place is never trusted.
        reset_anchor(home, Anchor(LOST_LEDGER, 0, GENESIS))
        return ""
    # An anchor of a ledger that held no record says nothing worth keeping.
    stale = (anchor is not None and anchor.seq == 0
             and anchor.profile_id not in (now.profile_id, LOST_LEDGER))
    if starting_anew or ((anchor is None or stale) and verifies()):
        reset_anchor(home, now)
    return ""


def compare_with_anchor(home: Path, profile_id: str, hashes: list[str]) -> str:
    """Why the ledger (its records' hashes in order) does not match the anchor kept now, or ""
    (also when none is kept: a ledger from before anchors, until it is anchored)."""
    try:
        anchor = read_anchor(home)
    except keystore.SecretUnavailable as err:
        return f"its anchor cannot be read: {err}"
    if anchor is None:
        return ""
    return anchor_problem(anchor, profile_id, hashes, anchor_location(home))
