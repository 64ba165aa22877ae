"""The places of the window, one entry point each: what they are called, their icon, their
keyboard shortcut and what a screen reader says about them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PageId = Literal["meeting", "history", "privacy", "holdings", "settings"]


@dataclass(frozen=True, slots=True)
class PageSpec:
    id: PageId
    title: str
    icon: str  # freedesktop icon name; resources/icons holds a fallback
    shortcut: str
    description: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("meeting", "Meeting", "audio-input-microphone", "Ctrl+1",
             "Start and end a meeting, switch features on and off, read live captions"),
    PageSpec("history", "History", "document-open-recent", "Ctrl+2",
             "Stored meetings: open one, search, rename, export or delete"),
    PageSpec("privacy", "Privacy & consent", "security-high", "Ctrl+3",
             "See, give and withdraw every permission, and the consent history"),
    PageSpec("holdings", "What Candor holds", "drive-harddisk", "Ctrl+4",
             "Everything Candor stores on this device; export or erase it"),
    PageSpec("settings", "Settings", "preferences-system", "Ctrl+5",
             "Speech models, how long things are kept, noise, consent reviews, theme"),
)
PAGE_BY_ID: dict[PageId, PageSpec] = {p.id: p for p in PAGES}
