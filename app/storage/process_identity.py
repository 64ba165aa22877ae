"""Which process owns a meeting being recorded, in a form that survives pid reuse.

A pid alone is not an identity: after the owner dies the kernel may give its number to another
process, which would then look like the owner still recording. So a meeting records the pid and
a start token: on Linux the boot id (`/proc/sys/kernel/random/boot_id`, new at every boot) and
the process's start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`). A pid whose
start token differs, or a token from another boot, is a different process: the owner is gone.

Where `/proc` is missing (not Linux) the token is None and only the pid's existence is checked
(`os.kill(pid, 0)`); a recycled pid could then keep a crashed meeting "in progress" until that
other process ends, never the reverse (a live meeting is never closed as crashed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessIdentity:
    pid: int
    start: str | None  # "<boot id>/<start ticks>", or None where it cannot be known


@cache
def _boot_id() -> str | None:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _start_ticks(pid: int) -> str | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces and ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None  # field 22 overall: starttime


def start_token(pid: int) -> str | None:
    boot, ticks = _boot_id(), _start_ticks(pid)
    return f"{boot}/{ticks}" if boot and ticks else None


def current() -> ProcessIdentity:
    pid = os.getpid()
    return ProcessIdentity(pid, start_token(pid))


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def is_alive(owner: ProcessIdentity) -> bool:
    """Whether the process `owner` describes is still running (the same one, not a reuse)."""
    if owner.pid <= 0:
        return False
    if owner.start is None:
        return _pid_exists(owner.pid)
    now = start_token(owner.pid)
    if now is None:
        # No /proc entry: gone on Linux; elsewhere tokens are never recorded.
        return False
    return now == owner.start
