"""The database schema and its migrations.

`PRAGMA user_version` holds the schema version. MIGRATIONS[n] takes a database at version n to
n+1; all pending migrations run in one IMMEDIATE transaction, so a crash mid-upgrade leaves the
old version intact and two processes never migrate at once. Never edit a released migration:
add a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


class SchemaTooNew(Exception):
    """The database was written by a newer Candor; it is left untouched."""


def _to_v1(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE meetings (
            id TEXT PRIMARY KEY,
            title BLOB NOT NULL,
            started TEXT NOT NULL,
            ended TEXT,
            device TEXT,
            model TEXT,
            language TEXT,
            source TEXT NOT NULL CHECK (source IN ('window', 'listen', 'file')),
            storage_record_id TEXT NOT NULL,
            transcription_record_id TEXT
        )"""
    )
    conn.execute(
        """CREATE TABLE meeting_keys (
            meeting_id TEXT PRIMARY KEY REFERENCES meetings(id) ON DELETE CASCADE,
            wrapped BLOB NOT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE segments (
            meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            start REAL NOT NULL,
            end REAL NOT NULL,
            text BLOB NOT NULL,
            PRIMARY KEY (meeting_id, seq)
        ) WITHOUT ROWID"""
    )


def _to_v2(conn: sqlite3.Connection) -> None:
    # Consent links move to their own table so any purpose's record (recording_storage next) can
    # be linked, and "delete what record R produced" is one indexed lookup. `interrupted` marks
    # meetings whose process died before they ended.
    conn.execute(
        """CREATE TABLE meeting_consent (
            meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
            purpose TEXT NOT NULL,
            record_id TEXT NOT NULL,
            PRIMARY KEY (meeting_id, purpose, record_id)
        ) WITHOUT ROWID"""
    )
    conn.execute("CREATE INDEX meeting_consent_by_record ON meeting_consent(record_id)")
    conn.execute(
        "INSERT INTO meeting_consent SELECT id, 'transcript_storage', storage_record_id "
        "FROM meetings"
    )
    conn.execute(
        "INSERT INTO meeting_consent SELECT id, 'transcription', transcription_record_id "
        "FROM meetings WHERE transcription_record_id IS NOT NULL"
    )
    conn.execute("ALTER TABLE meetings DROP COLUMN storage_record_id")
    conn.execute("ALTER TABLE meetings DROP COLUMN transcription_record_id")
    conn.execute("ALTER TABLE meetings ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0")
    conn.execute("CREATE INDEX meetings_by_started ON meetings(started)")


def _corrections_and_vocabulary(conn: sqlite3.Connection) -> None:
    # Corrections (issue 12): `text` stays the text shown and exported (the corrected one);
    # `heard` keeps what the recogniser wrote, sealed like `text`, once a segment is corrected
    # (NULL: never corrected), so "show what was heard" and restoring it work.
    conn.execute("ALTER TABLE segments ADD COLUMN heard BLOB")
    conn.execute("ALTER TABLE segments ADD COLUMN corrected TEXT")
    # The learned vocabulary: an aggregated term list, each term sealed with the vocabulary's
    # own key (wrapped by the master key); counts, dates and origin in the clear, and no link
    # to any meeting. `vocabulary_consent` names the consent records a term was learned or
    # added under, so withdraw-and-delete is exact.
    conn.execute(
        """CREATE TABLE vocabulary_key (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            wrapped BLOB NOT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE vocabulary_terms (
            id TEXT PRIMARY KEY,
            term BLOB NOT NULL,
            origin TEXT NOT NULL CHECK (origin IN ('corrected', 'added')),
            times_corrected INTEGER NOT NULL DEFAULT 0,
            first_learned TEXT NOT NULL,
            last_learned TEXT NOT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE vocabulary_consent (
            term_id TEXT NOT NULL REFERENCES vocabulary_terms(id) ON DELETE CASCADE,
            record_id TEXT NOT NULL,
            PRIMARY KEY (term_id, record_id)
        ) WITHOUT ROWID"""
    )
    conn.execute("CREATE INDEX vocabulary_consent_by_record ON vocabulary_consent(record_id)")


def _meeting_owner(conn: sqlite3.Connection) -> None:
    # The process recording a meeting (app/storage/process_identity.py): only a meeting whose
    # owner is gone was interrupted by a crash; a second Candor must not close a live one.
    # Meetings from before this version have no owner and count as gone.
    conn.execute("ALTER TABLE meetings ADD COLUMN owner_pid INTEGER")
    conn.execute("ALTER TABLE meetings ADD COLUMN owner_start TEXT")


def _segment_source(conn: sqlite3.Connection) -> None:
    # Who spoke (issue 11): "microphone" (the user, "You") or "system" (what the computer
    # played: the other participants). NULL for a file's transcript and for meetings from before
    # this version, which only ever had the microphone.
    conn.execute(
        "ALTER TABLE segments ADD COLUMN source TEXT "
        "CHECK (source IS NULL OR source IN ('microphone', 'system'))"
    )


def _speaker_labels(conn: sqlite3.Connection) -> None:
    # The meeting's names for its speakers (issue 11: "You" and "Others", renameable per
    # meeting), sealed with the meeting's key like the title since a label can be a person's
    # name. JSON of the renamed sources only; NULL: both are their defaults.
    conn.execute("ALTER TABLE meetings ADD COLUMN labels BLOB")


def _vocabulary_kind(conn: sqlite3.Connection) -> None:
    # Issue 14 §1: the user says whether a term is a person's name ("name": always redacted) or
    # not ("term": never taken for a name). NULL: not said, and redaction guesses as before
    # (app/privacy/names.py is_person_name), so upgraded vocabularies behave as they did.
    conn.execute(
        "ALTER TABLE vocabulary_terms ADD COLUMN kind TEXT "
        "CHECK (kind IS NULL OR kind IN ('name', 'term'))"
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _to_v1,
    _to_v2,
    _corrections_and_vocabulary,
    _meeting_owner,
    _segment_source,
    _speaker_labels,
    _vocabulary_kind,
)
LATEST_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> tuple[int, int]:
    """Bring the schema to `target`; returns (version before, version after)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        before = schema_version(conn)
        if before > LATEST_VERSION:
            raise SchemaTooNew(
                f"this data was written by a newer version of Candor (schema {before}; this "
                f"version knows up to {LATEST_VERSION}). Install the newer Candor to read it; "
                "nothing was changed."
            )
        for version in range(before, target):
            MIGRATIONS[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        conn.execute("COMMIT")
    except BaseException:
        # SQLite may have rolled back already (a full disk does): a second ROLLBACK would raise
        # "cannot rollback - no transaction is active" and hide the real error.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return before, max(before, target)
