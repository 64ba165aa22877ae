"""The drawn release kept until it is exported, so that the preview is the file.

Promise: noise is drawn once per (aggregate, ε): the preview and every export of the same
corrections under the same ε show and write one and the same release. That also means exporting
again changes nothing an onlooker could average away; only new corrections or another ε draw
anew. The release is kept sealed (AES-256-GCM under the storage master key) in
`contribution-release.sealed`, 0600, so no corrected term is readable in the data directory;
erasing everything destroys the master key and with it this file's meaning.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
from pathlib import Path

from app.storage import crypto
from app.storage.export import write_text_atomic

log = logging.getLogger(__name__)

PENDING_NAME = "contribution-release.sealed"
_OWNER = "contribution"  # stands where a meeting id stands in the sealing context
_FIELD = "release"


def fingerprint(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def load(home: Path, master: bytes, wanted: str) -> str | None:
    """The kept release's text if it was drawn for `wanted`; None otherwise."""
    path = home / PENDING_NAME
    try:
        blob = base64.b64decode(path.read_text(encoding="ascii"), validate=True)
        kept = json.loads(crypto.open_text(master, _OWNER, _FIELD, None, blob))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, crypto.DecryptionFailed) as err:
        # unreadable or from another key: a new draw replaces it, nothing is lost
        log.warning("kept contribution release unreadable, drawing anew: %s", err)
        return None
    if kept.get("fingerprint") != wanted or not isinstance(kept.get("text"), str):
        return None
    return str(kept["text"])


def keep(home: Path, master: bytes, wanted: str, text: str) -> None:
    blob = crypto.seal_text(master, _OWNER, _FIELD, None,
                            json.dumps({"fingerprint": wanted, "text": text}))
    write_text_atomic(home / PENDING_NAME, base64.b64encode(blob).decode("ascii"))


def forget(home: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (home / PENDING_NAME).unlink()
