"""Real processes for the crash-detection tests: one that has died, and a meeting's owner set
to it (as if the process recording it had crashed)."""

from __future__ import annotations

import sqlite3
import subprocess

from app.paths import data_dir
from app.storage import process_identity
from app.storage.database import DB_NAME


def dead_process() -> process_identity.ProcessIdentity:
    """The identity of a real process, taken while it ran; it has exited when this returns."""
    child = subprocess.Popen(["sleep", "60"])
    try:
        identity = process_identity.ProcessIdentity(child.pid,
                                                    process_identity.start_token(child.pid))
    finally:
        child.kill()
        child.wait()
    assert identity.start is not None
    return identity


def owned_by(meeting_id: str, owner: process_identity.ProcessIdentity) -> None:
    """Record `owner` as the process recording `meeting_id` (what `begin` records for itself)."""
    conn = sqlite3.connect(data_dir() / DB_NAME)
    with conn:
        conn.execute("UPDATE meetings SET owner_pid = ?, owner_start = ? WHERE id = ?",
                     (owner.pid, owner.start, meeting_id))
    conn.close()
