"""Freed memory goes back to the OS, so a meeting's resident size falls after each big step."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from app.transcription.heap import PeriodicRelease, release_freed_memory


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc only")
def test_memory_freed_by_many_small_buffers_is_returned() -> None:
    # Buffers below glibc's mmap threshold live on the heap; once freed, glibc keeps them
    # resident - what the live captions' window buffers do on every pass.
    release_freed_memory()
    buffers = [np.ones(16_000, dtype=np.float32) for _ in range(3000)]  # ~190 MB in 64 kB
    keep = buffers[-1]
    del buffers
    held = _rss_mb()
    assert release_freed_memory()
    assert _rss_mb() < held - 100, "freed heap memory stayed resident after the release"
    assert float(keep[0]) == 1.0  # what is still in use is untouched


def test_periodic_release_trims_at_most_once_per_interval() -> None:
    release = PeriodicRelease(interval=3600.0)
    assert release() is True
    assert release() is False  # too soon: a pass every second must not trim every second
