"""Helpers for consent tests: a private copy of the notices whose versions a test can bump."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.paths import resources_dir


def copy_notices(dest: Path) -> Path:
    target = dest / "notices"
    shutil.copytree(resources_dir() / "notices", target)
    return target


def bump_notice(notices: Path, purpose: str) -> int:
    """Publish a new version of a purpose's notice, as an app update would."""
    folder = notices / purpose
    current = max(int(f.stem[1:]) for f in folder.glob("v*.md"))
    text = (folder / f"v{current}.md").read_text()
    new = current + 1
    (folder / f"v{new}.md").write_text(text + f"\nChanged in version {new}.\n")
    return new
