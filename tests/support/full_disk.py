"""A real full disk: a small tmpfs mounted for one test (needs root and mount(2), as CI has).

`fill()` writes a filler file until the kernel answers ENOSPC, so every later write that needs a
new block fails exactly as on a full disk; `free()` deletes the filler.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path


class FullDisk:
    def __init__(self, mountpoint: Path) -> None:
        self.mountpoint = mountpoint
        self.filler = mountpoint / "filler.bin"

    def fill(self) -> int:
        """Fill the disk to the last byte; returns how many bytes the filler took."""
        written = 0
        with open(self.filler, "ab", buffering=0) as handle:
            for size in (1 << 16, 4096, 512, 1):
                block = b"\0" * size
                while True:
                    try:
                        written += handle.write(block) or 0
                    except OSError as err:
                        if err.errno != errno.ENOSPC:
                            raise
                        break
        return written

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@contextlib.contextmanager
def mounted_tmpfs(where: Path, size: str = "4m") -> Iterator[FullDisk]:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                           str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        raise PermissionError(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield FullDisk(where)
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
