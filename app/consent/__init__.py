"""Consent core: purposes, versioned notices, the hash-chained ledger, the gate, receipts.

No Qt and no AI module is imported here: the command line and every stage use this directly.
"""

from app.consent.contract import Gate
from app.consent.errors import (
    ConsentError,
    ConsentRequired,
    LedgerError,
    LedgerTampered,
    UnknownPurpose,
)
from app.consent.gate import (
    GIVEN,
    NOT_GIVEN,
    RECONSENT_NEEDED,
    ConsentGate,
    PurposeState,
    open_gate,
)
from app.consent.notices import Notice, NoticeCatalog
from app.consent.purposes import FEATURE_NEEDS, PURPOSES

__all__ = [
    "FEATURE_NEEDS",
    "GIVEN",
    "NOT_GIVEN",
    "PURPOSES",
    "RECONSENT_NEEDED",
    "ConsentError",
    "ConsentGate",
    "ConsentRequired",
    "Gate",
    "LedgerError",
    "LedgerTampered",
    "Notice",
    "NoticeCatalog",
    "PurposeState",
    "UnknownPurpose",
    "open_gate",
]
