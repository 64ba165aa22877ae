"""Logging to a rotating file in the data directory and to stderr.

Policy: no log line ever contains transcript text or audio content; log counts, ids and timings.
"""

from __future__ import annotations

import logging
import logging.handlers

from app.paths import logs_dir

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_configured = False


def setup_logging(*, stderr_level: int = logging.WARNING) -> None:
    global _configured
    if _configured:
        return
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    file_handler = logging.handlers.RotatingFileHandler(
        logs_dir() / "candor.log", maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    file_handler.setLevel(logging.INFO)
    stderr_handler = logging.StreamHandler()
    stderr_handler.setFormatter(logging.Formatter("candor: %(levelname)s: %(message)s"))
    stderr_handler.setLevel(stderr_level)
    root.addHandler(file_handler)
    root.addHandler(stderr_handler)
    _configured = True
