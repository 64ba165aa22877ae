"""Logging to a rotating file in the data directory and to stderr.

Policy: no log line ever contains transcript text or audio content; log counts, ids and timings.
"""

from __future__ import annotations

import errno
import io
import logging
import logging.handlers
import os
import sys

from app.paths import logs_dir

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_configured = False


class _LogFile(logging.handlers.RotatingFileHandler):
    """The log file; on a full disk a line that cannot be written is dropped without the
    "--- Logging error ---" traceback Python would print (the command says the disk is full)."""

    def handleError(self, record: logging.LogRecord) -> None:
        err = sys.exc_info()[1]
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            return
        super().handleError(record)

    def _open(self) -> io.TextIOWrapper:
        # Private whatever the umask: `candor privacy check` promises 0600 files, and the log
        # file was the one a fresh profile broke it with (created 0644 under umask 022).
        stream = super()._open()
        os.chmod(self.baseFilename, 0o600)
        return stream


def setup_logging(*, stderr_level: int = logging.WARNING) -> None:
    global _configured
    if _configured:
        return
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    file_handler = _LogFile(
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
