"""Small user preferences kept as JSON in the data directory (never content, never consent:
consent lives only in the ledger)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.paths import data_dir
from app.private_files import write_private

SETTINGS_NAME = "settings.json"


class Settings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / SETTINGS_NAME
        try:
            self._values: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._values = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._values[key] = value
        write_private(self.path, json.dumps(self._values, indent=2))
