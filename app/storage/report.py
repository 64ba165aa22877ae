"""The transparency report: everything Candor holds, where, how protected, and until when.

Every file in the data directory is accounted for: known ones under their category, anything
else under "other files", so the report never hides something it does not recognise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app import keystore, keyvault
from app.consent import Gate, ledger_lock
from app.consent.purposes import RECORDING_STORAGE, TRANSCRIPT_STORAGE, VOCABULARY_LEARNING
from app.key_protection import KeyProtection, describe_protection
from app.storage import crypto
from app.storage.database import CORRUPT_SUFFIX, DB_NAME
from app.storage.instance_lock import LOCK_NAME
from app.storage.meetings import MeetingStore
from app.storage.models import to_iso
from app.storage.retention import (
    END_OF_MEETING,
    PERIOD_LABELS,
    SETTINGS_FILE,
    RetentionSettings,
    RetentionSettingsError,
    next_erase,
)

LEDGER_NAME = "consent-ledger.sqlite3"
LEDGER_PREFIX = "consent-ledger."
ENCRYPTION = (
    f"{crypto.ALGORITHM}, one key per meeting, wrapped by a master key; titles and transcript "
    "text are encrypted, times, device, model, language and consent record ids are not"
)


@dataclass(frozen=True, slots=True)
class Retention:
    """How long a category is kept: a period and what it means, or why the settings are
    unreadable."""

    period: str | None
    meaning: str | None = None
    error: str | None = None

    @property
    def text(self) -> str:
        return self.meaning or self.error or ""

    def to_dict(self) -> dict[str, str | None]:
        if self.meaning is not None:
            return {"period": self.period, "meaning": self.meaning}
        return {"period": self.period, "error": self.error}


@dataclass(frozen=True, slots=True)
class ConsentState:
    purpose: str
    state: str
    record_id: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {"purpose": self.purpose, "state": self.state, "record_id": self.record_id}


@dataclass(frozen=True, slots=True)
class HeldFile:
    path: str
    bytes: int

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "bytes": self.bytes}


@dataclass(frozen=True, slots=True)
class ItemDates:
    """For a category of items (meetings, recordings, terms): the oldest one, and when the next
    automatic erase is due (an ISO time, or what happens instead; None: nothing is due)."""

    oldest: str | None
    next_automatic_erase: str | None


@dataclass(frozen=True, slots=True)
class Category:
    """One kind of data held. A field left None is one this kind has nothing to say about
    (and `to_dict` leaves out), except `dates`, whose own fields may be None."""

    category: str
    count: int
    bytes: int
    stored_in: str
    dates: ItemDates | None = None
    segments: int | None = None
    file_bytes: int | None = None
    retention: Retention | None = None
    encryption: str | None = None
    key_location: str | None = None
    key_kind: str | None = None
    consent: ConsentState | None = None
    note: str | None = None
    files: tuple[HeldFile, ...] | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"category": self.category, "count": self.count}
        if self.segments is not None:
            out["segments"] = self.segments
        out["bytes"] = self.bytes
        if self.file_bytes is not None:
            out["file_bytes"] = self.file_bytes
        if self.dates is not None:
            out["oldest"] = self.dates.oldest
        if self.retention is not None:
            out["retention"] = self.retention.to_dict()
        if self.dates is not None:
            out["next_automatic_erase"] = self.dates.next_automatic_erase
        for key in ("stored_in", "encryption", "key_location", "key_kind", "note"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.consent is not None:
            out["consent"] = self.consent.to_dict()
        if self.files is not None:
            out["files"] = [f.to_dict() for f in self.files]
        return out


@dataclass(frozen=True, slots=True)
class DatabaseFile:
    path: str
    bytes: int
    schema_version: int


@dataclass(frozen=True, slots=True)
class Report:
    """Everything Candor holds; `to_dict` is what `candor data report --json` prints."""

    generated: str
    data_dir: str
    protection: KeyProtection  # what protects the keys, and what it does not: shown first
    database: DatabaseFile
    total_bytes: int
    categories: tuple[Category, ...]

    def category(self, name: str) -> Category | None:
        return next((c for c in self.categories if c.category == name), None)

    def to_dict(self) -> dict[str, object]:
        return {
            "generated": self.generated,
            "data_dir": self.data_dir,
            "protection": self.protection.to_dict(),
            "database": {"path": self.database.path, "bytes": self.database.bytes,
                         "schema_version": self.database.schema_version},
            "total_bytes": self.total_bytes,
            "categories": [c.to_dict() for c in self.categories],
        }


@dataclass(frozen=True)
class _File:
    path: Path
    size: int


def _files(home: Path) -> list[_File]:
    if not home.exists():
        return []
    return sorted(
        # the consent ledger's path may link to its file: the file is listed, once
        (_File(p, p.stat().st_size) for p in home.rglob("*")
         if p.is_file() and not p.is_symlink()),
        key=lambda f: str(f.path),
    )


def _classify(home: Path, path: Path) -> str:
    rel = path.relative_to(home)
    name = rel.name
    if rel.parts[0] == "keys":
        locks = (keystore.CREATION_LOCK, keyvault.LOCK_NAME, ledger_lock.LOCK_NAME)
        return "settings" if name in locks else "keys"
    if rel.parts[0] == "logs":
        return "logs"
    if name.startswith(DB_NAME + CORRUPT_SUFFIX):
        return "set_aside"
    if name.startswith(DB_NAME):
        return "transcripts"
    if name.startswith(LEDGER_PREFIX):
        return "consent_ledger"
    if name in (SETTINGS_FILE, LOCK_NAME):
        return "settings"
    return "other"


def consent_state(gate: Gate | None, purpose: str) -> ConsentState:
    if gate is None:
        return ConsentState(purpose, "not given (no consent has been recorded yet)", None)
    given = gate.allowed(purpose)
    return ConsentState(purpose, "given" if given else "not given",
                        gate.record_id(purpose) if given else None)


def build_report(
    store: MeetingStore,
    *,
    gate: Gate | None = None,
    now: datetime | None = None,
    settings: RetentionSettings | None = None,
) -> Report:
    moment = now or datetime.now(UTC)
    home = store.home
    settings_error = None
    if settings is None:
        try:
            settings = RetentionSettings.load(home)
        except RetentionSettingsError as err:
            settings_error = str(err)
    stats = store.stats()
    files = _files(home)
    by_category: dict[str, list[_File]] = {}
    for f in files:
        by_category.setdefault(_classify(home, f.path), []).append(f)

    location = keystore.secret_location(crypto.MASTER_KEY_NAME, home=home)
    key_text = location.describe() if location else "no key yet (nothing has been stored)"

    if settings is not None:
        period = settings.transcripts
        due = next_erase(store, moment, settings=settings)
        if period == END_OF_MEETING:
            next_text: str | None = "at the end of each meeting"
            if due is not None:
                next_text = to_iso(due)
        else:
            next_text = to_iso(due) if due else "never: kept until you delete them"
        retention = Retention(period, PERIOD_LABELS[period])
        recordings_retention = Retention(settings.recordings, PERIOD_LABELS[settings.recordings])
    else:
        next_text = None
        retention = recordings_retention = Retention(None, error=settings_error)

    def size(category: str) -> int:
        return sum(f.size for f in by_category.get(category, []))

    def count(category: str) -> int:
        return len(by_category.get(category, []))

    def listed(category: str) -> tuple[HeldFile, ...]:
        return tuple(HeldFile(str(f.path), f.size) for f in by_category.get(category, []))

    def files_of(category: str, report_as: str, stored_in: str, *,
                 encryption: str | None = None, key_location: str | None = None,
                 retention: Retention | None = None, note: str | None = None) -> Category:
        return Category(report_as, count(category), size(category), stored_in,
                        retention=retention, encryption=encryption, key_location=key_location,
                        note=note, files=listed(category))

    categories: list[Category] = [
        Category(
            "transcripts", stats.meetings, stats.payload_bytes, str(home / DB_NAME),
            segments=stats.segments,
            file_bytes=size("transcripts"),
            dates=ItemDates(to_iso(stats.oldest_started) if stats.oldest_started else None,
                            next_text if stats.meetings else None),
            retention=retention,
            encryption=ENCRYPTION,
            key_location=key_text,
            key_kind=location.kind if location else None,
            consent=consent_state(gate, TRANSCRIPT_STORAGE),
        ),
        Category(
            "recordings", 0, 0, "nowhere: this version never stores meeting audio",
            dates=ItemDates(None, None),
            retention=recordings_retention,
            encryption="not applicable",
            key_location="not applicable",
            consent=consent_state(gate, RECORDING_STORAGE),
        ),
        _vocabulary_category(store, gate, key_text),
        files_of(
            "consent_ledger", "consent_ledger", str(home / LEDGER_NAME),
            encryption=("not encrypted: it holds consent events, never transcript text; "
                        "each record is HMAC-chained to the one before"),
            retention=Retention("keep", "kept as proof of your choices"),
        ),
        files_of("keys", "keys", str(home / keystore.KEYS_DIR),
                 key_location=key_text),
        files_of("logs", "logs", str(home / "logs"),
                 encryption="not encrypted: logs hold counts, ids and timings, never "
                            "transcript text"),
        files_of("settings", "settings_and_locks", str(home)),
    ]
    if by_category.get("set_aside"):
        categories.append(files_of(
            "set_aside", "set_aside_databases", str(home),
            encryption="as transcripts (their text is still encrypted under your master key)",
            note="damaged databases moved aside; `candor data erase --yes` removes them"))
    if by_category.get("other"):
        categories.append(files_of("other", "other_files", str(home)))
    return Report(
        generated=to_iso(moment),
        data_dir=str(home),
        protection=describe_protection(home),
        database=DatabaseFile(str(home / DB_NAME), stats.file_bytes, stats.schema_version),
        total_bytes=sum(f.size for f in files),
        categories=tuple(categories),
    )


def _vocabulary_category(store: MeetingStore, gate: Gate | None, key_text: str) -> Category:
    from app.vocabulary.store import VocabularyStore  # the vocabulary's rows are its own

    stats = VocabularyStore(store).stats()
    return Category(
        "vocabulary", stats.terms, stats.payload_bytes, str(store.home / DB_NAME),
        dates=ItemDates(to_iso(stats.oldest) if stats.oldest else None, None),
        retention=Retention("keep", "until you withdraw vocabulary_learning with deletion, "
                                    "remove the terms, or clear the list"),
        encryption=(f"{crypto.ALGORITHM} under the vocabulary's own key, wrapped by the master "
                    "key; only terms are kept (never sentences or which meeting said them); "
                    "counts, dates, origin and consent record ids are not encrypted"),
        key_location=key_text,
        consent=consent_state(gate, VOCABULARY_LEARNING),
    )


def format_report(report: Report) -> str:
    protection = report.protection
    lines = [f"Candor data report ({report.generated})", f"Data directory: {report.data_dir}",
             "", f"What protects your keys: {protection.mode}", f"  {protection.summary}",
             f"  What remains at risk: {protection.residual_risk}"]
    for cat in report.categories:
        lines.append("")
        lines.append(f"{cat.category.replace('_', ' ').capitalize()}:")
        shown = cat.to_dict()
        for label, key in (
            ("count", "count"), ("segments", "segments"), ("bytes", "bytes"),
            ("oldest item", "oldest"), ("next automatic erase", "next_automatic_erase"),
            ("stored in", "stored_in"), ("encryption", "encryption"),
            ("key location", "key_location"), ("note", "note"),
        ):
            if key in shown:
                value = shown[key]
                lines.append(f"  {label}: {'—' if value is None else value}")
        if cat.retention is not None:
            lines.append(f"  kept: {cat.retention.text}")
        if cat.consent is not None:
            record = cat.consent.record_id
            lines.append(f"  consent ({cat.consent.purpose}): {cat.consent.state}"
                         + (f" (record {record})" if record else ""))
        if cat.category in ("set_aside_databases", "other_files"):
            lines += [f"  file: {f.path} ({f.bytes} bytes)" for f in cat.files or ()]
    lines.append("")
    lines.append(f"Total on disk: {report.total_bytes} bytes")
    return "\n".join(lines) + "\n"
