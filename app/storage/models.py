"""What the meeting store hands out (summaries, meetings, search hits, statistics) and the
errors it raises. Plain data: no database or key in here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.segments import SOURCE_LABELS, Labels, Segment
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


# Shown in place of a segment that fails authentication (Meeting.damaged lists where).
DAMAGED_SEGMENT_TEXT = "[this segment is damaged and cannot be read]"


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
    # who each source is in this meeting: "You" / "Others" unless renamed (set_labels)
    labels: Labels = field(default_factory=lambda: dict(SOURCE_LABELS))

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
            "labels": dict(self.labels),
            **({"error": self.error} if self.error else {}),
        }


@dataclass(frozen=True)
class Meeting:
    summary: MeetingSummary
    segments: list[Segment]  # as shown and exported: corrected text where corrected
    # position -> what the recogniser wrote, for each corrected segment ("show what was heard")
    heard: dict[int, str] = field(default_factory=dict)
    # Positions in `segments` whose stored text failed authentication; they hold
    # DAMAGED_SEGMENT_TEXT so times and order stay as recorded.
    damaged: tuple[int, ...] = ()

    @property
    def id(self) -> str:
        return self.summary.id

    @property
    def title(self) -> str:
        return self.summary.title or ""

    @property
    def labels(self) -> Labels:
        return self.summary.labels

    def metadata(self) -> dict[str, object]:
        data = self.summary.to_dict()
        if self.damaged:
            data["damaged_segments"] = list(self.damaged)
        return data


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


@dataclass
class SearchResult:
    """A search's hits and what it could not look into: segments that failed authentication
    (meeting id -> how many) and meetings that cannot be read at all."""

    hits: list[SearchHit] = field(default_factory=list)
    damaged_segments: dict[str, int] = field(default_factory=dict)
    unreadable_meetings: list[str] = field(default_factory=list)

    @property
    def skipped_segments(self) -> int:
        return sum(self.damaged_segments.values())

    def skipped_note(self) -> str | None:
        """One sentence saying what was not searched, or None when everything was."""
        parts = []
        if self.damaged_segments:
            n, m = self.skipped_segments, len(self.damaged_segments)
            parts.append(f"{n} damaged segment{'s' if n != 1 else ''} in {m} "
                         f"meeting{'s' if m != 1 else ''} ({', '.join(self.damaged_segments)})")
        if self.unreadable_meetings:
            n = len(self.unreadable_meetings)
            parts.append(f"{n} meeting{'s' if n != 1 else ''} that cannot be read "
                         f"({', '.join(self.unreadable_meetings)})")
        if not parts:
            return None
        return "not searched: " + " and ".join(parts)


@dataclass(frozen=True)
class StoreStats:
    meetings: int
    segments: int
    payload_bytes: int  # sealed titles, segment texts and wrapped keys
    file_bytes: int  # candor.db plus its WAL and SHM files
    oldest_started: datetime | None
    schema_version: int
