"""Consent receipts in the Kantara Initiative's Consent Receipt Specification v1.1 format.

Promise: `build_kantara_receipt` returns a receipt that validates against the specification's
published JSON schema (kept in tests/consent/ with its source, and checked there), using only
that specification's field names for its fields, so another tool can read what the user agreed
to. Everything it states comes from the ledger (the grant in force, its notice and collection
method, the `reviewed` notes) and the notice texts; nothing is invented for a controller that
does not exist: Candor has no provider, the person using it is their own controller.

Candor's richer receipt (every event, the full notice, the ledger head) stays the default
(`app.consent.receipts`); Candor-specific facts a Kantara reader can ignore (purpose id, ledger
record id, review dates) sit in one extension member per purpose, `candorExtension`; the
schema allows extra members.
"""

from __future__ import annotations

import locale
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from app.consent.gate import ConsentGate
from app.consent.purposes import (
    CONTRIBUTION,
    MICROPHONE,
    MODEL_DOWNLOAD,
    NOISE_SUPPRESSION,
    PURPOSES,
    RECORDING_STORAGE,
    SYSTEM_AUDIO,
    TRANSCRIPT_STORAGE,
    TRANSCRIPTION,
    VOCABULARY_LEARNING,
    Purpose,
    check_purpose,
)
from app.consent.review import ReviewPeriod, load_period, review_status
from app.paths import resources_dir

VERSION: Final = "KI-CR-v1.1.0"
SERVICE: Final = "Candor: meeting captions and transcripts, processed on this device"
CONTROLLER: Final = (
    "You: Candor runs on this device and no provider or other party receives your data"
)


class NothingGiven(ValueError):
    """A Kantara receipt records a consent; there is none to record. The message says why."""


# Kantara CR v1.1 Appendix: purpose categories and personal-information categories, by number.
CORE_FUNCTION: Final = "1 - Core Function"
PERSONALIZED_EXPERIENCE: Final = "5 - Personalized Experience"
IMPROVE_PERFORMANCE: Final = "16 - Improve Performance"
PII_COMMUNICATIONS: Final = "4 - Communications/Social"  # what people say in meetings
PII_NETWORK: Final = "5 - Network/Service"  # the network address a download server sees


@dataclass(frozen=True)
class KantaraPurpose:
    category: str
    pii: tuple[str, ...]
    primary: bool  # part of what Candor is for (captions), not an optional extra


PURPOSE_TABLE: dict[Purpose, KantaraPurpose] = {
    MICROPHONE: KantaraPurpose(CORE_FUNCTION, (PII_COMMUNICATIONS,), True),
    NOISE_SUPPRESSION: KantaraPurpose(CORE_FUNCTION, (PII_COMMUNICATIONS,), False),
    TRANSCRIPTION: KantaraPurpose(CORE_FUNCTION, (PII_COMMUNICATIONS,), True),
    TRANSCRIPT_STORAGE: KantaraPurpose(CORE_FUNCTION, (PII_COMMUNICATIONS,), False),
    RECORDING_STORAGE: KantaraPurpose(CORE_FUNCTION, (PII_COMMUNICATIONS,), False),
    VOCABULARY_LEARNING: KantaraPurpose(PERSONALIZED_EXPERIENCE, (PII_COMMUNICATIONS,), False),
    MODEL_DOWNLOAD: KantaraPurpose(CORE_FUNCTION, (PII_NETWORK,), False),
    SYSTEM_AUDIO: KantaraPurpose(CORE_FUNCTION, (PII_COMMUNICATIONS,), False),
    CONTRIBUTION: KantaraPurpose(IMPROVE_PERFORMANCE, (PII_COMMUNICATIONS,), False),
}

# How the ledger's collection_method reads in a receipt for someone who was not there.
COLLECTION_METHODS: dict[str, str] = {
    "cli": "Explicit opt-in on Candor's command line (`candor consent grant`) after the notice",
    "dialog": "Explicit opt-in in Candor's consent dialog, which shows the full notice",
    "panel": "Explicit opt-in in Candor's Privacy & consent panel, which shows the notice",
    "meeting_toolbar": "Explicit opt-in from the meeting window's switch, with the notice shown",
    "file_transcription": "Explicit opt-in when transcribing a file, with the notice shown",
    "first_run": "Explicit opt-in on Candor's first start, with the notice shown",
}


