"""The drawn release kept until it is exported, so that the preview is the file.

Promise: noise is drawn once per (aggregate, ε): the preview and every export of the same
corrections under the same ε show and write one and the same release. That also means exporting
again changes nothing an onlooker could average away; only new corrections or another ε draw
anew. Every draw is kept, one per (aggregate, ε), not only the last: with one slot, two
previews computed at once (the window's first one and the one for the ε just typed) made the
later-finishing one replace the other, and the export then drew anew and wrote what nobody had
seen; and stepping ε away and back would redraw, which is what averaging needs. The releases are
kept sealed (AES-256-GCM under the storage master key) in
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
# (aggregate, ε) pairs kept; ε has 100 values, so this only bounds years of changed corrections
MAX_KEPT = 512


def fingerprint(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _read(home: Path, master: bytes) -> dict[str, str]:
    """fingerprint -> release text of every kept draw; {} when none can be read."""
    path = home / PENDING_NAME
    try:
        blob = base64.b64decode(path.read_text(encoding="ascii"), validate=True)
        kept = json.loads(crypto.open_text(master, _OWNER, _FIELD, None, blob))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, crypto.DecryptionFailed) as err:
        # unreadable or from another key: a new draw replaces it, nothing is lost
        log.warning("kept contribution releases unreadable, drawing anew: %s", err)
        return {}
    if not isinstance(kept, dict):
        return {}
    if isinstance(kept.get("fingerprint"), str):  # the earlier one-slot file
        kept = {"draws": [kept]}
    draws = kept.get("draws")
    if not isinstance(draws, list):
        return {}
    return {d["fingerprint"]: d["text"] for d in draws
            if isinstance(d, dict) and isinstance(d.get("fingerprint"), str)
            and isinstance(d.get("text"), str)}


def load(home: Path, master: bytes, wanted: str) -> str | None:
    """The release drawn for `wanted`, if one was kept; None otherwise."""
    return _read(home, master).get(wanted)


def keep(home: Path, master: bytes, wanted: str, text: str) -> None:
    """Keep `text` as the release for `wanted` beside the other kept draws (the oldest go
    beyond MAX_KEPT). The caller serialises keep() calls; see service._DRAWING."""
    draws = _read(home, master)
    draws.pop(wanted, None)
    draws[wanted] = text  # dicts keep insertion order: the newest last
    ordered = list(draws.items())[-MAX_KEPT:]
    document = {"draws": [{"fingerprint": f, "text": t} for f, t in ordered]}
    blob = crypto.seal_text(master, _OWNER, _FIELD, None, json.dumps(document))
    write_text_atomic(home / PENDING_NAME, base64.b64encode(blob).decode("ascii"))


def forget(home: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (home / PENDING_NAME).unlink()
