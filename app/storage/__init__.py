"""Stored meetings: an encrypted, crash-safe SQLite store with retention, export and erase.

No Qt here. The window and `candor listen` hold the InstanceLock, open the store with it, call
`recover_interrupted()` and a RetentionTimer, and plug a StoredMeetingSink into each meeting.
"""

from app.consent import ConsentRequired
from app.storage.database import DatabaseCorrupt, DiskFull, Recovery, StorageError, StoreBusy
from app.storage.deletion import count_data_for_purpose, delete_data_for_purpose
from app.storage.erase import EraseResult, erase_everything
from app.storage.export import export_all, export_meeting
from app.storage.instance_lock import AlreadyRunning, InstanceLock
from app.storage.meetings import MeetingStore
from app.storage.models import (
    DataDamaged,
    KeyUnavailable,
    Meeting,
    MeetingGone,
    MeetingInProgress,
    MeetingSummary,
    SearchHit,
    SearchResult,
    SegmentCorrection,
    UnknownMeeting,
    UnknownSegment,
)
from app.storage.report import build_report, format_report
from app.storage.retention import (
    RetentionResult,
    RetentionSettings,
    RetentionSettingsError,
    RetentionTimer,
    enforce_retention,
)
from app.storage.schema import SchemaTooNew
from app.storage.sink import SinkOutcome, StoredMeetingSink
from app.storage.store import open_store

__all__ = [
    "AlreadyRunning",
    "ConsentRequired",
    "DataDamaged",
    "DatabaseCorrupt",
    "DiskFull",
    "EraseResult",
    "InstanceLock",
    "KeyUnavailable",
    "Meeting",
    "MeetingGone",
    "MeetingInProgress",
    "MeetingStore",
    "MeetingSummary",
    "Recovery",
    "RetentionResult",
    "RetentionSettings",
    "RetentionSettingsError",
    "RetentionTimer",
    "SchemaTooNew",
    "SearchHit",
    "SearchResult",
    "SegmentCorrection",
    "SinkOutcome",
    "StorageError",
    "StoreBusy",
    "StoredMeetingSink",
    "UnknownMeeting",
    "UnknownSegment",
    "build_report",
    "count_data_for_purpose",
    "delete_data_for_purpose",
    "enforce_retention",
    "erase_everything",
    "export_all",
    "export_meeting",
    "format_report",
    "open_store",
]
