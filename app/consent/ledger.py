"""The append-only consent ledger: SQLite, hash-chained, each record keyed with an HMAC.

Each record carries the previous record's hash, and its own hash is an HMAC-SHA256 (key kept
outside the database, see `app.keystore`) over all its fields. A record changed, removed, reordered
or inserted — even with plain hashes recomputed — breaks the chain at that record. A signed head
file (last sequence number and hash) also catches records cut off the end, and the anchor kept
with the key (`app/consent/anchor.py`) catches a ledger rolled back, emptied or re-signed by
someone who holds the key.

Field names follow ISO/IEC TS 27560 where it has one (record_id, event_time, state, type,
collection_method); no personal content (never transcript text) is stored here.

The ledger runs in SQLite's rollback-journal mode on purpose: a reader's SHARED lock then holds
off another process's commit, which is what lets the gate guarantee that nothing is emitted after
a withdrawal was recorded, even when the withdrawal comes from another process.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

from app import __version__
from app.consent import ledger_lock
from app.consent.anchor import (
    Anchor,
    advance_anchor,
    compare_with_anchor,
    delete_anchor,
    open_anchor,
)
from app.consent.errors import LedgerError
from app.keystore import (
    SecretUnavailable,
    delete_secret,
    get_or_create_secret,
    get_secret,
    secret_location,
)
from app.passphrase import PassphraseError
from app.private_files import create_private, write_private

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
KEY_NAME = "consent-ledger"  # the HMAC key, kept outside the ledger by app.keystore
GENESIS_HASH = "0" * 64
# What a record says happened; TS 27560's "state" of a consent record.
RecordState = Literal[
    "given",
    "withdrawn",
    "reconsent_needed",
    "expired",
    "data_erased",
    "ledger_replaced",  # `consent new-ledger`: the old one was kept as evidence, this one began
    # Notes: events about a purpose that do not change whether it is given.
    "reviewed",  # the user looked at a given permission again and kept it
    "participants_informed",  # system_audio: the user confirmed the others were told
    "participant_objected",  # system_audio: someone objected; the others' captions were deleted
]
STATES: tuple[RecordState, ...] = get_args(RecordState)
NOTE_STATES: frozenset[RecordState] = frozenset(
    {"reviewed", "participants_informed", "participant_objected"}
)
ALL_PURPOSES = "*"  # purpose of a data_erased record

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (
    seq INTEGER PRIMARY KEY,
    record_id TEXT NOT NULL UNIQUE,
    event_time TEXT NOT NULL,
    purpose TEXT NOT NULL,
    state TEXT NOT NULL,
    type TEXT NOT NULL,
    notice_version INTEGER,
    notice_sha256 TEXT,
    collection_method TEXT NOT NULL,
    app_version TEXT NOT NULL,
    delete_data_requested INTEGER,
    prev_hash TEXT NOT NULL,
    record_hash TEXT NOT NULL
);
CREATE TRIGGER records_no_update BEFORE UPDATE ON records
    BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
    BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;
"""

_COLUMNS = (
    "seq, record_id, event_time, purpose, state, type, notice_version, notice_sha256, "
    "collection_method, app_version, delete_data_requested, prev_hash, record_hash"
)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class LedgerRecord:
    seq: int
    record_id: str
    event_time: str
    purpose: str
    state: str
    type: str  # "explicit": the user's own act; "system": Candor recorded a change of state
    notice_version: int | None
    notice_sha256: str | None
    collection_method: str  # cli | dialog | panel | meeting_toolbar | file_transcription |
    #                         first_run | system | test
    app_version: str
    delete_data_requested: bool | None
    prev_hash: str
    record_hash: str

    def signed_payload(self) -> bytes:
        fields = asdict(self)
        del fields["record_hash"]
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_row(cls, row: tuple) -> LedgerRecord:
        (seq, rid, when, purpose, state, kind, nver, nsha, method, appv, delete, prev, rhash) = row
        return cls(
            seq=seq,
            record_id=rid,
            event_time=when,
            purpose=purpose,
            state=state,
            type=kind,
            notice_version=nver,
            notice_sha256=nsha,
            collection_method=method,
            app_version=appv,
            delete_data_requested=None if delete is None else bool(delete),
            prev_hash=prev,
            record_hash=rhash,
        )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    head_hash: str
    reason: str = ""
    first_bad_seq: int | None = None
    first_bad_record_id: str | None = None
    key_location: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"intact: {self.checked} records verified; head hash {self.head_hash}"
        where = ""
        if self.first_bad_seq is not None:
            where = f" at record #{self.first_bad_seq}"
            if self.first_bad_record_id:
                where += f" ({self.first_bad_record_id})"
        return f"NOT intact{where}: {self.reason}"


