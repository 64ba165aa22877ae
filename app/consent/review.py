"""Consent reviewed over time: a permission given long ago is due to be looked at again.

Promise: every permission that has been given (or last reviewed) longer ago than the review
period is reported as due; keeping it records a `reviewed` note in the ledger, and nothing else
ever changes because a review is due — ignoring it leaves every permission as it was.

How: the dates come only from the ledger (the grant in force and the `reviewed` notes recorded
after it, see `ConsentGate.notes`), the period from `settings.json` (`consent_review_period`),
and the moment from the caller (`now`), so tests move the clock instead of waiting. Single-use
permissions (model download, contribution) are asked each time and are never due.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal, get_args

from app.consent.errors import ConsentRequired
from app.consent.gate import ConsentGate
from app.consent.ledger import LedgerRecord
from app.consent.purposes import SINGLE_USE, Purpose, check_purpose
from app.settings import Settings

ReviewPeriod = Literal["3m", "6m", "12m", "never"]
REVIEW_PERIODS: tuple[ReviewPeriod, ...] = get_args(ReviewPeriod)
DEFAULT_REVIEW_PERIOD: Final[ReviewPeriod] = "6m"
SETTING_KEY: Final = "consent_review_period"
PERIOD_LABELS: dict[ReviewPeriod, str] = {
    "3m": "every 3 months",
    "6m": "every 6 months",
    "12m": "every 12 months",
    "never": "never",
}
REVIEWED: Final = "reviewed"


class ReviewError(ValueError):
    """A review asked for something that cannot be reviewed; the message says what to do."""


def parse_period(text: str) -> ReviewPeriod:
    value = text.strip().lower().replace(" ", "")
    aliases = {"3": "3m", "6": "6m", "12": "12m", "3months": "3m", "6months": "6m",
               "12months": "12m", "1y": "12m", "year": "12m", "off": "never"}
    value = aliases.get(value, value)
    for period in REVIEW_PERIODS:
        if value == period:
            return period
    raise ReviewError(
        f"unknown review period {text!r}; choose one of: {', '.join(REVIEW_PERIODS)}"
    )


def load_period(settings: Settings | None = None) -> ReviewPeriod:
    """The user's review period; an unreadable value falls back to the default (6 months) —
    the safer side, since a review only asks and never changes a permission."""
    raw = (settings or Settings()).get(SETTING_KEY, DEFAULT_REVIEW_PERIOD)
    try:
        return parse_period(str(raw))
    except ReviewError:
        return DEFAULT_REVIEW_PERIOD


def save_period(period: ReviewPeriod, settings: Settings | None = None) -> None:
    (settings or Settings()).set(SETTING_KEY, parse_period(period))


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later, clamped to the month's last day (31 Aug + 6 months = 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_date(last_confirmed: datetime, period: ReviewPeriod) -> datetime | None:
    if period == "never":
        return None
    return add_months(last_confirmed, int(period[:-1]))


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ReviewStatus:
    """Where one given permission stands with respect to review (for `consent list`, the
    receipt, and the window's review banner)."""

    purpose: Purpose
    record_id: str  # the grant in force
    given_at: datetime
    reviewed_at: tuple[datetime, ...]  # `reviewed` notes since that grant, oldest first
    period: ReviewPeriod
    due_at: datetime | None  # None: the period is "never"
    due: bool

    @property
    def last_reviewed_at(self) -> datetime | None:
        return self.reviewed_at[-1] if self.reviewed_at else None

    @property
    def last_confirmed_at(self) -> datetime:
        """When the user last said yes to it: the grant or the latest review."""
        return self.last_reviewed_at or self.given_at


def _reviews_since(gate: ConsentGate, purpose: str, grant: LedgerRecord) -> list[LedgerRecord]:
    return [r for r in gate.notes(purpose, REVIEWED) if r.seq > grant.seq]


def review_status(
    gate: ConsentGate, now: datetime, period: ReviewPeriod, purpose: str
) -> ReviewStatus | None:
    """The review status of `purpose`, or None when it is not given or is single-use."""
    checked = check_purpose(purpose)
    state = gate.state(checked)
    grant = state.last_event
    if not state.granted or checked in SINGLE_USE or grant is None or not state.record_id:
        return None
    reviews = tuple(parse_time(r.event_time) for r in _reviews_since(gate, checked, grant))
    given = parse_time(grant.event_time)
    due_at = due_date(reviews[-1] if reviews else given, period)
    return ReviewStatus(
        purpose=checked,
        record_id=state.record_id,
        given_at=given,
        reviewed_at=reviews,
        period=period,
        due_at=due_at,
        due=due_at is not None and due_at <= now,
    )


def review_statuses(gate: ConsentGate, now: datetime, period: ReviewPeriod,
                    *, refresh: bool = True) -> list[ReviewStatus]:
    """Every given (not single-use) permission, in the purpose table's order. `refresh=False`
    for a caller that reacts to the gate's change signal (a refresh would signal again) and
    whose gate is kept fresh by `start_watching`."""
    if refresh:
        gate.refresh()
    found = (review_status(gate, now, period, s.purpose) for s in gate.states())
    return [s for s in found if s is not None]


def due_for_review(gate: ConsentGate, now: datetime, period: ReviewPeriod,
                   *, refresh: bool = True) -> list[ReviewStatus]:
    """The permissions the window's banner lists: given for longer than the period without a
    review. Empty when the period is "never"."""
    return [s for s in review_statuses(gate, now, period, refresh=refresh) if s.due]


def keep(gate: ConsentGate, purposes: Iterable[str], via: str) -> list[LedgerRecord]:
    """Record that the user looked at these given permissions again and kept them.

    Checks every purpose first, so a bad one records nothing; ReviewError names it."""
    wanted = [check_purpose(p) for p in purposes]
    for purpose in wanted:
        if purpose in SINGLE_USE:
            raise ReviewError(
                f"{purpose!r} is asked for each time it is used, so it is never reviewed"
            )
        if not gate.allowed(purpose):
            raise ReviewError(
                f"{purpose!r} is not given, so there is nothing to keep; give it with "
                f"`candor consent grant {purpose}` if you want it"
            )
    records = []
    for purpose in wanted:
        try:
            records.append(gate.record_note(purpose, REVIEWED, via=via))
        except ConsentRequired as err:  # withdrawn by another process in the meantime
            raise ReviewError(f"{purpose!r} was withdrawn meanwhile; nothing more was kept") \
                from err
    return records
