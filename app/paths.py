"""Where Candor keeps its data and finds its bundled resources."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "Candor"
HOME_ENV = "CANDOR_HOME"


def data_dir() -> Path:
    """The one directory holding everything Candor stores; created 0700 on first use.

    `CANDOR_HOME` overrides the platform's user data directory (tests, portable installs).
    """
    override = os.environ.get(HOME_ENV)
    if override:
        path = Path(override).expanduser()
    else:
        from platformdirs import user_data_path

        path = user_data_path(APP_NAME, appauthor=False)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def logs_dir() -> Path:
    path = data_dir() / "logs"
    path.mkdir(exist_ok=True, mode=0o700)
    return path


def resources_dir() -> Path:
    """The `resources/` folder: inside the wheel as `app/_resources`, else beside `app/`."""
    packaged = Path(__file__).resolve().parent / "_resources"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "resources"


def models_manifest_path() -> Path:
    packaged = resources_dir() / "models" / "manifest.json"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "models" / "manifest.json"
