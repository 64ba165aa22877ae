"""Opening `candor.db`: pragmas, integrity check, setting a corrupt file aside, migrations.

Pragmas: WAL (readers never block the writer), synchronous=FULL (a committed segment survives
power loss, not only a killed process), secure_delete (deleted rows are overwritten with zeros),
temp_store=MEMORY (sorts and temp tables never touch disk), foreign keys, and a busy timeout so
a second reader waits instead of failing with "database is locked".
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.storage.instance_lock import InstanceLock, read_holder
from app.storage.schema import migrate

log = logging.getLogger(__name__)

DB_NAME = "candor.db"
SIDE_FILES = ("-wal", "-shm")
BUSY_TIMEOUT_S = 10.0
CORRUPT_SUFFIX = ".corrupt-"


class StorageError(Exception):
    """A storage problem the user can act on; the message says what to do."""


class DatabaseCorrupt(StorageError):
    """The database is damaged and could not be set aside now (another instance is running)."""


class StoreBusy(StorageError):
    """Another process kept the database busy longer than the timeout."""


@dataclass(frozen=True)
class Recovery:
    """A damaged database was moved aside and a fresh one started: the user must be told."""

    moved: list[Path] = field(default_factory=list)
    reason: str = ""

    @property
    def message(self) -> str:
        main = self.moved[0] if self.moved else "(nothing)"
        return (
            f"The meeting database was damaged ({self.reason}). It was moved aside to {main} "
            "and a new, empty one was started. Nothing was deleted: the old file is still "
            "there, and still encrypted with your key, for recovery or for `candor data erase`."
        )


def _is_corruption(err: sqlite3.DatabaseError) -> bool:
    code = getattr(err, "sqlite_errorcode", None)
    if code is None:
        text = str(err)
        return "not a database" in text or "malformed" in text
    return (code & 0xFF) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def is_busy(err: sqlite3.Error) -> bool:
    code = getattr(err, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(err) or "busy" in str(err)
    return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def busy_error(what: str) -> StoreBusy:
    return StoreBusy(
        f"{what}: the meeting database stayed busy for {BUSY_TIMEOUT_S:.0f} s (another Candor "
        "process is writing). Try again in a moment."
    )


def _create_private(path: Path) -> None:
    # SQLite creates files with the umask's mode (often 0644) and gives the WAL and SHM files
    # the database file's mode: creating it 0600 first keeps all three private.
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def connect(path: Path | str) -> sqlite3.Connection:
    if str(path) != ":memory:":
        _create_private(Path(path))
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT), so each
    # segment insert is exactly one transaction and nothing waits in an implicit one.
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    if str(path) != ":memory:":
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StorageError(f"could not switch {path} to WAL journaling (got {mode!r})")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def integrity_problem(conn: sqlite3.Connection) -> str | None:
    rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
    if rows == ["ok"]:
        return None
    return "; ".join(str(r) for r in rows[:3])


def _utc_stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def set_aside(db_path: Path, reason: str, now: datetime | None = None) -> Recovery:
    """Rename the database and its WAL/SHM to `candor.db.corrupt-<UTC stamp>[-wal|-shm]`."""
    stamp = _utc_stamp(now)
    target = db_path.with_name(f"{db_path.name}{CORRUPT_SUFFIX}{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = db_path.with_name(f"{db_path.name}{CORRUPT_SUFFIX}{stamp}.{n}")
    moved = []
    for suffix in ("", *SIDE_FILES):
        source = db_path.with_name(db_path.name + suffix)
        if source.exists():
            dest = target.with_name(target.name + suffix)
            source.rename(dest)
            moved.append(dest)
    log.warning("database was damaged (%s); moved aside to %s", reason, target)
    return Recovery(moved=moved, reason=reason)


def set_aside_files(home: Path) -> list[Path]:
    return sorted(p for p in home.glob(f"{DB_NAME}{CORRUPT_SUFFIX}*") if p.is_file())


def _try_open(path: Path) -> tuple[sqlite3.Connection | None, str | None]:
    """A checked connection, or the reason the file is damaged."""
    conn = None
    try:
        conn = connect(path)
        problem = integrity_problem(conn)
    except sqlite3.DatabaseError as err:
        if conn is not None:
            conn.close()
        if is_busy(err):
            raise busy_error("opening the meeting database") from err
        if not _is_corruption(err):
            raise
        return None, str(err)
    if problem is not None:
        conn.close()
        return None, problem
    return conn, None


def open_database(
    home: Path, *, lock: InstanceLock | None = None, create: bool = True
) -> tuple[sqlite3.Connection, Recovery | None]:
    """Open (creating if needed) and migrate the database in `home`.

    A damaged file is set aside only by a process that holds the instance lock (the caller's, or
    one taken for the moment): renaming a file another running Candor has open would lose its
    writes. With `create=False` a missing database opens as an empty in-memory one, so read-only
    commands on a fresh profile leave nothing behind.
    """
    path = home / DB_NAME
    if not create and not path.exists():
        memory = connect(":memory:")
        migrate(memory)
        return memory, None
    conn, problem = _try_open(path)
    recovery = None
    if conn is None:
        assert problem is not None
        temporary = None
        if lock is None or not lock.held:
            temporary = InstanceLock("a database repair", home)
            if not temporary.try_acquire():
                holder = read_holder(temporary.path) or {}
                raise DatabaseCorrupt(
                    f"the meeting database {path} is damaged ({problem}). It will be moved aside "
                    f"when Candor starts next; the running Candor "
                    f"(process {holder.get('pid', '?')}) must be closed first."
                )
        try:
            recovery = set_aside(path, problem)
            conn, problem = _try_open(path)
            if conn is None:
                raise StorageError(f"a new database at {path} could not be created: {problem}")
        finally:
            if temporary is not None:
                temporary.release()
    migrate(conn)
    return conn, recovery


def checkpoint(conn: sqlite3.Connection) -> bool:
    """Copy the WAL into the database and truncate it, so deleted rows' old page images do not
    stay in the WAL file. False if a reader kept it from completing (it is retried later)."""
    try:
        busy, _log_frames, _checkpointed = conn.execute(
            "PRAGMA wal_checkpoint(TRUNCATE)"
        ).fetchone()
    except sqlite3.OperationalError as err:
        if is_busy(err):
            return False
        raise
    return busy == 0
