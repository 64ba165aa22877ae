"""Encryption at rest: AES-256-GCM with one key per meeting, wrapped by a master key.

Every sealed value is `version byte || 96-bit random nonce || ciphertext+tag`. The associated
data names the meeting, the field and (for segments) the position, so a ciphertext copied to
another row, column or meeting fails authentication instead of showing the wrong text. Version 2
values also bind who spoke (a segment's source): relabelling the others' words as "You" in the
database makes them fail authentication too. Version 1 values (stored before the source existed
or was bound) still open; their source column stays unauthenticated.
Deleting a meeting's wrapped key makes its ciphertext unrecoverable (crypto-shredding).
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER_KEY_NAME = "storage-master-key"
ALGORITHM = "AES-256-GCM"
KEY_BYTES = 32
NONCE_BYTES = 12
_VERSION = b"\x01"
_VERSION_BOUND = b"\x02"  # the associated data also names the segment's source
_CONTEXT = b"candor-storage-v1"


class DecryptionFailed(Exception):
    """A value failed authentication: wrong key, or the database was altered outside Candor."""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _associated_data(meeting_id: str, field: str, index: int | None,
                     source: str | None = None) -> bytes:
    position = "" if index is None else str(index)
    parts = [_CONTEXT, meeting_id.encode(), field.encode(), position.encode()]
    if source is not None:
        parts.append(b"source=" + source.encode())
    return b"\x00".join(parts)


def _seal(key: bytes, plaintext: bytes, ad: bytes, version: bytes = _VERSION) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return version + nonce + AESGCM(key).encrypt(nonce, plaintext, ad)


def _open(key: bytes, blob: bytes, ad: bytes | tuple[bytes, bytes], what: str) -> bytes:
    """`ad` is the associated data, or (version 1's, version 2's) for a value that may be either."""
    versions = (_VERSION, _VERSION_BOUND) if isinstance(ad, tuple) else (_VERSION,)
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] not in versions:
        raise DecryptionFailed(f"{what} is not a value Candor sealed (bad header or length)")
    if isinstance(ad, tuple):
        # The version byte cannot be downgraded: a version 2 ciphertext does not authenticate
        # under version 1's associated data.
        ad = ad[1] if blob[:1] == _VERSION_BOUND else ad[0]
    nonce = blob[1 : 1 + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, blob[1 + NONCE_BYTES :], ad)
    except InvalidTag as err:
        raise DecryptionFailed(
            f"{what} failed authentication: the key is wrong or the database was changed "
            "outside Candor"
        ) from err


def wrap_key(master: bytes, meeting_id: str, key: bytes) -> bytes:
    return _seal(master, key, _associated_data(meeting_id, "meeting-key", None))


def unwrap_key(master: bytes, meeting_id: str, wrapped: bytes) -> bytes:
    return _open(
        master, wrapped, _associated_data(meeting_id, "meeting-key", None),
        f"the key of meeting {meeting_id}",
    )


def seal_text(key: bytes, meeting_id: str, field: str, index: int | None, text: str) -> bytes:
    return _seal(key, text.encode("utf-8"), _associated_data(meeting_id, field, index))


def open_text(key: bytes, meeting_id: str, field: str, index: int | None, blob: bytes) -> str:
    where = field if index is None else f"{field} {index}"
    data = _open(key, blob, _associated_data(meeting_id, field, index),
                 f"the {where} of meeting {meeting_id}")
    return data.decode("utf-8")


def seal_spoken(key: bytes, meeting_id: str, field: str, index: int, source: str | None,
                text: str) -> bytes:
    """A segment's text, bound to who spoke it as well as to its place (version 2)."""
    return _seal(key, text.encode("utf-8"),
                 _associated_data(meeting_id, field, index, source or ""), _VERSION_BOUND)


def open_spoken(key: bytes, meeting_id: str, field: str, index: int, source: str | None,
                blob: bytes) -> str:
    """A segment's text sealed by `seal_spoken`, or by `seal_text` before sources were bound."""
    ads = (_associated_data(meeting_id, field, index),
           _associated_data(meeting_id, field, index, source or ""))
    data = _open(key, blob, ads, f"the {field} {index} of meeting {meeting_id}")
    return data.decode("utf-8")
