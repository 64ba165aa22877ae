"""Opening `candor.db`: pragmas, integrity check, setting a corrupt file aside, migrations.

A full disk is never a traceback: `disk_full_as_error` turns SQLite's SQLITE_FULL (and the OS's
ENOSPC/EDQUOT) into `DiskFull`, a StorageError whose message starts "the disk is full" and names
the folder and what to do. SQLite rolls a transaction back by itself on SQLITE_FULL, so callers
roll back only while a transaction is still open (`rollback_if_open`).

A damaged database set aside stays announced (`set_aside_notice`, shown by every command and the
window) until the user acts on it (`candor data set-aside erase|keep`): `erase_set_aside`
removes it; `keep_set_aside` keeps it and marks it as seen by renaming it to
`candor.db.corrupt-<stamp>.kept` (the name still says what it is, so the report and
erase-everything still find it).

Pragmas: WAL (readers never block the writer), synchronous=FULL (a committed segment survives
power loss, not only a killed process), secure_delete (deleted rows are overwritten with zeros),
temp_store=MEMORY (sorts and temp tables never touch disk), foreign keys, and a busy timeout so
a second reader waits instead of failing with "database is locked".
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from app.storage.instance_lock import InstanceLock, read_holder
from app.storage.schema import migrate

log = logging.getLogger(__name__)

DB_NAME = "candor.db"
SIDE_FILES = ("-wal", "-shm")
BUSY_TIMEOUT_S = 10.0
CORRUPT_SUFFIX = ".corrupt-"
KEPT_SUFFIX = ".kept"  # a set-aside database the user chose to keep: no longer announced


class StorageError(Exception):
    """A storage problem the user can act on; the message says what to do."""


class DatabaseCorrupt(StorageError):
    """The database is damaged and could not be set aside now (another instance is running)."""


class StoreBusy(StorageError):
    """Another process kept the database busy longer than the timeout."""


class DiskFull(StorageError):
    """Nothing more can be written to the disk holding Candor's data."""

    def __init__(self, folder: Path, what: str) -> None:
        self.folder = folder
        self.what = what
        super().__init__(
            f"the disk is full: {what} failed because nothing more can be written to {folder}. "
            "Free some space on that disk, then try again; what was stored before is kept"
        )


_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(err: BaseException) -> bool:
    """SQLITE_FULL, SQLite failing to grow its shared-memory file, or ENOSPC/EDQUOT."""
    if isinstance(err, sqlite3.Error):
        code = getattr(err, "sqlite_errorcode", None)
        if code is None:
            return "database or disk is full" in str(err)
        # SQLITE_IOERR_SHMSIZE: the -shm file could not be grown (measured on a full tmpfs).
        return (code & 0xFF) == sqlite3.SQLITE_FULL or code == sqlite3.SQLITE_IOERR_SHMSIZE
    return isinstance(err, OSError) and err.errno in _FULL_ERRNOS


@contextlib.contextmanager
def disk_full_as_error(folder: Path, what: str) -> Iterator[None]:
    """Re-raise a full disk met inside the block as DiskFull(folder, what)."""
    try:
        yield
    except (sqlite3.Error, OSError) as err:
        if is_disk_full(err):
            log.info("the disk is full: %s failed in %s", what, folder)
            raise DiskFull(folder, what) from err
        raise


def rollback_if_open(conn: sqlite3.Connection) -> None:
    """Roll back the transaction still open, if any: after SQLITE_FULL (and a few other errors)
    SQLite has already rolled it back, and a second ROLLBACK would fail with "cannot rollback -
    no transaction is active", hiding the real error."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


@dataclass(frozen=True)
class Recovery:
    """A damaged database was moved aside and a fresh one started: the user must be told."""

    moved: list[Path] = field(default_factory=list)
    reason: str = ""
    salvaged: str = ""  # what was read back from it into the new database (Salvage.summary)

    @property
    def message(self) -> str:
        main = self.moved[0] if self.moved else "(nothing)"
        started = ("a new one was started" if self.salvaged and not
                   self.salvaged.startswith("Nothing") else "a new, empty one was started")
        return (
            f"The meeting database was damaged ({self.reason}). It was moved aside to {main} "
            f"and {started}. {self.salvaged + ' ' if self.salvaged else ''}Nothing was "
            "deleted: the old file is still "
            "there, and still encrypted with your key, for recovery. Until you act on it, "
            "Candor reminds you: `candor data set-aside erase --yes` removes it, "
            "`candor data set-aside keep` keeps it and stops the reminder."
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
        with disk_full_as_error(Path(path).parent, "creating the meeting database"):
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
    """Every file of every set-aside database (kept or not, with their WAL and SHM files)."""
    return sorted(p for p in home.glob(f"{DB_NAME}{CORRUPT_SUFFIX}*") if p.is_file())


def set_aside_databases(home: Path, *, kept: bool | None = None) -> list[Path]:
    """The set-aside databases themselves (not their side files); `kept=False` only those the
    user has not acted on yet, `kept=True` only those kept."""
    found = [p for p in set_aside_files(home) if not p.name.endswith(SIDE_FILES)]
    if kept is None:
        return found
    return [p for p in found if p.name.endswith(KEPT_SUFFIX) == kept]


def _with_side_files(database: Path) -> list[Path]:
    return [database.with_name(database.name + s) for s in ("", *SIDE_FILES)
            if database.with_name(database.name + s).exists()]


def set_aside_notice(home: Path) -> str | None:
    """What to tell the user about set-aside databases not acted on yet (None when none)."""
    waiting = set_aside_databases(home, kept=False)
    if not waiting:
        return None
    names = ", ".join(p.name for p in waiting)
    if len(waiting) == 1:
        what, it = "A damaged meeting database was", "it"
    else:
        what, it = f"{len(waiting)} damaged meeting databases were", "them"
    return (
        f"{what} set aside in {home} ({names}). Still encrypted with your key, it may hold "
        f"meetings you no longer see. `candor data set-aside erase --yes` removes {it}; "
        f"`candor data set-aside keep` keeps {it} and stops this reminder."
    )


def erase_set_aside(home: Path) -> list[Path]:
    """Remove every set-aside database (kept or not) and its side files; returns what went."""
    removed = []
    for path in set_aside_files(home):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    if removed:
        log.warning("erased %d file(s) of set-aside damaged databases", len(removed))
    return removed


def keep_set_aside(home: Path) -> list[Path]:
    """Mark every announced set-aside database as kept (renamed `<name>.kept`, with its side
    files): it stays on disk, in the report and for erase-everything, and is no longer
    announced. Returns the new paths of the databases."""
    kept = []
    for database in set_aside_databases(home, kept=False):
        target = database.with_name(database.name + KEPT_SUFFIX)
        for path in _with_side_files(database):
            suffix = path.name[len(database.name):]
            path.rename(target.with_name(target.name + suffix))
        kept.append(target)
    if kept:
        log.info("kept %d set-aside database(s); no longer announced", len(kept))
    return kept


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
    with disk_full_as_error(home, f"opening the meeting database {path}"):
        return _open_database(home, path, lock)


def _open_database(
    home: Path, path: Path, lock: InstanceLock | None
) -> tuple[sqlite3.Connection, Recovery | None]:
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
    try:
        migrate(conn)
        if recovery is not None and recovery.moved:
            from app.storage.salvage import salvage_into

            salvage = salvage_into(recovery.moved[0], conn)
            recovery = replace(recovery, salvaged=salvage.summary)
    except BaseException:
        conn.close()
        raise
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
