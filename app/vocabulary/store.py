"""The vocabulary store: an aggregated, encrypted term list in `candor.db`.

What is kept per term is exactly: the term (sealed with AES-256-GCM under the vocabulary's own
key, which is wrapped by the storage master key), where it came from ("corrected" or "added"),
how often it was corrected, when it was first and last learned, and the consent records it was
learned or added under. Never a sentence, never audio, never which meeting it came from.

Learning and adding need a recorded `vocabulary_learning` grant and run under `gate.guard`, so a
withdrawal recorded first means nothing is written. Reading, removing and clearing need no
permission: the user can always see and erase what is held. `clear` also destroys the
vocabulary key (crypto-shredding) and truncates the WAL so no old page keeps a term.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from app.consent import Gate
from app.consent.purposes import VOCABULARY_LEARNING
from app.storage import crypto
from app.storage.database import checkpoint
from app.storage.meetings import MeetingStore
from app.storage.models import DataDamaged, from_iso, to_iso
from app.textmetrics import normalise

log = logging.getLogger(__name__)

Origin = Literal["corrected", "added"]
CORRECTED: Origin = "corrected"
ADDED: Origin = "added"

# What the user said a term is: a person's name (always redacted) or a term that is no name
# (never redacted as one). None: not said; redaction guesses (app/privacy/vocabulary_names.py).
Kind = Literal["name", "term"]
NAME: Kind = "name"
TERM: Kind = "term"
KINDS: tuple[Kind, ...] = (NAME, TERM)

# A term is a name or a short multi-word term, never a sentence: longer input is refused.
MAX_TERM_WORDS = 4
MAX_TERM_CHARS = 60
_KEY_OWNER = "vocabulary"  # stands where a meeting id stands in the sealing context


class BadTerm(ValueError):
    """A term the user typed cannot be kept; the message says why and what to type."""


@dataclass(frozen=True)
class Term:
    id: str
    text: str
    origin: Origin
    times_corrected: int
    first_learned: datetime
    last_learned: datetime
    records: tuple[str, ...]  # vocabulary_learning consent records it was learned/added under
    kind: Kind | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "term": self.text,
            "origin": self.origin,
            "times_corrected": self.times_corrected,
            "first_learned": to_iso(self.first_learned),
            "last_learned": to_iso(self.last_learned),
            "consent_records": list(self.records),
            "kind": self.kind,
        }


@dataclass(frozen=True)
class VocabularyStats:
    terms: int
    payload_bytes: int  # sealed terms and the wrapped key
    oldest: datetime | None


def term_key(text: str) -> str:
    """The form two spellings of one term share ("Habeas  corpus" = "habeas corpus")."""
    return normalise(text)


def clean_term(text: str) -> str:
    """The term as it will be kept, or BadTerm."""
    term = " ".join(text.split()).strip(" .,;:!?\"'()[]")
    if not term_key(term):
        raise BadTerm(f"{text!r} has no letters or digits; give a name or a term")
    if len(term.split()) > MAX_TERM_WORDS or len(term) > MAX_TERM_CHARS:
        raise BadTerm(
            f"{_shorten(text)!r} is too long for a term (at most {MAX_TERM_WORDS} words and "
            f"{MAX_TERM_CHARS} characters): the vocabulary keeps names and terms, not sentences"
        )
    return term


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class VocabularyStore:
    """The term list of one data directory, on the meeting store's connection."""

    def __init__(self, store: MeetingStore) -> None:
        self._store = store
        self._key: bytes | None = None

    # -- keys ---------------------------------------------------------------------------------

    def _vocabulary_key(self, *, create: bool) -> bytes | None:
        if self._key is not None:
            return self._key
        with self._store.reading() as conn:
            row = conn.execute("SELECT wrapped FROM vocabulary_key WHERE id = 1").fetchone()
        if row is None:
            if not create:
                return None
            key = crypto.new_key()
            master = self._store.master_key(create=True)
            with self._store.transaction("creating the vocabulary key") as conn:
                conn.execute(
                    "INSERT INTO vocabulary_key (id, wrapped) VALUES (1, ?)",
                    (crypto.wrap_key(master, _KEY_OWNER, key),),
                )
            self._key = key
            return key
        try:
            self._key = crypto.unwrap_key(
                self._store.master_key(create=False), _KEY_OWNER, row[0]
            )
        except crypto.DecryptionFailed as err:
            raise DataDamaged(f"the vocabulary cannot be read: {err}") from err
        return self._key

    def _seal(self, key: bytes, term_id: str, text: str) -> bytes:
        return crypto.seal_text(key, _KEY_OWNER, f"term:{term_id}", None, text)

    def _open(self, key: bytes, term_id: str, blob: bytes) -> str:
        try:
            return crypto.open_text(key, _KEY_OWNER, f"term:{term_id}", None, blob)
        except crypto.DecryptionFailed as err:
            raise DataDamaged(f"a vocabulary term cannot be read: {err}") from err

    # -- reading ------------------------------------------------------------------------------

    def count(self) -> int:
        with self._store.reading() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM vocabulary_terms").fetchone()[0])

    def terms(self) -> list[Term]:
        """Every term held, most corrected first. Needs no permission: it shows what is held."""
        with self._store.reading() as conn:
            rows = conn.execute(
                "SELECT id, term, origin, times_corrected, first_learned, last_learned, kind "
                "FROM vocabulary_terms"
            ).fetchall()
            links = conn.execute(
                "SELECT term_id, record_id FROM vocabulary_consent ORDER BY record_id"
            ).fetchall()
        if not rows:
            return []
        key = self._vocabulary_key(create=False)
        if key is None:
            raise DataDamaged("vocabulary terms are stored but their key is missing")
        records: dict[str, list[str]] = {}
        for term_id, record_id in links:
            records.setdefault(term_id, []).append(record_id)
        result = []
        for term_id, blob, origin, times, first, last, kind in rows:
            first_at, last_at = from_iso(first), from_iso(last)
            assert first_at is not None
            assert last_at is not None
            result.append(Term(term_id, self._open(key, term_id, blob), origin, int(times),
                               first_at, last_at, tuple(records.get(term_id, ())), kind))
        result.sort(key=lambda t: (-t.times_corrected, t.text.casefold()))
        return result

    def texts(self) -> list[str]:
        return [t.text for t in self.terms()]

    def stats(self) -> VocabularyStats:
        with self._store.reading() as conn:
            count, size, oldest = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(length(term)), 0), MIN(first_learned) "
                "FROM vocabulary_terms"
            ).fetchone()
            key_bytes = conn.execute(
                "SELECT COALESCE(SUM(length(wrapped)), 0) FROM vocabulary_key"
            ).fetchone()[0]
        return VocabularyStats(int(count), int(size + key_bytes), from_iso(oldest))

    # -- learning and adding ------------------------------------------------------------------

    def learn(self, texts: Iterable[str], gate: Gate) -> list[Term]:
        """Count each term as corrected once more (new terms start at 1); only under a recorded
        `vocabulary_learning` grant (ConsentRequired otherwise, nothing written)."""
        return self._upsert(texts, gate, CORRECTED)

    def add(self, texts: Iterable[str], gate: Gate, kind: Kind | None = None) -> list[Term]:
        """The user's own glossary entries (BadTerm for one that is not a term; nothing is
        written then). A term already held keeps its origin and counts; a `kind` given is set
        on every one of them, new or held."""
        return self._upsert(texts, gate, ADDED, kind)

    def mark(self, texts: Iterable[str], kind: Kind | None, gate: Gate
             ) -> tuple[list[Term], list[str]]:
        """Say what held terms are: a name, a term, or None (guess again). Under the same
        `vocabulary_learning` grant as adding, since it changes how a kept term is used.
        Returns (the terms marked, the texts not held); when any is not held, nothing is marked
        (a typo must not leave half of a command done)."""
        if kind is not None and kind not in KINDS:
            raise BadTerm(f"{kind!r} is no kind of term; use one of {', '.join(KINDS)}")
        wanted = {term_key(t): t for t in texts if term_key(t)}
        held = {term_key(t.text): t for t in self.terms()}
        found = [held[k].id for k in wanted if k in held]
        missing = [wanted[k] for k in wanted if k not in held]
        if missing or not found:
            return [], missing
        gate.require(VOCABULARY_LEARNING)
        with gate.guard(VOCABULARY_LEARNING), \
                self._store.transaction("marking vocabulary terms") as conn:
            conn.executemany("UPDATE vocabulary_terms SET kind = ? WHERE id = ?",
                             [(kind, term_id) for term_id in found])
        return [t for t in self.terms() if t.id in found], missing

    def _upsert(self, texts: Iterable[str], gate: Gate, origin: Origin,
                kind: Kind | None = None) -> list[Term]:
        cleaned: dict[str, str] = {}
        for text in texts:
            term = clean_term(text)
            cleaned.setdefault(term_key(term), term)
        if not cleaned:
            return []
        gate.require(VOCABULARY_LEARNING)
        key = self._vocabulary_key(create=True)
        assert key is not None
        now = to_iso(datetime.now(UTC))
        touched: list[str] = []
        with gate.guard(VOCABULARY_LEARNING) as record, \
                self._store.transaction("saving vocabulary terms") as conn:
            held = {
                term_key(self._open(key, term_id, blob)): term_id
                for term_id, blob in conn.execute("SELECT id, term FROM vocabulary_terms")
            }
            for norm, term in cleaned.items():
                term_id = held.get(norm)
                corrected = 1 if origin == CORRECTED else 0
                if term_id is None:
                    term_id = secrets.token_hex(8)
                    conn.execute(
                        "INSERT INTO vocabulary_terms (id, term, origin, times_corrected, "
                        "first_learned, last_learned) VALUES (?, ?, ?, ?, ?, ?)",
                        (term_id, self._seal(key, term_id, term), origin, corrected, now, now),
                    )
                elif corrected:
                    conn.execute(
                        "UPDATE vocabulary_terms SET times_corrected = times_corrected + 1, "
                        "last_learned = ? WHERE id = ?",
                        (now, term_id),
                    )
                if kind is not None:
                    conn.execute("UPDATE vocabulary_terms SET kind = ? WHERE id = ?",
                                 (kind, term_id))
                conn.execute(
                    "INSERT OR IGNORE INTO vocabulary_consent (term_id, record_id) VALUES (?, ?)",
                    (term_id, record),
                )
                touched.append(term_id)
        log.info("vocabulary: %d term(s) %s under record %s", len(touched),
                 "learned" if origin == CORRECTED else "added", record)
        return [t for t in self.terms() if t.id in touched]

    def unlearn(self, texts: Iterable[str], gate: Gate) -> list[str]:
        """An edit took back a correction: count it once less; a learned (not added) term that
        reaches 0 is forgotten. Only while learning is given. Returns the terms forgotten."""
        wanted = {term_key(t) for t in texts if term_key(t)}
        if not wanted:
            return []
        key = self._vocabulary_key(create=False)
        if key is None:
            return []
        forgotten = []
        with gate.guard(VOCABULARY_LEARNING), \
                self._store.transaction("updating vocabulary terms") as conn:
            rows = conn.execute(
                "SELECT id, term, origin, times_corrected FROM vocabulary_terms"
            ).fetchall()
            for term_id, blob, origin, times in rows:
                text = self._open(key, term_id, blob)
                if term_key(text) not in wanted or times <= 0:
                    continue
                if origin == CORRECTED and times <= 1:
                    conn.execute("DELETE FROM vocabulary_terms WHERE id = ?", (term_id,))
                    forgotten.append(text)
                else:
                    conn.execute(
                        "UPDATE vocabulary_terms SET times_corrected = times_corrected - 1 "
                        "WHERE id = ?", (term_id,),
                    )
        return forgotten

    # -- removing -----------------------------------------------------------------------------

    def remove(self, texts: Iterable[str]) -> tuple[list[str], list[str]]:
        """Remove these terms (any spelling of them); returns (removed, not held)."""
        wanted = {term_key(t): t for t in texts if term_key(t)}
        if not wanted:
            return [], []
        held = {term_key(t.text): t for t in self.terms()}
        gone = [held[k] for k in wanted if k in held]
        missing = [wanted[k] for k in wanted if k not in held]
        self._delete([t.id for t in gone], reason="removed by the user")
        return [t.text for t in gone], missing

    def clear(self, *, reason: str = "cleared by the user") -> int:
        """Remove every term and destroy the vocabulary key; returns how many terms went."""
        with self._store.transaction("clearing the vocabulary") as conn:
            count = conn.execute("DELETE FROM vocabulary_terms").rowcount
            conn.execute("DELETE FROM vocabulary_key")
        self._key = None
        self._shred(count, reason)
        return int(count)

    def _delete(self, term_ids: Sequence[str], *, reason: str) -> int:
        if not term_ids:
            return 0
        with self._store.transaction("removing vocabulary terms") as conn:
            marks = ",".join("?" * len(term_ids))
            count = conn.execute(
                f"DELETE FROM vocabulary_terms WHERE id IN ({marks})", list(term_ids)
            ).rowcount
            if not conn.execute("SELECT 1 FROM vocabulary_terms LIMIT 1").fetchone():
                conn.execute("DELETE FROM vocabulary_key")
                self._key = None
        self._shred(count, reason)
        return int(count)

    def _shred(self, count: int, reason: str) -> None:
        if not count:
            return
        log.info("vocabulary: %d term(s) deleted (%s)", count, reason)
        with self._store.reading() as conn:
            if not checkpoint(conn):
                log.warning("WAL checkpoint after a vocabulary delete deferred: a reader is active")

    # -- withdraw and delete ------------------------------------------------------------------

    def produced_under(self, record_ids: Iterable[str]) -> list[str]:
        records = sorted({str(r) for r in record_ids})
        if not records:
            return []
        marks = ",".join("?" * len(records))
        with self._store.reading() as conn:
            rows = conn.execute(
                f"SELECT DISTINCT term_id FROM vocabulary_consent WHERE record_id IN ({marks})",
                records,
            ).fetchall()
        return sorted(r[0] for r in rows)

    def count_produced_under(self, record_ids: Iterable[str]) -> int:
        return len(self.produced_under(record_ids))

    def delete_produced_under(self, record_ids: Iterable[str]) -> int:
        records = sorted({str(r) for r in record_ids})
        return self._delete(
            self.produced_under(records),
            reason=f"withdrawn with deletion, consent records {', '.join(records)}",
        )
