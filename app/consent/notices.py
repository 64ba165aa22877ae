"""Versioned notice texts: resources/notices/<purpose>/v<N>.md; the highest N is current.

Old versions stay beside the current one so a receipt can always show the exact text that was
agreed to. The SHA-256 recorded in the ledger is of the notice body exactly as shown to the user.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from app.consent.errors import ConsentError
from app.consent.purposes import PURPOSES, check_purpose

_VERSION_FILE = re.compile(r"^v(\d+)\.md$")


@dataclass(frozen=True)
class Notice:
    purpose: str
    version: int
    title: str
    summary: str
    data: str
    purpose_type: str
    retention: str
    body: str

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()


def parse_notice(purpose: str, version: int, text: str) -> Notice:
    if not text.startswith("---\n"):
        raise ConsentError(f"notice {purpose} v{version} has no header block")
    header, _, body = text[4:].partition("\n---\n")
    fields: dict[str, str] = {}
    for line in header.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    missing = {"title", "summary", "data", "retention"} - fields.keys()
    if missing:
        raise ConsentError(f"notice {purpose} v{version} lacks {', '.join(sorted(missing))}")
    return Notice(
        purpose=purpose,
        version=version,
        title=fields["title"],
        summary=fields["summary"],
        data=fields["data"],
        purpose_type=fields.get("purpose_type", "Service provision"),
        retention=fields["retention"],
        body=body.strip() + "\n",
    )


class NoticeCatalog:
    def __init__(self, root: Path | None = None) -> None:
        if root is None:
            from app.paths import resources_dir

            root = resources_dir() / "notices"
        self.root = root
        self._cache: dict[tuple[str, int], Notice] = {}

    def versions(self, purpose: str) -> list[int]:
        check_purpose(purpose)
        folder = self.root / purpose
        found = sorted(
            int(m.group(1))
            for f in (folder.iterdir() if folder.is_dir() else ())
            if (m := _VERSION_FILE.match(f.name))
        )
        if not found:
            raise ConsentError(
                f"no notice text for {purpose!r} in {folder}; the installation is incomplete — "
                "reinstall Candor"
            )
        return found

    def current_version(self, purpose: str) -> int:
        return self.versions(purpose)[-1]

    def get(self, purpose: str, version: int | None = None) -> Notice:
        if version is None:
            version = self.current_version(purpose)
        key = (purpose, version)
        if key not in self._cache:
            path = self.root / purpose / f"v{version}.md"
            if not path.is_file():
                raise ConsentError(f"notice {purpose} v{version} is missing ({path})")
            self._cache[key] = parse_notice(purpose, version, path.read_text(encoding="utf-8"))
        return self._cache[key]

    def current(self, purpose: str) -> Notice:
        return self.get(purpose)

    def all_current(self) -> list[Notice]:
        return [self.current(p) for p in PURPOSES]

    def forget(self) -> None:
        """Drop cached texts so a changed notice folder is read again."""
        self._cache.clear()
