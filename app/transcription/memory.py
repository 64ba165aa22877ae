"""Will a model fit in this machine's memory? Asked before a model is chosen, benchmarked or
loaded, so a model too large is refused with a message instead of the kernel killing Candor.

The need comes from the catalogue (`memory_mb`, see the manifest's notes for the rule and the
tiny.en measurement behind it) or, for a folder the catalogue does not know, from the same rule
applied to its model.bin. What is available is the kernel's MemAvailable (memory it can hand out
without swapping, page cache included), capped by the cgroup limit when Candor runs in one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.transcription.manifest import ModelSpec
from app.transcription.model_errors import ModelTooLarge

# Rule of the catalogue's memory_mb: working memory plus the float16 weights read and their
# int8 copy (measured on tiny.en: 190 MB peak, rule says 263 MB).
BASE_MB = 150
PER_WEIGHT_BYTE = 1.5
MB = 1024 * 1024

AvailableMemory = Callable[[], int]  # bytes


@dataclass(frozen=True, slots=True)
class MemoryFit:
    needed_mb: int
    available_mb: int

    @property
    def fits(self) -> bool:
        return self.needed_mb <= self.available_mb


def _cgroup_available() -> int | None:
    try:
        line = Path("/proc/self/cgroup").read_text().strip().splitlines()[0]
        group = Path("/sys/fs/cgroup") / line.split("::", 1)[1].lstrip("/")
        limit = (group / "memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int((group / "memory.current").read_text().strip())
        return max(0, int(limit) - used)
    except (OSError, IndexError, ValueError):
        return None


def available_memory() -> int:
    """Bytes this process could still use without swapping."""
    available: int | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError):
        pass
    if available is None:  # not Linux: ask the C library for free physical pages
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    cgroup = _cgroup_available()
    return min(available, cgroup) if cgroup is not None else available


def estimate_mb(spec: ModelSpec | None, folder: Path | None = None) -> int:
    if spec is not None and spec.memory_mb:
        return spec.memory_mb
    weights = 0
    if folder is not None and (folder / "model.bin").is_file():
        weights = (folder / "model.bin").stat().st_size
    elif spec is not None and spec.file("model.bin") is not None:
        weights = spec.file("model.bin").size or 0  # type: ignore[union-attr]
    return int(BASE_MB + PER_WEIGHT_BYTE * weights / MB)


def memory_fit(spec: ModelSpec | None, folder: Path | None = None, *,
               available: AvailableMemory | None = None) -> MemoryFit:
    return MemoryFit(estimate_mb(spec, folder), (available or available_memory)() // MB)


def check_fits(name: str, spec: ModelSpec | None, folder: Path | None = None, *,
               available: AvailableMemory | None = None) -> MemoryFit:
    """Raises ModelTooLarge, naming the model, what it needs and what is there."""
    fit = memory_fit(spec, folder, available=available)
    if not fit.fits:
        raise ModelTooLarge(
            f"model {name!r} needs about {fit.needed_mb} MB of memory and only {fit.available_mb}"
            " MB is available now; close other programs, or choose a smaller model "
            "(`candor models list` shows what each needs)"
        )
    return fit
