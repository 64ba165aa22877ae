"""A keyring backend kept in a JSON file, standing in for the OS keyring (Secret Service,
macOS Keychain, Windows Credential Locker), which cannot run on this headless machine.

Installed explicitly by tests (keyring.set_keyring) or, in a subprocess, through
PYTHON_KEYRING_BACKEND=tests.support.memory_keyring.FileKeyring plus FILE_KEYRING_PATH.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self, path: Path | None = None) -> None:
        super().__init__()
        self.path = Path(path or os.environ["FILE_KEYRING_PATH"])

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        return json.loads(self.path.read_text())

    def _save(self, data: dict[str, str]) -> None:
        self.path.write_text(json.dumps(data))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\x00{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\x00{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}\x00{username}", None) is None:
            raise PasswordDeleteError("not found")
        self._save(data)

    def entries(self) -> dict[str, str]:
        return self._load()
