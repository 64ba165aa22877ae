"""How long stored data is kept, and erasing what has expired.

Settings live in `<data dir>/retention.json`. The clock is a parameter everywhere, so tests move
time instead of waiting. Enforcement deletes through MeetingStore.delete_meetings (rows and keys,
then a WAL checkpoint) and logs each erase with counts and ids, never content.

Call enforcement only from the process holding the instance lock (window, listen, or a CLI
command that took it): it must know which meetings are still being recorded.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.paths import data_dir
from app.private_files import write_private
from app.storage.database import StorageError
from app.storage.meetings import MeetingStore

log = logging.getLogger(__name__)

SETTINGS_FILE = "retention.json"
CATEGORIES = ("transcripts", "recordings")
END_OF_MEETING = "end_of_meeting"
KEEP = "keep"
PERIODS = (END_OF_MEETING, "7d", "30d", "90d", "365d", KEEP)
PERIOD_LABELS = {
    END_OF_MEETING: "until the end of the meeting",
    "7d": "7 days",
    "30d": "30 days",
    "90d": "90 days",
    "365d": "365 days",
    KEEP: "until you delete them",
}
CHECK_INTERVAL = timedelta(hours=1)


class RetentionSettingsError(StorageError):
    """The settings file cannot be read; nothing is erased until it is fixed."""


def parse_period(text: str) -> str:
    """Accepts the canonical names plus `7`, `30 days`, `end`; raises ValueError naming the
    choices."""
    value = text.strip().lower().replace(" ", "").replace("-", "_")
    aliases = {"end": END_OF_MEETING, "endofmeeting": END_OF_MEETING, "forever": KEEP}
    value = aliases.get(value, value)
    if value.endswith("days"):
        value = value[: -len("days")] + "d"
    elif value.isdigit():
        value += "d"
    if value not in PERIODS:
        raise ValueError(f"unknown retention period {text!r}; choose one of: {', '.join(PERIODS)}")
    return value


def period_delta(period: str) -> timedelta | None:
    """None means keep; zero means erase as soon as the meeting ends."""
    if period == KEEP:
        return None
    if period == END_OF_MEETING:
        return timedelta(0)
    return timedelta(days=int(period[:-1]))


@dataclass(frozen=True)
class RetentionSettings:
    transcripts: str = "30d"
    recordings: str = END_OF_MEETING

    def period(self, category: str) -> str:
        if category not in CATEGORIES:
            raise ValueError(f"unknown category {category!r}; choose one of: {CATEGORIES}")
        return str(getattr(self, category))

    def with_period(self, category: str, period: str) -> RetentionSettings:
        self.period(category)
        return replace(self, **{category: parse_period(period)})

    def to_dict(self) -> dict[str, str]:
        return {c: self.period(c) for c in CATEGORIES}

    @classmethod
    def load(cls, home: Path | None = None) -> RetentionSettings:
        path = (home if home is not None else data_dir()) / SETTINGS_FILE
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
            values = {c: parse_period(str(raw[c])) for c in CATEGORIES if c in raw}
        except (OSError, ValueError) as err:
            # Guessing a period here could erase what the user chose to keep: stop instead.
            raise RetentionSettingsError(
                f"the retention settings in {path} cannot be read ({err}). Nothing is erased "
                "automatically until they are set again, e.g. "
                "`candor data retention transcripts 30d`."
            ) from err
        return cls(**values)

    def save(self, home: Path | None = None) -> Path:
        path = (home if home is not None else data_dir()) / SETTINGS_FILE
        write_private(path, json.dumps(self.to_dict(), indent=2) + "\n")
        log.info("retention settings changed: %s", self.to_dict())
        return path


def expires_at(started: datetime, ended: datetime | None, period: str) -> datetime | None:
    """When a meeting's transcript expires (None: never). The clock starts when the meeting
    ended; a meeting that never recorded an end (crash) counts from its start."""
    delta = period_delta(period)
    if delta is None:
        return None
    return (ended or started) + delta


@dataclass(frozen=True)
class RetentionResult:
    category: str
    period: str
    checked_at: datetime
    erased: list[str]

    @property
    def count(self) -> int:
        return len(self.erased)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def expired_meetings(
    store: MeetingStore, now: datetime | None = None, *, settings: RetentionSettings
) -> list[str]:
    moment = _now(now)
    period = settings.transcripts
    active = store.active_meetings
    expired = []
    for meeting_id, started, ended in store.retention_rows():
        if meeting_id in active:
            continue
        due = expires_at(started, ended, period)
        if due is not None and due <= moment:
            expired.append(meeting_id)
    return expired


def enforce_retention(
    store: MeetingStore, now: datetime | None = None, *, settings: RetentionSettings | None = None
) -> RetentionResult:
    """Erase every stored transcript whose retention period has passed at `now`."""
    moment = _now(now)
    settings = settings or RetentionSettings.load(store.home)
    erased = store.delete_meetings(
        expired_meetings(store, moment, settings=settings),
        reason=f"retention: transcripts kept {settings.transcripts}",
    )
    if erased:
        log.info(
            "retention erased %d transcript(s) (category transcripts, period %s): %s",
            len(erased), settings.transcripts, ", ".join(erased),
        )
    # Recordings are not stored by this version, so there is nothing of that category to erase.
    return RetentionResult("transcripts", settings.transcripts, moment, erased)


def next_erase(
    store: MeetingStore, now: datetime | None = None, *, settings: RetentionSettings
) -> datetime | None:
    """The earliest moment a stored transcript will expire (None: nothing will)."""
    moment = _now(now)
    active = store.active_meetings
    dues = [
        expires_at(started, ended, settings.transcripts)
        for meeting_id, started, ended in store.retention_rows()
        if meeting_id not in active
    ]
    future = [d for d in dues if d is not None]
    if not future:
        return None
    return max(min(future), moment)


def erase_if_end_of_meeting(
    store: MeetingStore, meeting_id: str, *, settings: RetentionSettings | None = None
) -> bool:
    """Called when a meeting ends: with the 'end of meeting' period, erase it now."""
    try:
        settings = settings or RetentionSettings.load(store.home)
    except RetentionSettingsError:
        log.warning("retention settings unreadable: meeting %s kept", meeting_id)
        return False
    if settings.transcripts != END_OF_MEETING:
        return False
    erased = store.delete_meetings([meeting_id], reason="retention: end of meeting")
    if erased:
        log.info("retention erased 1 transcript (category transcripts, period end_of_meeting): "
                 "%s", meeting_id)
    return bool(erased)


class RetentionTimer:
    """The scheduler-friendly face of enforcement: call `tick()` at start-up and whenever
    `seconds_until_next()` says (a QTimer in the window, a loop in `candor listen`)."""

    def __init__(self, store: MeetingStore, interval: timedelta = CHECK_INTERVAL) -> None:
        self.store = store
        self.interval = interval
        self.last: RetentionResult | None = None
        self.error: str | None = None

    def tick(self, now: datetime | None = None) -> RetentionResult | None:
        """Enforce now. Returns None (and sets `error`, logged) when the settings are
        unreadable, so a timer keeps running and the UI can show the problem."""
        try:
            self.last = enforce_retention(self.store, now)
            self.error = None
        except RetentionSettingsError as err:
            self.error = str(err)
            log.warning("retention not enforced: %s", err)
            return None
        return self.last

    def seconds_until_next(self, now: datetime | None = None) -> float:
        """Seconds until the next tick is useful: the next expiry, at most one interval."""
        moment = _now(now)
        wait = self.interval.total_seconds()
        with contextlib.suppress(RetentionSettingsError):
            due = next_erase(self.store, moment, settings=RetentionSettings.load(self.store.home))
            if due is not None:
                wait = min(wait, max(0.0, (due - moment).total_seconds()))
        return wait
