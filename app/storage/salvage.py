"""Read back what is still readable from a damaged meeting database into the new one.

One damaged page used to make every meeting vanish from view until the user found a recovery
tool. SQLite's own `.recover` needs a build with the dbpage virtual table, which Debian's
sqlite3 shell and Python's sqlite3 module both lack, so this reads the tables through the b-trees
that still work: each table is scanned from its first key forwards and from its last key
backwards until the damage stops the scan, and the keys between the two ends are then tried one by
one (per meeting for segments), so a damaged leaf costs only the rows on it.

What is copied obeys the consent model: a meeting comes back only with its key and its
`transcript_storage` consent link (without the link, withdrawing that permission with deletion
could not find it), a vocabulary term only with its consent link. Ciphertext is copied as it is:
a damaged value fails authentication when read, and shows as a damaged segment, never as other
text. The set-aside file itself is not changed (the salvage reads a private copy of it).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.storage.schema import LATEST_VERSION

log = logging.getLogger(__name__)

SIDE_FILES = ("-wal", "-shm")
_PROBE_LIMIT = 100_000  # keys tried one by one between the two ends of one damaged table


@dataclass(frozen=True)
class Salvage:
    meetings: int = 0
    segments: int = 0
    terms: int = 0
    skipped_meetings: int = 0  # read, but without their key or consent link: left set aside
    reason: str = ""  # why nothing could be read back, when nothing could

    @property
    def summary(self) -> str:
        if not (self.meetings or self.terms):
            if self.skipped_meetings:
                return (f"None of its {self.skipped_meetings} meeting(s) could be read back: "
                        "their keys or consent records were on the damaged part.")
            why = f" ({self.reason})" if self.reason else ""
            return f"Nothing could be read back from it{why}."
        parts = [f"{self.meetings} meeting(s) with {self.segments} segment(s)"]
        if self.terms:
            parts.append(f"{self.terms} vocabulary term(s)")
        text = " and ".join(parts) + " were read back from it into the new database"
        if self.skipped_meetings:
            text += (f"; {self.skipped_meetings} meeting(s) whose key or consent record was "
                     "damaged stay only in the set-aside file")
        return text + "."


def salvage_into(damaged: Path, conn: sqlite3.Connection) -> Salvage:
    """Copy what can be read from the set-aside database `damaged` into `conn` (migrated, empty).

    Never raises for damage: a database nothing can be read from gives an empty Salvage."""
    version = _header_version(damaged)
    if version != LATEST_VERSION:
        # Rows of another schema version would need that version's migrations, which cannot run
        # on a damaged file; the whole file stays set aside instead.
        return Salvage(reason="it was written by another version of Candor" if version
                       else "its header is unreadable")
    with tempfile.TemporaryDirectory(prefix=".salvage-", dir=damaged.parent) as work:
        copy = Path(work) / "copy.db"
        for suffix in ("", *SIDE_FILES):
            source = damaged.with_name(damaged.name + suffix)
            if source.exists():
                shutil.copyfile(source, copy.with_name(copy.name + suffix))
        try:
            old = sqlite3.connect(str(copy), isolation_level=None)
        except sqlite3.DatabaseError as err:
            return Salvage(reason=str(err))
        try:
            return _copy(old, conn)
        except sqlite3.DatabaseError as err:  # e.g. the schema page itself is damaged
            log.warning("salvage stopped: %s", err)
            return Salvage(reason=str(err))
        finally:
            old.close()


def _header_version(path: Path) -> int:
    """PRAGMA user_version straight from the file header (bytes 60-63): readable when pages
    are not."""
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError:
        return 0
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return 0
    return int.from_bytes(header[60:64], "big")


def _copy(old: sqlite3.Connection, new: sqlite3.Connection) -> Salvage:
    meetings = {r[0]: r for r in _rows(old, "meetings", ("rowid",))}
    keys = {r[0]: r for r in _rows(old, "meeting_keys", ("rowid",))}
    links = list(_rows(old, "meeting_consent", ("meeting_id", "purpose", "record_id")))
    stored_under = {r[0] for r in links if r[1] == "transcript_storage"}
    kept = [str(m) for m in meetings if m in keys and m in stored_under]
    segments = 0
    new.execute("BEGIN IMMEDIATE")
    try:
        for mid in kept:
            _insert(new, "meetings", _columns(old, "meetings"), meetings[mid])
            _insert(new, "meeting_keys", _columns(old, "meeting_keys"), keys[mid])
        wanted = set(kept)
        for link in links:
            if link[0] in wanted:
                _insert(new, "meeting_consent", _columns(old, "meeting_consent"), link)
        seg_columns = _columns(old, "segments")
        for mid in kept:
            for row in _rows(old, "segments", ("meeting_id", "seq"), within=mid):
                _insert(new, "segments", seg_columns, row)
                segments += 1
        terms = _copy_vocabulary(old, new)
        new.execute("COMMIT")
    except BaseException:
        if new.in_transaction:
            new.execute("ROLLBACK")
        raise
    result = Salvage(meetings=len(kept), segments=segments, terms=terms,
                     skipped_meetings=len(meetings) - len(kept))
    log.warning("salvaged from a damaged database: %d meeting(s), %d segment(s), %d term(s); "
                "%d meeting(s) left set aside", result.meetings, result.segments, result.terms,
                result.skipped_meetings)
    return result


def _copy_vocabulary(old: sqlite3.Connection, new: sqlite3.Connection) -> int:
    key = list(_rows(old, "vocabulary_key", ("rowid",)))
    if not key:
        return 0  # the terms are sealed with this key: without it they are unreadable anyway
    _insert(new, "vocabulary_key", _columns(old, "vocabulary_key"), key[0])
    links = list(_rows(old, "vocabulary_consent", ("term_id", "record_id")))
    linked = {r[0] for r in links}
    columns = _columns(old, "vocabulary_terms")
    terms = 0
    for row in _rows(old, "vocabulary_terms", ("rowid",)):
        if row[0] in linked:
            _insert(new, "vocabulary_terms", columns, row)
            terms += 1
    for link in links:
        with contextlib.suppress(sqlite3.IntegrityError):  # its term was not readable
            _insert(new, "vocabulary_consent", _columns(old, "vocabulary_consent"), link)
    return terms


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _insert(conn: sqlite3.Connection, table: str, columns: Sequence[str],
            row: Sequence[object]) -> None:
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    conn.execute(f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({marks})", tuple(row))


def _rows(conn: sqlite3.Connection, table: str, key: Sequence[str],
          within: str | None = None) -> Iterator[tuple[object, ...]]:
    """Every readable row of `table` (its columns, in order), each once. `key` is the order of
    the table's own b-tree: ("rowid",) for an ordinary table (scanning it by its declared TEXT
    key would go through an index, which may be the damaged part), the primary key of a WITHOUT
    ROWID one. `within`: only the rows whose first key column equals it (a meeting's segments)."""
    columns = _columns(conn, table)
    selected = ", ".join([*(k for k in key if k not in columns), *columns])
    names = selected.split(", ")
    positions = [names.index(k) for k in key]
    strip = len(names) - len(columns)
    where, args = (f"WHERE {key[0]} = ?", (within,)) if within is not None else ("", ())
    base = f"SELECT {selected} FROM {table} {where}"
    seen: dict[tuple[object, ...], tuple[object, ...]] = {}

    def scan(sql: str) -> bool:
        try:
            for row in conn.execute(sql, args):
                seen[tuple(row[p] for p in positions)] = tuple(row)
        except sqlite3.DatabaseError:
            return False
        return True

    if not scan(f"{base} ORDER BY {', '.join(key)}"):
        scan(f"{base} ORDER BY {', '.join(f'{k} DESC' for k in key)}")
        _probe_between(conn, base, key, positions, within, seen)
    for k in sorted(seen, key=_sortable):
        yield seen[k][strip:]


def _probe_between(conn: sqlite3.Connection, base: str, key: Sequence[str],
                   positions: Sequence[int], within: str | None,
                   seen: dict[tuple[object, ...], tuple[object, ...]]) -> None:
    """Integer keys between the rows found from both ends, tried one lookup each: a lookup
    descends from the root, so rows on other leaves than the damaged one are still found.
    Only a rowid, or the integer second key within one value of the first (a meeting's seq)."""
    if len(key) != (1 if within is None else 2):
        return
    found = [k[-1] for k in seen if isinstance(k[-1], int)]
    if not found or max(found) - min(found) > _PROBE_LIMIT:
        return
    prefix = (within,) if within is not None else ()
    clause = ("WHERE " if within is None else " AND ") + f"{key[-1]} = ?"
    for value in range(min(found), max(found) + 1):
        if (*prefix, value) in seen:
            continue
        try:
            row = conn.execute(base + clause, (*prefix, value)).fetchone()
        except sqlite3.DatabaseError:
            continue
        if row is not None:
            seen[tuple(row[p] for p in positions)] = tuple(row)


def _sortable(key: tuple[object, ...]) -> tuple[str, ...]:
    return tuple(f"{v:020d}" if isinstance(v, int) else str(v) for v in key)
