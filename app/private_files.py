"""Every file Candor creates is readable by its user only: files 0600, folders 0700.

Promise: no other account on this machine can read what Candor keeps or exports, even when the
user's shell has the usual umask (022, which gives 0644 files and 0755 folders). Kept three ways:
- `restrict_umask()` at the process's entry point (`app.cli.main`, so every command, the window
  and their child processes): whatever a library creates (SQLite, logging) is private too;
- `write_private()` for files Candor writes itself: created 0600 whatever the umask (a library
  caller, a test), and atomically (staged, fsynced, renamed, the folder fsynced), so a crash or
  power cut leaves the old file or the new one, never an empty one;
- `tighten()` at start: a data folder made by an older Candor (0755, 0644 files) is made private.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path
from typing import Final

PRIVATE_UMASK: Final = 0o077
FILE_MODE: Final = 0o600
FOLDER_MODE: Final = 0o700
_LOOSE: Final = stat.S_IRWXG | stat.S_IRWXO

log = logging.getLogger(__name__)


def restrict_umask() -> int:
    """Make everything this process creates from now on owner-only; returns the old umask."""
    return os.umask(PRIVATE_UMASK)


def fsync_folder(folder: Path) -> None:
    """Make a rename or a new file in `folder` survive a power cut (the entry is in the folder)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes | str) -> None:
    """Replace `path` by `data`, 0600, all or nothing. The staging file beside it is created with
    O_EXCL (no link is followed) and removed on failure; OSError says what went wrong."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    staging = path.with_name(f".{path.name}.saving")
    try:
        staging.unlink(missing_ok=True)  # a stale one from a crash
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(OSError):
            staging.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def create_private(path: Path) -> None:
    """Create `path` empty and 0600 if it does not exist (before a library opens it: SQLite and
    logging create files with the umask's mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE))


def tighten(folder: Path) -> list[Path]:
    """Take group and other permissions off `folder` and everything in it that this user owns;
    symbolic links are not followed. Returns what was changed."""
    changed: list[Path] = []
    uid = os.getuid()
    if not folder.is_dir():
        return changed
    for path in [folder, *folder.rglob("*")]:
        try:
            info = path.lstat()
        except FileNotFoundError:  # removed while we looked
            continue
        if info.st_uid != uid or not (info.st_mode & _LOOSE):
            continue
        if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
            continue
        wanted = FOLDER_MODE if stat.S_ISDIR(info.st_mode) else FILE_MODE
        try:
            path.chmod(stat.S_IMODE(info.st_mode) & wanted)
        except OSError as err:  # a read-only mount: say so, go on
            log.warning("could not make %s private: %s", path, err.strerror or err)
            continue
        changed.append(path)
    if changed:
        log.warning("made %d file(s) and folder(s) in %s private (group and others could "
                    "read them)", len(changed), folder)
    return changed
