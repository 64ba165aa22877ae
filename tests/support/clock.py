"""An injected clock for the consent ledger: records get the time a test sets, not the wall's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


class LedgerClock:
    """Stands in for `app.consent.ledger.utc_now`; `advance` moves it on."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> str:
        return self.now.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def install_ledger_clock(monkeypatch: pytest.MonkeyPatch, start: datetime) -> LedgerClock:
    clock = LedgerClock(start)
    monkeypatch.setattr("app.consent.ledger.utc_now", clock)
    return clock
