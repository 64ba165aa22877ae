"""Errors of the consent core. Each message says what is wrong and what the user can do."""

from __future__ import annotations

from collections.abc import Iterable


class ConsentError(Exception):
    """Base class for consent errors."""


class ConsentRequired(ConsentError):
    """A purpose needed for an action has not been given (or must be given again)."""

    def __init__(self, purposes: str | Iterable[str], reason: str = "") -> None:
        self.purposes = [purposes] if isinstance(purposes, str) else list(purposes)
        self.reason = reason
        grants = "; ".join(f"candor consent grant {p}" for p in self.purposes)
        names = ", ".join(f"'{p}'" for p in self.purposes)
        verb = "has" if len(self.purposes) == 1 else "have"
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"permission {names} {verb} not been given{detail}. Nothing was processed. "
            f"To allow it, run: {grants} — or use Privacy & consent in the window."
        )


class UnknownPurpose(ConsentError, ValueError):
    def __init__(self, purpose: str) -> None:
        from app.consent.purposes import PURPOSES

        self.purpose = purpose
        super().__init__(f"unknown purpose {purpose!r}; valid purposes are: {', '.join(PURPOSES)}")


class LedgerError(ConsentError):
    """The consent ledger cannot be read or trusted. The file is never modified."""


class LedgerTampered(LedgerError):
    """The ledger failed verification, so no grant in it is trusted (fail closed)."""
