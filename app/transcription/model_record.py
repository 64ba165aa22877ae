"""The record written beside a downloaded model: which repository and revision it came from, and
the size and SHA-256 of every file as checked against the hub's declaration at download time.

Promise: a record Candor did not write is not trusted. The record is signed with HMAC-SHA256
under a key kept outside the data (`app/keystore.py`: the OS keyring, or a 0600 key file when
there is none — see the keystore for what that does and does not protect), so editing a file
*and* its record is detected as long as the key is out of reach. Every later load re-hashes the
files and compares them with this record (`app/transcription/models.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

RECORD_NAME = ".candor-download.json"
RECORD_KEY = "model-records"
SCHEMA = 1

DeclaredKind = Literal["sha256", "git-sha1"]


class RecordError(RuntimeError):
    """The record is missing, unreadable, or not the one Candor wrote."""


@dataclass(frozen=True, slots=True)
class RecordedFile:
    name: str
    size: int
    sha256: str  # computed by Candor over the bytes on disk
    declared: str  # what the hub declared: the LFS SHA-256, or the git blob id of a small file
    declared_kind: DeclaredKind


@dataclass(frozen=True, slots=True)
class DownloadRecord:
    name: str
    repo: str
    revision: str  # the commit the files came from (X-Repo-Commit)
    endpoint: str
    downloaded_at: str
    files: tuple[RecordedFile, ...]

    def file(self, name: str) -> RecordedFile | None:
        return next((f for f in self.files if f.name == name), None)


def _key() -> bytes:
    from app.keystore import get_or_create_secret

    return get_or_create_secret(RECORD_KEY)


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _signature(body: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()


def write_record(folder: Path, record: DownloadRecord) -> Path:
    body = {"schema": SCHEMA, **asdict(record)}
    signed = {**body, "hmac": _signature(body, _key())}
    path = folder / RECORD_NAME
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(signed, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def has_record(folder: Path) -> bool:
    return (folder / RECORD_NAME).is_file()


def read_record(folder: Path) -> DownloadRecord:
    """The verified record of the model in `folder`; raises RecordError."""
    path = folder / RECORD_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise RecordError(f"{path} is missing") from err
    except (OSError, ValueError) as err:
        raise RecordError(f"{path} cannot be read ({err})") from err
    if not isinstance(raw, dict) or not isinstance(raw.get("hmac"), str):
        raise RecordError(f"{path} is not a Candor download record")
    body = {k: v for k, v in raw.items() if k != "hmac"}
    from app.keystore import SecretUnavailable, get_secret

    try:
        key = get_secret(RECORD_KEY)
    except SecretUnavailable as err:
        raise RecordError(f"the key that signed {path} is unavailable ({err})") from err
    if key is None:
        raise RecordError(f"the key that signed {path} is gone, so the record cannot be trusted")
    if not hmac.compare_digest(_signature(body, key), raw["hmac"]):
        raise RecordError(f"{path} was changed after the download (its signature does not match)")
    try:
        files = tuple(RecordedFile(**f) for f in body["files"])
        return DownloadRecord(name=body["name"], repo=body["repo"], revision=body["revision"],
                              endpoint=body["endpoint"], downloaded_at=body["downloaded_at"],
                              files=files)
    except (KeyError, TypeError) as err:
        raise RecordError(f"{path} lacks {err}") from err
