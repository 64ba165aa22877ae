"""One Candor at a time may record: an advisory lock on `<data dir>/candor.lock`.

The window and `candor listen` hold it for their whole life; commands that erase or repair data
take it briefly. The kernel drops the lock when the process dies (even on kill -9), so a crash
never leaves a stale lock behind. The file's text says who holds it, for the message the second
instance shows. Writing that text is best effort: on a full disk the lock is still taken (the
kernel holds it, not the file), only the holder's description is missing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from app.paths import data_dir

LOCK_NAME = "candor.lock"

log = logging.getLogger(__name__)


class AlreadyRunning(Exception):
    """Another Candor process holds the instance lock."""

    def __init__(self, holder: dict[str, object] | None, wanted: str) -> None:
        self.holder = holder or {}
        what = self.holder.get("holder", "another Candor process")
        pid = self.holder.get("pid")
        since = self.holder.get("since")
        detail = f"{what}, process {pid}" if pid else str(what)
        if since:
            detail += f", since {since}"
        super().__init__(
            f"Candor is already running ({detail}). Only one Candor can record or change stored "
            f"data at a time: finish or close that one, then run {wanted} again."
        )


def read_holder(path: Path) -> dict[str, object] | None:
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return None


class InstanceLock:
    def __init__(self, holder: str, home: Path | None = None) -> None:
        self.holder = holder
        self.path = (home if home is not None else data_dir()) / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        # Only now may the file be rewritten: before, it described the other holder.
        info = {
            "holder": self.holder,
            "pid": os.getpid(),
            "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        except OSError as err:  # ENOSPC: the lock holds anyway; a second instance sees less
            log.info("instance lock taken, but who holds it could not be written (%s)",
                     err.strerror or err)
        self._fd = fd
        return True

    def acquire(self, wait: float = 0.0) -> InstanceLock:
        """Take the lock or raise AlreadyRunning; `wait` seconds absorb a brief holder (a CLI
        command repairing or erasing) so starting the window at that moment still works."""
        deadline = time.monotonic() + wait
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise AlreadyRunning(read_holder(self.path), self.holder)
            time.sleep(0.05)
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