def _mac(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


class Ledger:
    """One consent ledger file. Thread-safe; every method takes the same re-entrant lock."""

    def __init__(self, path: Path, head_path: Path, *, starting_anew: bool = False) -> None:
        """`starting_anew`: the caller moved the old ledger away on purpose (new-ledger, erase);
        the anchor then follows this ledger instead of reporting the old one missing."""
        self.path = path
        self.head_path = head_path
        self.home = path.parent
        self.lock = threading.RLock()
        self._read_depth = 0
        with ledger_lock.opening(self.home):
            self._open(starting_anew)

    def _open(self, starting_anew: bool) -> None:
        existed = self.path.exists()
        self._conn = self._connect(starting_anew)
        self._identity = self._file_identity()
        self.profile_id = self._meta("profile_id")
        self.key_problem = ""
        self.key: bytes | None = None
        try:
            self.key = get_secret(KEY_NAME, home=self.home)
        except SecretUnavailable as err:
            self.key_problem = str(err)
        key_created = False
        if self.key is None and not self.key_problem and self.tail_seq() == 0:
            self.key = get_or_create_secret(KEY_NAME, home=self.home)
            key_created = True
        self.anchor_problem = ""
        if self.key is not None:
            self.anchor_problem = self._open_anchor(existed, key_created, starting_anew)

    def _anchor_now(self) -> Anchor:
        row = self._conn.execute(
            "SELECT seq, record_hash FROM records ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        seq, rhash = (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)
        return Anchor(self.profile_id, seq, rhash)

    def _open_anchor(self, existed: bool, key_created: bool, starting_anew: bool) -> str:
        return open_anchor(
            self.home, self._anchor_now(), existed=existed, key_created=key_created,
            starting_anew=starting_anew, verifies=lambda: self.verify().ok,
        )

    def _compare_anchor(self, records: list[LedgerRecord]) -> str:
        return self.anchor_problem or compare_with_anchor(
            self.home, self.profile_id, [r.record_hash for r in records]
        )

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        return info.st_dev, info.st_ino

    def replaced(self) -> bool:
        """Whether the file at our path is no longer the one this connection has open: another
        process erased everything (a new ledger, or none yet) or started a new ledger. One
        stat, so it is cheap enough for every guard and every poll."""
        return self._identity is None or self._file_identity() != self._identity

    @property
    def key_location(self) -> str:
        location = secret_location(KEY_NAME, home=self.home)
        return location.describe() if location else ""

    # -- opening ---------------------------------------------------------------------------
    def _connect(self, starting_anew: bool) -> sqlite3.Connection:
        exists = self.path.exists()
        if exists and not os.access(self.path, os.R_OK | os.W_OK):
            raise LedgerError(
                f"the consent ledger {self.path} cannot be read or written (permissions); "
                "fix its permissions — Candor did not change it"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not exists:
            self._publish_new(generation=starting_anew)
        # mode=rw never creates or truncates a file: a new ledger only appears whole
        uri = f"file:{self.path}?mode=rw"
        try:
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 10000")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if not {"meta", "records"} <= tables:
                raise LedgerError(
                    f"{self.path} is not a Candor consent ledger (tables missing); it was "
                    "left untouched — move it away to start a new ledger"
                )
            conn.execute("SELECT count(*) FROM records").fetchone()
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as err:
            raise LedgerError(
                f"the consent ledger {self.path} is unreadable ({err}); it was left untouched. "
                "Move it away (keep it as evidence) and start Candor again for a new ledger"
            ) from err
        return conn

    def _publish_new(self, *, generation: bool) -> None:
        """Build a complete, empty ledger beside the path and publish it there, unless another
        process published one first (then that one is used). Created in place, a second Candor
        starting at the same moment found a ledger with tables but no profile yet, or created
        its tables again.

        A ledger that replaces another (`generation`: erase, new-ledger) is a file of its own
        name, and the path a symbolic link to it. SQLite names the journal after the link's
        target, so a Candor still holding the replaced ledger open never takes the new ledger's
        journal for its own hot journal: under one name it rolled it back and deleted it, and
        the new ledger's write failed ("disk I/O error")."""
        aside = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.new")
        create_private(aside)  # SQLite would create it with the umask's mode (often 0644)
        try:
            conn = sqlite3.connect(aside, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = DELETE")
                # no other process can see this file until it is published: no transaction
                conn.executescript(_SCHEMA)
                conn.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [
                        ("schema_version", str(SCHEMA_VERSION)),
                        ("profile_id", str(uuid.uuid4())),
                        ("created", utc_now()),
                    ],
                )
            finally:
                conn.close()
            if generation:
                own = self.path.with_name(
                    f"{self.path.stem}.{uuid.uuid4().hex[:12]}{self.path.suffix}")
                os.rename(aside, own)
                try:
                    os.symlink(own.name, self.path)
                except FileExistsError:
                    own.unlink()
            else:
                with contextlib.suppress(FileExistsError):
                    os.link(aside, self.path)
        finally:
            aside.unlink(missing_ok=True)
            Path(f"{aside}-journal").unlink(missing_ok=True)

    def files(self) -> list[Path]:
        """The ledger's files as they are now: the path, the file it links to, its journal."""
        real = self.path.resolve() if self.path.is_symlink() else self.path
        return list(dict.fromkeys([self.path, real, Path(f"{real}-journal")]))

    def _meta(self, key: str) -> str:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise LedgerError(f"the consent ledger {self.path} has no {key}; it looks damaged")
        return str(row[0])

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    # -- reading ---------------------------------------------------------------------------
    def tail_seq(self) -> int:
        with self.lock:
            row = self._conn.execute("SELECT max(seq) FROM records").fetchone()
        return int(row[0] or 0)

    def records(self, after_seq: int = 0) -> list[LedgerRecord]:
        with self.lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM records WHERE seq > ? ORDER BY seq", (after_seq,)
            ).fetchall()
        return [LedgerRecord.from_row(r) for r in rows]

    @contextlib.contextmanager
    def read_transaction(self) -> Iterator[None]:
        """Hold a SHARED lock: no other connection can commit until the block ends.

        Re-entrant on the holding thread, so one purpose's guard can run inside another's (a
        caption emitted under `transcription` is stored under `transcript_storage`)."""
        with self.lock:
            if self._read_depth:
                self._read_depth += 1
                try:
                    yield
                finally:
                    self._read_depth -= 1
                return
            self._read_depth = 1
            try:
                with self._outer_read_transaction():
                    yield
            finally:
                self._read_depth = 0

    @contextlib.contextmanager
    def _outer_read_transaction(self) -> Iterator[None]:
        with self.lock:
            if self.replaced():
                # Erased elsewhere: nothing here is worth holding, and a read through this
                # connection only risks the old file (a new ledger's journal has a name of its
                # own: `_publish_new`). The caller's refresh finds the replacement and refuses.
                yield
                return
            self._conn.execute("BEGIN")
            try:
                self._conn.execute("SELECT max(seq) FROM records").fetchone()
                yield
            finally:
                self._conn.execute("COMMIT")

    # -- verifying -------------------------------------------------------------------------
    def check_record(self, record: LedgerRecord, prev_hash: str, expected_seq: int) -> str:
        """Why this record breaks the chain, or "" when it is sound."""
        if self.key is None:
            return "the ledger key is missing"
        if record.seq != expected_seq:
            return f"expected record #{expected_seq} here, found #{record.seq} (records removed)"
        if record.prev_hash != prev_hash:
            return "it does not follow the record before it (changed, removed or reordered)"
        if not hmac.compare_digest(
            record.record_hash, _mac(self.key, record.signed_payload())
        ):
            return "its content does not match its keyed hash (changed or inserted)"
        if record.state not in STATES:
            return f"unknown state {record.state!r}"
        return ""

    def verify(self) -> VerifyResult:
        with self.lock:
            records = self.records()
            head = self._read_head()
        where = self.key_location
        if self.key is None:
            why = self.key_problem or (
                f"it is neither in the OS keyring nor in {self.home / 'keys'}"
            )
            return VerifyResult(
                ok=False,
                checked=0,
                head_hash="",
                reason=(
                    f"the ledger cannot be verified because its key is missing: {why}. "
                    "Without the key nobody can tell whether records were changed."
                ),
            )
        prev = GENESIS_HASH
        for index, record in enumerate(records, start=1):
            problem = self.check_record(record, prev, index)
            if problem:
                return VerifyResult(
                    False, index - 1, prev, problem, index, record.record_id, key_location=where
                )
            prev = record.record_hash
        count = len(records)
        if head is not None:
            head_seq, head_hash = head
            if head_seq > count:
                return VerifyResult(
                    False,
                    count,
                    prev,
                    f"records #{count + 1} to #{head_seq} were removed from the end",
                    count + 1,
                    key_location=where,
                )
            if records and records[head_seq - 1].record_hash != head_hash:
                return VerifyResult(
                    False,
                    count,
                    prev,
                    "the record the signed head points to was replaced",
                    head_seq,
                    key_location=where,
                )
        elif count:
            return VerifyResult(
                False,
                count,
                prev,
                "the signed head file is missing or forged",
                count,
                key_location=where,
            )
        problem = self._compare_anchor(records)
        if problem:
            return VerifyResult(False, count, prev, problem, key_location=where)
        return VerifyResult(True, count, prev, key_location=where)

    # -- the signed head ---------------------------------------------------------------------
    def _read_head(self) -> tuple[int, str] | None:
        try:
            data = json.loads(self.head_path.read_text())
            seq, rhash, mac = int(data["seq"]), str(data["record_hash"]), str(data["mac"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if self.key is None or not hmac.compare_digest(
            mac, _mac(self.key, f"{seq}:{rhash}".encode())
        ):
            return None
        return seq, rhash

    def _write_head(self, seq: int, record_hash: str) -> None:
        """Atomically and durably: a head file cut short by a power cut would read as "missing
        or forged" and lock the ledger; this leaves the old head or the new one."""
        assert self.key is not None
        payload = {
            "seq": seq,
            "record_hash": record_hash,
            "mac": _mac(self.key, f"{seq}:{record_hash}".encode()),
        }
        write_private(self.head_path, json.dumps(payload) + "\n")

    # -- appending -------------------------------------------------------------------------
    def append(
        self,
        *,
        purpose: str,
        state: RecordState,
        type: str,
        collection_method: str,
        notice_version: int | None = None,
        notice_sha256: str | None = None,
        delete_data_requested: bool | None = None,
    ) -> LedgerRecord:
        if state not in STATES:
            raise ValueError(f"unknown ledger state {state!r}")
        if self.key is None:
            raise LedgerError("the ledger key is missing; nothing can be recorded")
        with self.lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT seq, record_hash FROM records ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS_HASH)
                unsigned = LedgerRecord(
                    seq=seq,
                    record_id=str(uuid.uuid4()),
                    event_time=utc_now(),
                    purpose=purpose,
                    state=state,
                    type=type,
                    notice_version=notice_version,
                    notice_sha256=notice_sha256,
                    collection_method=collection_method,
                    app_version=__version__,
                    delete_data_requested=delete_data_requested,
                    prev_hash=prev,
                    record_hash="",
                )
                record = replace(unsigned, record_hash=_mac(self.key, unsigned.signed_payload()))
                self._conn.execute(
                    f"INSERT INTO records ({_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                    (
                        record.seq,
                        record.record_id,
                        record.event_time,
                        record.purpose,
                        record.state,
                        record.type,
                        record.notice_version,
                        record.notice_sha256,
                        record.collection_method,
                        record.app_version,
                        None if delete_data_requested is None else int(delete_data_requested),
                        record.prev_hash,
                        record.record_hash,
                    ),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            # After the commit: a crash here leaves the head one behind, which verify accepts.
            self._write_head(record.seq, record.record_hash)
            try:
                advance_anchor(self.home, Anchor(self.profile_id, record.seq, record.record_hash))
            except (SecretUnavailable, PassphraseError):
                # The record stands; an anchor one behind still catches anything cut before it.
                log.warning("the consent ledger's anchor could not be moved on", exc_info=True)
        return record

    @contextlib.contextmanager
    def replacing(self) -> Iterator[None]:
        """Delete the ledger's key, anchor, head and file (erase everything), and hold the old
        file's EXCLUSIVE lock until the block, which writes the new ledger, ends.

        The lock waits for every other process's guard (a SHARED lock) to end and holds off new
        ones until the new ledger is complete; they then find this one replaced (`replaced()`)
        and refuse. So nothing another process emits under this ledger can come after the
        erase, and none of them reads the old file while the new one is half written. The key
        goes before the file: a process that opens the path in between must not sign the new
        ledger with the key being deleted."""
        with ledger_lock.replacing(self.home), self.lock:
            # damaged, or locked beyond the busy timeout: erase all the same
            with contextlib.suppress(sqlite3.DatabaseError):
                self._conn.execute("BEGIN EXCLUSIVE")
            try:
                delete_secret(KEY_NAME, home=self.home)
                delete_anchor(self.home)
                for path in (*self.files(), self.head_path):
                    path.unlink(missing_ok=True)
                yield
            finally:
                self._conn.close()

    def destroy(self) -> None:
        """Erase the ledger (see `replacing`) with nothing to put in its place."""
        with self.replacing():
            pass