def _timestamp(moment: datetime) -> int:
    # The specification's consentTimestamp is a NumericDate: whole seconds since the epoch.
    return int(moment.timestamp())


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def jurisdiction_from_locale() -> str:
    """The country of the user's locale (en_GB → GB). Candor knows nothing better: it never
    asks where you are. "unknown" when the locale names no country."""
    for source in (os.environ.get("LC_ALL"), os.environ.get("LANG"), locale.getlocale()[0]):
        if source and "_" in source:
            country = source.split("_", 1)[1][:2]
            if country.isalpha():
                return country.upper()
    return "unknown"


def _termination(purpose: Purpose, retention: str) -> str:
    return (
        f"When you withdraw it: one click on 'Withdraw' in Privacy & consent, or "
        f"`candor consent revoke {purpose}`; processing stops at once. Kept: {retention}"
    )


def build_kantara_receipt(
    gate: ConsentGate,
    purposes: Iterable[str] | None = None,
    *,
    now: datetime | None = None,
    period: ReviewPeriod | None = None,
    jurisdiction: str | None = None,
) -> dict[str, object]:
    """One receipt for the permissions given now among `purposes` (all when None).

    consentTimestamp and collectionMethod are those of the most recent grant among them; each
    purpose's own grant, method and review dates are in its `candorExtension`. Raises
    NothingGiven when none of them is given (a receipt of no consent would be misleading).
    """
    wanted = [check_purpose(p) for p in (purposes if purposes is not None else PURPOSES)]
    moment = now or datetime.now(UTC)
    review_period = period or load_period()
    gate.refresh()
    given = [gate.state(p) for p in wanted if gate.state(p).granted]
    if not given:
        names = ", ".join(wanted) if purposes is not None else "any permission"
        raise NothingGiven(
            f"{names} is not given now, so there is no consent to put in a Kantara receipt; "
            "`candor consent receipt` (the default format) shows the full history"
        )
    entries: list[dict[str, object]] = []
    latest = None
    for state in given:
        purpose = check_purpose(state.purpose)
        grant = state.last_event
        assert grant is not None
        assert state.given_at is not None
        if latest is None or grant.seq > latest.seq:
            latest = grant
        notice = gate.notices.current(purpose)
        table = PURPOSE_TABLE[purpose]
        review = review_status(gate, moment, review_period, purpose)
        entries.append(
            {
                "purpose": f"{notice.title}: {notice.data}",
                "purposeCategory": [table.category],
                "consentType": "EXPLICIT",
                "piiCategory": list(table.pii),
                "primaryPurpose": table.primary,
                "termination": _termination(purpose, notice.retention),
                # Everything runs on this device; nothing is disclosed to anyone.
                "thirdPartyDisclosure": False,
                "candorExtension": {
                    "purposeId": purpose,
                    "ledgerRecordId": state.record_id,
                    "noticeVersion": notice.version,
                    "noticeSha256": notice.sha256,
                    "givenAt": _iso(datetime.fromisoformat(state.given_at)),
                    "collectionMethod": grant.collection_method,
                    "reviewPeriod": review_period,
                    "reviewedAt": [_iso(t) for t in review.reviewed_at] if review else [],
                    "reviewDueAt": _iso(review.due_at) if review else None,
                },
            }
        )
    assert latest is not None
    integrity = gate.ledger.verify()
    return {
        "version": VERSION,
        "jurisdiction": jurisdiction or jurisdiction_from_locale(),
        "consentTimestamp": _timestamp(datetime.fromisoformat(latest.event_time)),
        "collectionMethod": COLLECTION_METHODS.get(
            latest.collection_method, f"Explicit opt-in in Candor ({latest.collection_method})"
        ),
        "consentReceiptID": str(uuid.uuid4()),
        "language": "en",
        # A random id made when the ledger was started: it names this profile, not a person.
        "piiPrincipalId": gate.ledger.profile_id,
        "piiControllers": [
            {
                "piiController": CONTROLLER,
                "onBehalf": False,
                "contact": "the person using Candor on this device",
                "address": {},
                "email": "",
                "phone": "",
            }
        ],
        # The notices live with the app on this device; nothing is fetched from a web site.
        "policyUrl": (resources_dir() / "notices").resolve().as_uri(),
        "services": [{"service": SERVICE, "purposes": entries}],
        # Candor neither asks for nor infers special categories of data; voices are turned into
        # text and never used to identify anyone.
        "sensitive": False,
        "spiCat": [],
        "candorLedger": {"headHash": integrity.head_hash, "verified": integrity.ok},
    }
