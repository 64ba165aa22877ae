"""The transparency report: everything Candor holds, where, how protected, and until when.

Every file in the data directory is accounted for: known ones under their category, anything
else under "other files", so the report never hides something it does not recognise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app import keystore, keyvault
from app.consent import Gate, ledger_lock
from app.consent.purposes import RECORDING_STORAGE, TRANSCRIPT_STORAGE, VOCABULARY_LEARNING
from app.key_protection import describe_protection
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


# The report as JSON-shaped data (`candor data report --json` prints it as is).
# TODO(issue 10, code health): a typed dataclass that the window renders without casts.
Report = dict[str, Any]


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


def consent_state(gate: Gate | None, purpose: str) -> dict[str, object]:
    if gate is None:
        return {"purpose": purpose, "state": "not given (no consent has been recorded yet)",
                "record_id": None}
    given = gate.allowed(purpose)
    return {
        "purpose": purpose,
        "state": "given" if given else "not given",
        "record_id": gate.record_id(purpose) if given else None,
    }


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
        retention: dict[str, str | None] = {"period": period, "meaning": PERIOD_LABELS[period]}
        rec_period = settings.recordings
        recordings_retention: dict[str, str | None] = {
            "period": rec_period, "meaning": PERIOD_LABELS[rec_period]
        }
    else:
        next_text = None
        retention = {"period": None, "error": settings_error}
        recordings_retention = {"period": None, "error": settings_error}

    def size(category: str) -> int:
        return sum(f.size for f in by_category.get(category, []))

    def listed(category: str) -> list[dict[str, object]]:
        return [{"path": str(f.path), "bytes": f.size} for f in by_category.get(category, [])]

    categories: list[dict[str, object]] = [
        {
            "category": "transcripts",
            "count": stats.meetings,
            "segments": stats.segments,
            "bytes": stats.payload_bytes,
            "file_bytes": size("transcripts"),
            "oldest": to_iso(stats.oldest_started) if stats.oldest_started else None,
            "retention": retention,
            "next_automatic_erase": next_text if stats.meetings else None,
            "stored_in": str(home / DB_NAME),
            "encryption": ENCRYPTION,
            "key_location": key_text,
            "key_kind": location.kind if location else None,
            "consent": consent_state(gate, TRANSCRIPT_STORAGE),
        },
        {
            "category": "recordings",
            "count": 0,
            "bytes": 0,
            "oldest": None,
            "retention": recordings_retention,
            "next_automatic_erase": None,
            "stored_in": "nowhere: this version never stores meeting audio",
            "encryption": "not applicable",
            "key_location": "not applicable",
            "consent": consent_state(gate, RECORDING_STORAGE),
        },
        _vocabulary_category(store, gate, key_text),
        {
            "category": "consent_ledger",
            "count": len(by_category.get("consent_ledger", [])),
            "bytes": size("consent_ledger"),
            "stored_in": str(home / LEDGER_NAME),
            "encryption": ("not encrypted: it holds consent events, never transcript text; "
                           "each record is HMAC-chained to the one before"),
            "retention": {"period": "keep", "meaning": "kept as proof of your choices"},
            "files": listed("consent_ledger"),
        },
        {
            "category": "keys",
            "count": len(by_category.get("keys", [])),
            "bytes": size("keys"),
            "stored_in": str(home / keystore.KEYS_DIR),
            "key_location": key_text,
            "files": listed("keys"),
        },
        {
            "category": "logs",
            "count": len(by_category.get("logs", [])),
            "bytes": size("logs"),
            "stored_in": str(home / "logs"),
            "encryption": "not encrypted: logs hold counts, ids and timings, never transcript text",
            "files": listed("logs"),
        },
        {
            "category": "settings_and_locks",
            "count": len(by_category.get("settings", [])),
            "bytes": size("settings"),
            "stored_in": str(home),
            "files": listed("settings"),
        },
    ]
    if by_category.get("set_aside"):
        categories.append({
            "category": "set_aside_databases",
            "count": len(by_category["set_aside"]),
            "bytes": size("set_aside"),
            "stored_in": str(home),
            "encryption": "as transcripts (their text is still encrypted under your master key)",
            "note": "damaged databases moved aside; `candor data erase --yes` removes them",
            "files": listed("set_aside"),
        })
    if by_category.get("other"):
        categories.append({
            "category": "other_files",
            "count": len(by_category["other"]),
            "bytes": size("other"),
            "stored_in": str(home),
            "files": listed("other"),
        })
    return {
        "generated": to_iso(moment),
        "data_dir": str(home),
        # What protects the keys, and what it does not: shown first, in plain words.
        "protection": describe_protection(home).to_dict(),
        "database": {
            "path": str(home / DB_NAME),
            "bytes": stats.file_bytes,
            "schema_version": stats.schema_version,
        },
        "total_bytes": sum(f.size for f in files),
        "categories": categories,
    }


def _vocabulary_category(
    store: MeetingStore, gate: Gate | None, key_text: str
) -> dict[str, object]:
    from app.vocabulary.store import VocabularyStore  # the vocabulary's rows are its own

    stats = VocabularyStore(store).stats()
    return {
        "category": "vocabulary",
        "count": stats.terms,
        "bytes": stats.payload_bytes,
        "oldest": to_iso(stats.oldest) if stats.oldest else None,
        "retention": {"period": "keep",
                      "meaning": "until you withdraw vocabulary_learning with deletion, remove "
                                 "the terms, or clear the list"},
        "next_automatic_erase": None,
        "stored_in": str(store.home / DB_NAME),
        "encryption": (f"{crypto.ALGORITHM} under the vocabulary's own key, wrapped by the master "
                       "key; only terms are kept (never sentences or which meeting said them); "
                       "counts, dates, origin and consent record ids are not encrypted"),
        "key_location": key_text,
        "consent": consent_state(gate, VOCABULARY_LEARNING),
    }


def format_report(report: Report) -> str:
    lines = [f"Candor data report ({report['generated']})", f"Data directory: {report['data_dir']}"]
    protection = report.get("protection")
    if isinstance(protection, dict):
        lines += ["", f"What protects your keys: {protection['mode']}",
                  f"  {protection['summary']}",
                  f"  What remains at risk: {protection['residual_risk']}"]
    categories = report["categories"]
    assert isinstance(categories, list)
    for cat in categories:
        lines.append("")
        lines.append(f"{cat['category'].replace('_', ' ').capitalize()}:")
        for label, key in (
            ("count", "count"), ("segments", "segments"), ("bytes", "bytes"),
            ("oldest item", "oldest"), ("next automatic erase", "next_automatic_erase"),
            ("stored in", "stored_in"), ("encryption", "encryption"),
            ("key location", "key_location"), ("note", "note"),
        ):
            if key in cat:
                value = cat[key]
                lines.append(f"  {label}: {'—' if value is None else value}")
        retention = cat.get("retention")
        if isinstance(retention, dict):
            text = retention.get("meaning") or retention.get("error")
            lines.append(f"  kept: {text}")
        consent = cat.get("consent")
        if isinstance(consent, dict):
            state = consent["state"]
            record = consent.get("record_id")
            lines.append(f"  consent ({consent['purpose']}): {state}"
                         + (f" (record {record})" if record else ""))
        for f in cat.get("files", []) if cat["category"] in ("set_aside_databases",
                                                             "other_files") else []:
            lines.append(f"  file: {f['path']} ({f['bytes']} bytes)")
    lines.append("")
    lines.append(f"Total on disk: {report['total_bytes']} bytes")
    return "\n".join(lines) + "\n"
