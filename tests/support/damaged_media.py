"""A file whose reading fails with a real EIO from the kernel, and FIFOs.

A read-only squashfs image holding the file is built with `mksquashfs`, a stretch of its
compressed data blocks is overwritten, and the image is loop-mounted: the header block still
reads, the damaged block fails to decompress and read(2) returns EIO - what a failing disk or
a pulled USB stick gives. Needs root (mount) and squashfs-tools (./bootstrap test installs it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

SQUASHFS_BLOCK = 4096  # small blocks: the header sits alone in the first one


def can_build() -> bool:
    return shutil.which("mksquashfs") is not None


@contextlib.contextmanager
def unreadable_copy(source: Path, workdir: Path) -> Iterator[Path]:
    """`source` on a mounted damaged squashfs: its first block reads, its middle gives EIO."""
    tree = workdir / "squash-src"
    tree.mkdir()
    shutil.copy(source, tree / source.name)
    image = workdir / "damaged.squashfs"
    subprocess.run(["mksquashfs", str(tree), str(image), "-noappend", "-quiet", "-no-progress",
                    "-comp", "gzip", "-b", str(SQUASHFS_BLOCK)], check=True,
                   capture_output=True)
    data = bytearray(image.read_bytes())
    # Data blocks come right after the 96-byte superblock and fill most of the image; 40 %
    # into it is well inside the file and far past its header block.
    at = int(len(data) * 0.4)
    data[at : at + 256] = bytes(b ^ 0xFF for b in data[at : at + 256])
    image.write_bytes(bytes(data))
    mountpoint = workdir / "damaged"
    mountpoint.mkdir()
    done = subprocess.run(["mount", "-t", "squashfs", "-o", "loop,ro", str(image),
                           str(mountpoint)], capture_output=True, text=True)
    if done.returncode != 0:
        raise PermissionError(f"cannot loop-mount a squashfs image here: {done.stderr.strip()}")
    try:
        yield mountpoint / source.name
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True)


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path
