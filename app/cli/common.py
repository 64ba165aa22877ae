"""Exit codes and errors shared by every sub-command."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CONSENT = 3


class CliError(Exception):
    """An error the user can act on; its message says what was wrong and what to do."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code
