"""What the meeting store hands out (summaries, meetings, search hits, statistics) and the
errors it raises. Plain data: no database or key in here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.segments import Segment
from app.storage.database import StorageError


class UnknownMeeting(StorageError, LookupError):
    """No meeting has that id (or the prefix is ambiguous)."""


class MeetingGone(StorageError):
    """The meeting being recorded was deleted (for example by withdraw-and-delete)."""


class KeyUnavailable(StorageError):
    """The master key cannot be read, so stored transcripts cannot be opened."""


class DataDamaged(StorageError):
    """A stored value failed authentication."""


class UnknownSegment(StorageError, LookupError):
    """A meeting has no segment at that position."""


class MeetingInProgress(StorageError):
    """The meeting is still being recorded, so its transcript cannot be corrected yet."""


def to_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("meeting times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def from_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass(frozen=True)
class MeetingSummary:
    id: str
    title: str | None  # None when it could not be decrypted; `error` says why
    started: datetime
    ended: datetime | None
    device: str | None
    model: str | None
    language: str | None
    source: str
    segments: int
    interrupted: bool
    consent: dict[str, list[str]] = field(default_factory=dict)  # purpose -> ledger record ids
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "started": to_iso(self.started),
            "ended": to_iso(self.ended) if self.ended else None,
            "device": self.device,
            "model": self.model,
            "language": self.language,
            "source": self.source,
            "segments": self.segments,
            "interrupted": self.interrupted,
            "consent_records": self.consent,
            **({"error": self.error} if self.error else {}),
        }


@dataclass(frozen=True)
class Meeting:
    summary: MeetingSummary
    segments: list[Segment]  # as shown and exported: corrected text where corrected
    # position -> what the recogniser wrote, for each corrected segment ("show what was heard")
    heard: dict[int, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.summary.id

    @property
    def title(self) -> str:
        return self.summary.title or ""

    def metadata(self) -> dict[str, object]:
        return self.summary.to_dict()


@dataclass(frozen=True)
class SegmentCorrection:
    """One change to a stored segment's text, as the editor and the learning need it."""

    meeting_id: str
    index: int  # position in the meeting's segments, from 0
    heard: str  # what the recogniser wrote (kept, encrypted, since the first correction)
    before: str  # the text just before this change
    text: str  # the text now stored, shown and exported

    @property
    def corrected(self) -> bool:
        """False once the text is back to what was heard (an undo)."""
        return self.text != self.heard

    @property
    def changed(self) -> bool:
        return self.text != self.before


@dataclass(frozen=True)
class SearchHit:
    meeting: MeetingSummary
    title_match: bool
    matches: list[tuple[int, Segment]]  # (position in the meeting, segment)


@dataclass(frozen=True)
class StoreStats:
    meetings: int
    segments: int
    payload_bytes: int  # sealed titles, segment texts and wrapped keys
    file_bytes: int  # candor.db plus its WAL and SHM files
    oldest_started: datetime | None
    schema_version: int
