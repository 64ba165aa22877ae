"""Saving a transcript to a file the user chooses: the save dialog (formats as filters) and the
one way every "Save as…" in the window reports success or failure. Rendering and writing are
app.storage.export's."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.segments import FORMATS
from app.storage import StorageError

FORMAT_FILTERS = {
    "txt": "Plain text (*.txt)",
    "srt": "SubRip subtitles (*.srt)",
    "vtt": "WebVTT subtitles (*.vtt)",
    "json": "JSON with timings and details (*.json)",
    "md": "Markdown (*.md)",
}

# Given a suggested file name without extension, returns the chosen path or "" for none.
PathChooser = Callable[[str], str]


def file_stem(title: str, fallback: str = "transcript") -> str:
    """A file name (without extension) made from a title: no path separators or odd marks."""
    return re.sub(r"[^\w\- ]+", "", title).strip()[:60] or fallback


def ask_transcript_path(parent: QWidget, caption: str, suggested: str) -> str:
    """The platform save dialog; a name without a known extension gets the chosen filter's."""
    filters = ";;".join(FORMAT_FILTERS.values())
    path, chosen = QFileDialog.getSaveFileName(
        parent, caption, suggested + ".txt", filters, FORMAT_FILTERS["txt"]
    )
    if path and Path(path).suffix.lower().lstrip(".") not in FORMATS:
        fmt = next((f for f, label in FORMAT_FILTERS.items() if label == chosen), "txt")
        path += "." + fmt
    return path


def save_transcript_as(
    parent: QWidget,
    caption: str,
    suggested: str,
    choose_path: PathChooser,
    write: Callable[[Path], str],
) -> Path | None:
    """Ask where, then `write(path)` (returns the format written; raises StorageError with a
    message for the user, shown here). The saved path, or None when nothing was written."""
    chosen = choose_path(suggested)
    if not chosen:
        return None
    path = Path(chosen)
    try:
        write(path)
    except StorageError as err:
        QMessageBox.warning(parent, caption, f"The transcript was not saved: {err}.")
        return None
    return path
