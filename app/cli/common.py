"""Exit codes and errors shared by every sub-command."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CONSENT = 3


# Why a running command stopped when `candor data erase` ran in another process (exit 3: no
# purpose is given any more).
ERASED_ELSEWHERE = "all data was erased by another Candor (`candor data erase`)"


class CliError(Exception):
    """An error the user can act on; its message says what was wrong and what to do."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code
