"""The meeting store: encrypted meetings and their segments in `candor.db`.

A meeting is written only under a recorded `transcript_storage` grant; each final segment is its
own transaction (a crash loses at most the caption in progress). Titles and segment text are
sealed with the meeting's own key (see crypto.py); only times, device, model, language, source and
consent record ids are stored in the clear. Search decrypts in memory.

A correction replaces a segment's text (what is shown, searched and exported) under
`transcript_storage` too, and keeps what the recogniser heard, sealed with the same key, until
the segment is restored to it.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app import keystore
from app.consent import Gate
from app.consent.purposes import TRANSCRIPT_STORAGE, TRANSCRIPTION
from app.segments import Labels, Segment, Source
from app.storage import crypto, process_identity, speaker_labels
from app.storage.database import (
    DB_NAME,
    SIDE_FILES,
    Recovery,
    busy_error,
    checkpoint,
    disk_full_as_error,
    is_busy,
    is_disk_full,
    rollback_if_open,
)
from app.storage.models import (
    DAMAGED_SEGMENT_TEXT,
    DataDamaged,
    KeyUnavailable,
    Meeting,
    MeetingGone,
    MeetingInProgress,
    MeetingSummary,
    SearchHit,
    SearchResult,
    SegmentCorrection,
    StoreStats,
    UnknownMeeting,
    UnknownSegment,
    from_iso,
    to_iso,
)
from app.storage.schema import schema_version
from app.storage.search_terms import Query, matching_lines

log = logging.getLogger(__name__)

SOURCES = ("window", "listen", "file")
MIN_PREFIX = 4
_TITLE = "title"
_TEXT = "segment"
_HEARD = "heard"
_LABELS = "labels"


class MeetingStore:
    """Thread-safe: the session's worker thread appends while the window reads."""

    def __init__(
        self, conn: sqlite3.Connection, home: Path, recovery: Recovery | None = None
    ) -> None:
        self._conn = conn
        self.home = home
        self.recovery = recovery
        self._lock = threading.RLock()
        self._active: dict[str, bytes] = {}  # meeting id -> key, for meetings being recorded
        self._master: bytes | None = None

    # -- keys -------------------------------------------------------------------------------

    @property
    def db_path(self) -> Path:
        return self.home / DB_NAME

    def _master_key(self, *, create: bool) -> bytes:
        if self._master is not None:
            return self._master
        key: bytes | None
        try:
            if create:
                with disk_full_as_error(self.home, "creating the storage key"):
                    key = keystore.get_or_create_secret(crypto.MASTER_KEY_NAME, home=self.home)
            else:
                key = keystore.get_secret(crypto.MASTER_KEY_NAME, home=self.home)
        except keystore.SecretUnavailable as err:
            raise KeyUnavailable(f"stored transcripts cannot be opened: {err}") from err
        if key is None:
            raise KeyUnavailable(
                "stored transcripts cannot be opened: their master key is missing (it was "
                "deleted or this data directory was copied without it). Without it they cannot "
                "be read; `candor meetings delete ID` or `candor data erase --yes` removes them."
            )
        self._master = key
        return key

    def _meeting_key(self, meeting_id: str) -> bytes:
        key = self._active.get(meeting_id)
        if key is not None:
            return key
        row = self._conn.execute(
            "SELECT wrapped FROM meeting_keys WHERE meeting_id = ?", (meeting_id,)
        ).fetchone()
        if row is None:
            raise DataDamaged(f"meeting {meeting_id} has no key; its text cannot be read")
        try:
            return crypto.unwrap_key(self._master_key(create=False), meeting_id, row[0])
        except crypto.DecryptionFailed as err:
            raise DataDamaged(str(err)) from err

    # -- transactions -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction; a full disk raises DiskFull (nothing of it is kept)."""
        with self._lock, disk_full_as_error(self.home, what):
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:
                if is_busy(err):
                    raise busy_error(what) from err
                raise
            try:
                yield self._conn
            except BaseException:
                rollback_if_open(self._conn)
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as err:
                rollback_if_open(self._conn)
                if is_busy(err):
                    raise busy_error(what) from err
                raise

    def transaction(self, what: str) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One IMMEDIATE write transaction on this store's connection, for the other owners of
        tables in `candor.db` (the vocabulary); `what` names the work in a busy error."""
        return self._write(what)

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, held against this store's other threads while the block runs."""
        with self._lock:
            yield self._conn

    def master_key(self, *, create: bool) -> bytes:
        """The storage master key (KeyUnavailable when it cannot be read)."""
        return self._master_key(create=create)

    # -- recording --------------------------------------------------------------------------

    def begin(
        self,
        gate: Gate,
        *,
        source: str,
        title: str | None = None,
        device: str | None = None,
        model: str | None = None,
        language: str | None = None,
        started: datetime | None = None,
        complete: Sequence[Segment] | None = None,
        ended: datetime | None = None,
    ) -> str:
        """Create a stored meeting; raises ConsentRequired (nothing written) without
        `transcript_storage`, DiskFull when the disk cannot take it. Returns the meeting id.

        With `complete` (a finished transcript, e.g. a transcribed file) the meeting, its
        segments and its end (`ended`, default now) are written in the same transaction: all of
        it is stored, or nothing."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
        gate.require(TRANSCRIPT_STORAGE)
        started = started or datetime.now(UTC)
        if title is None or not title.strip():
            title = "Meeting " + started.astimezone().strftime("%Y-%m-%d %H:%M")
        master = self._master_key(create=True)
        key = crypto.new_key()
        transcription_record = gate.record_id(TRANSCRIPTION)
        owner = process_identity.current()
        with gate.guard(TRANSCRIPT_STORAGE) as storage_record, self._write("starting a meeting"):
            meeting_id = self._new_id()
            self._conn.execute(
                "INSERT INTO meetings (id, title, started, device, model, language, source, "
                "owner_pid, owner_start) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    meeting_id,
                    crypto.seal_text(key, meeting_id, _TITLE, None, title),
                    to_iso(started),
                    device,
                    model,
                    language,
                    source,
                    owner.pid,
                    owner.start,
                ),
            )
            self._conn.execute(
                "INSERT INTO meeting_keys (meeting_id, wrapped) VALUES (?, ?)",
                (meeting_id, crypto.wrap_key(master, meeting_id, key)),
            )
            links = [(TRANSCRIPT_STORAGE, storage_record)]
            if transcription_record:
                links.append((TRANSCRIPTION, transcription_record))
            self._conn.executemany(
                "INSERT INTO meeting_consent (meeting_id, purpose, record_id) VALUES (?, ?, ?)",
                [(meeting_id, purpose, record) for purpose, record in links],
            )
            if complete is not None:
                self._conn.executemany(
                    "INSERT INTO segments (meeting_id, seq, start, end, text, source) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (meeting_id, seq, float(s.start), float(s.end),
                         crypto.seal_spoken(key, meeting_id, _TEXT, seq, s.source, s.text),
                         s.source)
                        for seq, s in enumerate(complete)
                    ],
                )
                self._conn.execute(
                    "UPDATE meetings SET ended = ? WHERE id = ?",
                    (to_iso(ended or datetime.now(UTC)), meeting_id),
                )
            else:
                self._active[meeting_id] = key
        log.info("meeting %s %s (source %s, consent record %s)", meeting_id,
                 "stored whole" if complete is not None else "started", source, storage_record)
        return meeting_id

    def _new_id(self) -> str:
        while True:
            candidate = secrets.token_hex(6)
            taken = self._conn.execute(
                "SELECT 1 FROM meetings WHERE id = ?", (candidate,)
            ).fetchone()
            if not taken:
                return candidate

    def _require_meeting(self, meeting_id: str) -> None:
        row = self._conn.execute("SELECT 1 FROM meetings WHERE id = ?", (meeting_id,)).fetchone()
        if row is None:
            self._active.pop(meeting_id, None)
            raise MeetingGone(f"meeting {meeting_id} no longer exists (it was deleted)")

    def append_final(self, meeting_id: str, segment: Segment, gate: Gate) -> int:
        """Store one final segment in its own transaction; returns its position."""
        with gate.guard(TRANSCRIPT_STORAGE), self._write("saving a caption"):
            self._require_meeting(meeting_id)
            key = self._meeting_key(meeting_id)
            seq = self._conn.execute(
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM segments WHERE meeting_id = ?",
                (meeting_id,),
            ).fetchone()[0]
            self._conn.execute(
                "INSERT INTO segments (meeting_id, seq, start, end, text, source) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (meeting_id, seq, float(segment.start), float(segment.end),
                 crypto.seal_spoken(key, meeting_id, _TEXT, seq, segment.source, segment.text),
                 segment.source),
            )
        return int(seq)

    def replace_segments(self, meeting_id: str, segments: Sequence[Segment], gate: Gate, *,
                         model: str | None = None) -> int:
        """Swap all stored segments for `segments` (the final whole-audio pass) atomically;
        `model`, when given, is the model that made them and becomes the meeting's."""
        with gate.guard(TRANSCRIPT_STORAGE), self._write("saving the final transcript"):
            self._require_meeting(meeting_id)
            key = self._meeting_key(meeting_id)
            if model is not None:
                self._conn.execute("UPDATE meetings SET model = ? WHERE id = ?",
                                   (model, meeting_id))
            self._conn.execute("DELETE FROM segments WHERE meeting_id = ?", (meeting_id,))
            self._conn.executemany(
                "INSERT INTO segments (meeting_id, seq, start, end, text, source) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (meeting_id, seq, float(s.start), float(s.end),
                     crypto.seal_spoken(key, meeting_id, _TEXT, seq, s.source, s.text), s.source)
                    for seq, s in enumerate(segments)
                ],
            )
        return len(segments)

    def delete_source_segments(self, meeting_id: str, source: str) -> int:
        """Delete every stored segment of `source` in a meeting (someone objected to being
        captioned); returns how many went. Not consent-guarded: it only removes."""
        with self._write("deleting the others' captions"):
            self._require_meeting(meeting_id)
            gone = self._conn.execute(
                "DELETE FROM segments WHERE meeting_id = ? AND source = ?", (meeting_id, source)
            ).rowcount
        log.info("meeting %s: %d segment(s) of one source deleted", meeting_id, gone)
        return int(gone)

    def finish(self, meeting_id: str, ended: datetime | None = None) -> None:
        """Record the end time. Not consent-guarded: it adds no transcript, and a meeting whose
        storage consent was withdrawn mid-way still needs an end for its retention clock."""
        with self._write("ending a meeting"):
            self._conn.execute(
                "UPDATE meetings SET ended = ? WHERE id = ? AND ended IS NULL",
                (to_iso(ended or datetime.now(UTC)), meeting_id),
            )
        self._active.pop(meeting_id, None)
        log.info("meeting %s ended", meeting_id)

    def forget_active(self, meeting_id: str) -> None:
        self._active.pop(meeting_id, None)

    @property
    def active_meetings(self) -> frozenset[str]:
        return frozenset(self._active)

    def recover_interrupted(self) -> list[str]:
        """Close meetings left open by a process that died. Only a meeting whose owner (the
        process that began it: pid and start token, see process_identity.py) is gone counts;
        one still being recorded by a live process - this one or another Candor - is left
        alone. Their end is set to the last stored segment; they are marked interrupted; every
        stored segment stays."""
        with self._write("recovering interrupted meetings"):
            rows = self._conn.execute(
                "SELECT m.id, m.started, COALESCE(MAX(s.end), 0), m.owner_pid, m.owner_start "
                "FROM meetings m LEFT JOIN segments s ON s.meeting_id = m.id "
                "WHERE m.ended IS NULL GROUP BY m.id"
            ).fetchall()
            recovered = []
            for meeting_id, started, last_end, owner_pid, owner_start in rows:
                if meeting_id in self._active:
                    continue
                owner = process_identity.ProcessIdentity(int(owner_pid or 0), owner_start)
                if process_identity.is_alive(owner):
                    log.info("meeting %s is still being recorded by process %d; left open",
                             meeting_id, owner.pid)
                    continue
                start = from_iso(started)
                assert start is not None
                ended = start + timedelta(seconds=float(last_end))
                self._conn.execute(
                    "UPDATE meetings SET ended = ?, interrupted = 1 WHERE id = ?",
                    (to_iso(ended), meeting_id),
                )
                recovered.append(meeting_id)
        if recovered:
            log.warning("recovered %d interrupted meeting(s): %s",
                        len(recovered), ", ".join(recovered))
        return recovered

    # -- reading ----------------------------------------------------------------------------

    def _consent_links(self, ids: Iterable[str] | None = None) -> dict[str, dict[str, list[str]]]:
        rows = self._conn.execute(
            "SELECT meeting_id, purpose, record_id FROM meeting_consent "
            "ORDER BY meeting_id, purpose, record_id"
        ).fetchall()
        wanted = None if ids is None else set(ids)
        links: dict[str, dict[str, list[str]]] = {}
        for meeting_id, purpose, record_id in rows:
            if wanted is None or meeting_id in wanted:
                links.setdefault(meeting_id, {}).setdefault(purpose, []).append(record_id)
        return links

    def _summaries(self, where: str = "", params: Sequence[object] = ()) -> list[MeetingSummary]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT m.id, m.title, m.started, m.ended, m.device, m.model, m.language, "
                "m.source, m.interrupted, "
                "(SELECT COUNT(*) FROM segments s WHERE s.meeting_id = m.id), m.labels "
                f"FROM meetings m {where} ORDER BY m.started DESC, m.id",
                tuple(params),
            ).fetchall()
            links = self._consent_links(r[0] for r in rows)
            result = []
            for (mid, sealed, started, ended, device, model, language, source, intr, n,
                 sealed_labels) in rows:
                title, error = None, None
                labels = speaker_labels.default_labels()
                try:
                    key = self._meeting_key(mid)
                    title = crypto.open_text(key, mid, _TITLE, None, sealed)
                    if sealed_labels is not None:
                        labels = speaker_labels.decode(
                            crypto.open_text(key, mid, _LABELS, None, sealed_labels))
                except (crypto.DecryptionFailed, DataDamaged, KeyUnavailable) as err:
                    error = str(err)
                start = from_iso(started)
                assert start is not None
                result.append(
                    MeetingSummary(
                        id=mid, title=title, started=start, ended=from_iso(ended),
                        device=device, model=model, language=language, source=source,
                        segments=int(n), interrupted=bool(intr), consent=links.get(mid, {}),
                        error=error, labels=labels,
                    )
                )
            return result

    def list_meetings(self) -> list[MeetingSummary]:
        """All stored meetings, newest first. A meeting whose title cannot be decrypted is
        listed with `title=None` and `error` set, never silently left out."""
        return self._summaries()

    def resolve(self, id_or_prefix: str) -> str:
        """The full id for an id or a unique prefix of at least 4 characters."""
        wanted = id_or_prefix.strip().lower()
        with self._lock:
            exact = self._conn.execute("SELECT id FROM meetings WHERE id = ?", (wanted,)).fetchone()
            if exact:
                return str(exact[0])
            if len(wanted) >= MIN_PREFIX and all(c in "0123456789abcdef" for c in wanted):
                rows = self._conn.execute(
                    "SELECT id FROM meetings WHERE substr(id, 1, ?) = ?", (len(wanted), wanted)
                ).fetchall()
                if len(rows) == 1:
                    return str(rows[0][0])
                if len(rows) > 1:
                    raise UnknownMeeting(
                        f"{id_or_prefix!r} matches {len(rows)} meetings; give more of the id "
                        "(`candor meetings list` shows them)"
                    )
        raise UnknownMeeting(
            f"no meeting has the id {id_or_prefix!r}; `candor meetings list` shows the ids"
        )

    def summary(self, meeting_id: str) -> MeetingSummary:
        found = self._summaries("WHERE m.id = ?", (meeting_id,))
        if not found:
            raise UnknownMeeting(
                f"no meeting has the id {meeting_id!r}; `candor meetings list` shows the ids"
            )
        return found[0]

    def get(self, meeting_id: str) -> Meeting:
        """The meeting with its decrypted segments. Damage is isolated to what is damaged: a
        segment that fails authentication is kept in its place with DAMAGED_SEGMENT_TEXT and
        its position listed in `Meeting.damaged`; the others are shown. DataDamaged only when
        nothing of the meeting can be read (its title or key fails)."""
        with self._lock:
            summary = self.summary(meeting_id)
            if summary.error:
                raise DataDamaged(summary.error)
            key = self._meeting_key(meeting_id)
            rows = self._conn.execute(
                "SELECT seq, start, end, text, heard, source FROM segments WHERE meeting_id = ? "
                "ORDER BY seq",
                (meeting_id,),
            ).fetchall()
            segments = []
            damaged = []
            heard: dict[int, str] = {}
            for position, (seq, start, end, blob, sealed, source) in enumerate(rows):
                try:
                    text = crypto.open_spoken(key, meeting_id, _TEXT, seq, source, blob)
                except (crypto.DecryptionFailed, UnicodeDecodeError):
                    damaged.append(position)
                    text = DAMAGED_SEGMENT_TEXT
                segments.append(Segment(start, end, text, True, source))
                if sealed is not None and position not in damaged:
                    try:
                        heard[position] = crypto.open_spoken(key, meeting_id, _HEARD, seq, source,
                                                              sealed)
                    except (crypto.DecryptionFailed, UnicodeDecodeError):
                        damaged.append(position)
        if damaged:
            # Counts and positions only: never the text, never the ciphertext.
            log.warning("meeting %s: %d segment(s) failed authentication and are shown as "
                        "damaged", meeting_id, len(damaged))
        return Meeting(summary, segments, heard, damaged=tuple(damaged))

    def search(self, text: str) -> SearchResult:
        """Every word of `text`, in any order, case-insensitive (app.storage.search_terms), in
        titles and transcripts decrypted in memory only; what
        could not be searched (damaged segments, unreadable meetings) is counted in it."""
        result = SearchResult()
        result.hits.extend(self.iter_search(text, skipped=result))
        return result

    def iter_search(self, text: str, *, skipped: SearchResult | None = None
                    ) -> Iterator[SearchHit]:
        """`search`, one hit at a time, so a window can show results while it runs. The lock is
        held per meeting, not for the whole search: captions keep being stored meanwhile.
        A damaged segment is skipped (never matched against its placeholder), an unreadable
        meeting too; both are counted in `skipped` when given."""
        query = Query.parse(text)
        if not query:
            return
        for summary in self.list_meetings():
            if summary.error:
                if skipped is not None:
                    skipped.unreadable_meetings.append(summary.id)
                continue
            try:
                meeting = self.get(summary.id)
            except UnknownMeeting:  # deleted since the list was read
                continue
            except DataDamaged:
                if skipped is not None:
                    skipped.unreadable_meetings.append(summary.id)
                continue
            if meeting.damaged and skipped is not None:
                skipped.damaged_segments[meeting.id] = len(meeting.damaged)
            found = matching_lines(query, summary.title or "",
                                   [s.text for s in meeting.segments], skip=meeting.damaged)
            if found is not None:
                title_match, lines = found
                yield SearchHit(summary, title_match, [(i, meeting.segments[i]) for i in lines])

    # -- correcting -------------------------------------------------------------------------

    def correct_segment(
        self, meeting_id: str, index: int, text: str, gate: Gate
    ) -> SegmentCorrection:
        """Replace the text of the segment at `index` (its position in `get().segments`).

        Stored under a recorded `transcript_storage` grant (ConsentRequired otherwise, nothing
        changed), sealed like every segment; the first correction keeps what the recogniser
        heard. Correcting back to the heard text is an undo: the segment is plain again. An
        empty `text` empties the segment (it is no longer shown or exported). Raises
        UnknownMeeting, UnknownSegment, MeetingInProgress.
        """
        text = text.strip()
        with gate.guard(TRANSCRIPT_STORAGE) as record, self._write("correcting a segment"):
            row = self._conn.execute(
                "SELECT ended FROM meetings WHERE id = ?", (meeting_id,)
            ).fetchone()
            if row is None:
                raise UnknownMeeting(
                    f"no meeting has the id {meeting_id!r}; `candor meetings list` shows the ids"
                )
            if row[0] is None or meeting_id in self._active:
                raise MeetingInProgress(
                    f"meeting {meeting_id} is still being recorded; correct it once it has "
                    "ended (its final pass would replace the correction)"
                )
            seqs = [r[0] for r in self._conn.execute(
                "SELECT seq FROM segments WHERE meeting_id = ? ORDER BY seq", (meeting_id,)
            ).fetchall()]
            if not 0 <= index < len(seqs):
                where = (f"positions 0 to {len(seqs) - 1}" if seqs else "no segments")
                raise UnknownSegment(
                    f"meeting {meeting_id} has no segment {index} (it has {where}); "
                    f"`candor meetings show {meeting_id} --json` lists them"
                )
            seq = seqs[index]
            key = self._meeting_key(meeting_id)
            blob, sealed_heard, source = self._conn.execute(
                "SELECT text, heard, source FROM segments WHERE meeting_id = ? AND seq = ?",
                (meeting_id, seq),
            ).fetchone()
            try:
                before = crypto.open_spoken(key, meeting_id, _TEXT, seq, source, blob)
                heard = (before if sealed_heard is None else
                         crypto.open_spoken(key, meeting_id, _HEARD, seq, source, sealed_heard))
            except crypto.DecryptionFailed as err:
                raise DataDamaged(str(err)) from err
            restored = text == heard
            self._conn.execute(
                "UPDATE segments SET text = ?, heard = ?, corrected = ? "
                "WHERE meeting_id = ? AND seq = ?",
                (
                    crypto.seal_spoken(key, meeting_id, _TEXT, seq, source, text),
                    None if restored
                    else crypto.seal_spoken(key, meeting_id, _HEARD, seq, source, heard),
                    None if restored else to_iso(datetime.now(UTC)),
                    meeting_id,
                    seq,
                ),
            )
            # The corrected text is stored under the grant in force now: withdrawing that grant
            # with deletion must find this meeting too.
            self._conn.execute(
                "INSERT OR IGNORE INTO meeting_consent (meeting_id, purpose, record_id) "
                "VALUES (?, ?, ?)",
                (meeting_id, TRANSCRIPT_STORAGE, record),
            )
        log.info("meeting %s: segment %d %s", meeting_id, index,
                 "restored to what was heard" if restored else "corrected")
        return SegmentCorrection(meeting_id, index, heard, before, text)

    def restore_heard(self, meeting_id: str, index: int, gate: Gate) -> SegmentCorrection:
        """Undo every correction of a segment: its text is what the recogniser heard again."""
        with self._lock:
            meeting = self.get(meeting_id)
            if not 0 <= index < len(meeting.segments):
                raise UnknownSegment(
                    f"meeting {meeting_id} has no segment {index}; "
                    f"`candor meetings show {meeting_id} --json` lists them"
                )
            heard = meeting.heard.get(index, meeting.segments[index].text)
            return self.correct_segment(meeting_id, index, heard, gate)

    # -- changing and deleting -------------------------------------------------------------

    def rename(self, meeting_id: str, title: str) -> None:
        title = title.strip()
        if not title:
            raise ValueError("a meeting title cannot be empty")
        with self._write("renaming a meeting"):
            exists = self._conn.execute(
                "SELECT 1 FROM meetings WHERE id = ?", (meeting_id,)
            ).fetchone()
            if not exists:
                raise UnknownMeeting(f"no meeting has the id {meeting_id!r}")
            key = self._meeting_key(meeting_id)
            self._conn.execute(
                "UPDATE meetings SET title = ? WHERE id = ?",
                (crypto.seal_text(key, meeting_id, _TITLE, None, title), meeting_id),
            )
        log.info("meeting %s renamed", meeting_id)

    def set_labels(self, meeting_id: str, *, microphone: str | None = None,
                   system: str | None = None) -> Labels:
        """Rename the meeting's speakers: `microphone` ("You") and `system` ("Others"). None
        leaves a label as it is; an empty name resets it to its default. Sealed with the
        meeting's key like the title (a label can be a person's name). Returns every label now
        in force; InvalidLabel (nothing changed) for a name no export could show, UnknownMeeting
        for an unknown id."""
        wanted: dict[Source, str] = {}
        given: tuple[tuple[Source, str | None], ...] = (("microphone", microphone),
                                                        ("system", system))
        for source, name in given:
            if name is not None:
                wanted[source] = (speaker_labels.clean_label(source, name)
                                  or speaker_labels.default_labels()[source])
        with self._write("renaming a meeting's speakers"):
            row = self._conn.execute(
                "SELECT labels FROM meetings WHERE id = ?", (meeting_id,)
            ).fetchone()
            if row is None:
                raise UnknownMeeting(
                    f"no meeting has the id {meeting_id!r}; `candor meetings list` shows the ids"
                )
            key = self._meeting_key(meeting_id)
            try:
                labels = speaker_labels.decode(
                    None if row[0] is None
                    else crypto.open_text(key, meeting_id, _LABELS, None, row[0]))
            except crypto.DecryptionFailed as err:
                raise DataDamaged(str(err)) from err
            labels.update(wanted)
            stored = speaker_labels.encode(labels)
            self._conn.execute(
                "UPDATE meetings SET labels = ? WHERE id = ?",
                (None if stored is None
                 else crypto.seal_text(key, meeting_id, _LABELS, None, stored), meeting_id),
            )
        log.info("meeting %s: speakers renamed", meeting_id)  # never the names
        return labels

    def delete_meetings(self, meeting_ids: Iterable[str], *, reason: str) -> list[str]:
        """Delete the meetings' rows and their wrapped keys (crypto-shredding) in one
        transaction, then truncate the WAL so no old page image keeps them. Returns the ids
        that existed."""
        ids = sorted(set(meeting_ids))
        if not ids:
            return []
        deleted = []
        with self._write("deleting meetings"):
            for meeting_id in ids:
                self._conn.execute("DELETE FROM meeting_keys WHERE meeting_id = ?", (meeting_id,))
                self._conn.execute("DELETE FROM segments WHERE meeting_id = ?", (meeting_id,))
                self._conn.execute(
                    "DELETE FROM meeting_consent WHERE meeting_id = ?", (meeting_id,)
                )
                if self._conn.execute(
                    "DELETE FROM meetings WHERE id = ?", (meeting_id,)
                ).rowcount:
                    deleted.append(meeting_id)
                self._active.pop(meeting_id, None)
        if deleted:
            log.info("deleted %d meeting(s) (%s): %s", len(deleted), reason, ", ".join(deleted))
            with self._lock:
                if not checkpoint(self._conn):
                    log.warning("WAL checkpoint after delete deferred: a reader is active")
        return deleted

    def delete(self, meeting_id: str) -> None:
        if not self.delete_meetings([meeting_id], reason="deleted by the user"):
            raise UnknownMeeting(f"no meeting has the id {meeting_id!r}")

    def produced_under(self, record_ids: Iterable[str]) -> list[str]:
        """Ids of meetings produced under any of these consent ledger record ids."""
        records = sorted({str(r) for r in record_ids})
        if not records:
            return []
        with self._lock:
            marks = ",".join("?" * len(records))
            rows = self._conn.execute(
                f"SELECT DISTINCT meeting_id FROM meeting_consent WHERE record_id IN ({marks})",
                records,
            ).fetchall()
        return sorted(r[0] for r in rows)

    def count_produced_under(self, record_ids: Iterable[str]) -> int:
        return len(self.produced_under(record_ids))

    def delete_produced_under(self, record_ids: Iterable[str]) -> int:
        """Delete exactly the meetings produced under these consent records; returns how many."""
        records = sorted({str(r) for r in record_ids})
        ids = self.produced_under(records)
        deleted = self.delete_meetings(
            ids, reason=f"withdrawn with deletion, consent records {', '.join(records)}"
        )
        return len(deleted)

    # -- facts for the transparency report -------------------------------------------------

    def stats(self) -> StoreStats:
        with self._lock:
            meetings, oldest = self._conn.execute(
                "SELECT COUNT(*), MIN(started) FROM meetings"
            ).fetchone()
            segments, seg_bytes = self._conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(length(text)), 0) FROM segments"
            ).fetchone()
            title_bytes = self._conn.execute(
                "SELECT COALESCE(SUM(length(title) + COALESCE(length(labels), 0)), 0) "
                "FROM meetings"
            ).fetchone()[0]
            key_bytes = self._conn.execute(
                "SELECT COALESCE(SUM(length(wrapped)), 0) FROM meeting_keys"
            ).fetchone()[0]
            version = schema_version(self._conn)
        files = [self.db_path.with_name(DB_NAME + s) for s in ("", *SIDE_FILES)]
        return StoreStats(
            meetings=int(meetings),
            segments=int(segments),
            payload_bytes=int(seg_bytes + title_bytes + key_bytes),
            file_bytes=sum(p.stat().st_size for p in files if p.exists()),
            oldest_started=from_iso(oldest),
            schema_version=version,
        )

    def retention_rows(self) -> list[tuple[str, datetime, datetime | None]]:
        """(id, started, ended) of every meeting, for the retention clock."""
        with self._lock:
            rows = self._conn.execute("SELECT id, started, ended FROM meetings").fetchall()
        result = []
        for mid, started, ended in rows:
            start = from_iso(started)
            assert start is not None
            result.append((mid, start, from_iso(ended)))
        return result

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            try:
                checkpoint(self._conn)
            except sqlite3.Error as err:
                # A full disk cannot take the checkpoint: the WAL keeps every committed change
                # and SQLite replays it next time; closing must not fail over it.
                if not is_disk_full(err):
                    raise
                log.warning("closing the meeting store: the disk is full, WAL left for later")
            self._conn.close()
            self._conn = None  # type: ignore[assignment]
            self._active.clear()
            self._master = None

    def __enter__(self) -> MeetingStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
