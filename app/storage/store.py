"""Opening the meeting store for a data directory."""

from __future__ import annotations

from pathlib import Path

from app.paths import data_dir
from app.storage.database import open_database
from app.storage.instance_lock import InstanceLock
from app.storage.meetings import MeetingStore


def open_store(
    home: Path | None = None, *, lock: InstanceLock | None = None, create: bool = True
) -> MeetingStore:
    """The meeting store for `home` (default: data_dir()).

    Pass the instance lock the caller holds (window, listen) so a damaged database can be set
    aside; `store.recovery` is then set and its `.message` must be shown to the user.
    `create=False` (read-only commands) opens an empty in-memory store when nothing is stored
    yet, instead of creating files. Raises DatabaseCorrupt, SchemaTooNew, StoreBusy.
    """
    root = home if home is not None else data_dir()
    conn, recovery = open_database(root, lock=lock, create=create)
    return MeetingStore(conn, root, recovery)
