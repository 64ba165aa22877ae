"""Consent receipts: what the user agreed to, shaped after ISO/IEC TS 27560 and the Kantara
Consent Receipt, with the ledger head hash so a receipt can be checked against the ledger.

This is Candor's own, richer receipt (every event, the notice text, review dates). A receipt in
the Kantara Consent Receipt v1.1 format, readable by other tools, is `app.consent.kantara`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from app import __version__
from app.consent.gate import ConsentGate
from app.consent.ledger import ALL_PURPOSES, utc_now
from app.consent.purposes import PURPOSES, check_purpose
from app.consent.review import ReviewPeriod, load_period, review_status

RECEIPT_SCHEMA = "candor-consent-receipt/1 (after ISO/IEC TS 27560:2023, Kantara CR v1.1)"
LOCATION = "this device"


def _withdrawal_method(purpose: str) -> str:
    return (
        "One click on 'Withdraw' in Candor's Privacy & consent panel, or "
        f"`candor consent revoke {purpose}`"
    )


def _event(record: object) -> dict[str, object]:
    fields = record.to_dict()  # type: ignore[attr-defined]
    return {
        "record_id": fields["record_id"],
        "event_time": fields["event_time"],
        "state": fields["state"],
        "type": fields["type"],
        "notice_version": fields["notice_version"],
        "notice_sha256": fields["notice_sha256"],
        "collection_method": fields["collection_method"],
        "app_version": fields["app_version"],
        "delete_data_requested": fields["delete_data_requested"],
        "record_hash": fields["record_hash"],
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _review(
    gate: ConsentGate, purpose: str, now: datetime, period: ReviewPeriod
) -> dict[str, object] | None:
    status = review_status(gate, now, period, purpose)
    if status is None:
        return None
    return {
        "period": status.period,
        "given_at": _iso(status.given_at),
        "reviewed_at": [_iso(t) for t in status.reviewed_at],
        "last_confirmed_at": _iso(status.last_confirmed_at),
        "review_due_at": _iso(status.due_at),
        "review_due": status.due,
    }


def build_receipt(
    gate: ConsentGate,
    purposes: Iterable[str] | None = None,
    *,
    now: datetime | None = None,
    period: ReviewPeriod | None = None,
) -> dict[str, object]:
    wanted = [check_purpose(p) for p in (purposes if purposes is not None else PURPOSES)]
    moment = now or datetime.now(UTC)
    review_period = period or load_period()
    gate.refresh()
    records = [r for r in gate.ledger.records()]
    integrity = gate.ledger.verify()
    processing = []
    for purpose in wanted:
        notice = gate.notices.current(purpose)
        state = gate.state(purpose)
        processing.append(
            {
                "purpose": purpose,
                "title": notice.title,
                "purpose_type": notice.purpose_type,
                "lawful_basis": "consent",
                "pii_information": notice.data,
                "processing_locations": [LOCATION],
                "storage_locations": [LOCATION],
                "retention_period": notice.retention,
                "withdrawal_method": _withdrawal_method(purpose),
                "recipient_third_parties": [],
                "notice": {
                    "version": notice.version,
                    "sha256": notice.sha256,
                    "text": notice.body,
                },
                "state": state.state,
                "record_id_in_force": state.record_id,
                # When it was given and last reviewed, and when it is due for review again
                # (None when not given, or single-use).
                "review": _review(gate, purpose, moment, review_period),
                "event": [_event(r) for r in records if r.purpose in (purpose, ALL_PURPOSES)],
            }
        )
    return {
        "schema_version": RECEIPT_SCHEMA,
        "record": {
            "receipt_id": str(uuid.uuid4()),
            "generated_at": utc_now(),
            "pii_principal_id": gate.ledger.profile_id,
            "controller": "You. Candor runs on this device and no provider receives your data.",
            "app_version": __version__,
        },
        "pii_processing": {"language": "en", "purposes": processing},
        "ledger": {
            "head_hash": integrity.head_hash,
            "records": integrity.checked,
            "verified": integrity.ok,
            "verification": integrity.describe(),
            "hash": "HMAC-SHA256 chain; key kept outside the ledger",
            "key_location": integrity.key_location,
        },
    }
