"""What was produced under a purpose's grants, counted and deleted through its owner.

The consent core does not know about storage; this module connects a withdrawal's "and delete
what it produced" to the package that holds the data. The storage package is imported only when
asked, so `candor consent ...` stays light.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.consent.purposes import (
    RECORDING_STORAGE,
    TRANSCRIPT_STORAGE,
    TRANSCRIPTION,
    VOCABULARY_LEARNING,
    Purpose,
)

# Purposes whose grants produce data that "withdraw and delete" can erase: meetings, and the
# vocabulary's terms (app/vocabulary/store.py), both counted and deleted by consent record.
PRODUCING: frozenset[Purpose] = frozenset(
    {TRANSCRIPTION, TRANSCRIPT_STORAGE, RECORDING_STORAGE, VOCABULARY_LEARNING}
)


def count_derived(purpose: str, record_ids: Sequence[str]) -> int:
    if purpose not in PRODUCING or not record_ids:
        return 0
    from app.storage.deletion import count_data_for_purpose

    return count_data_for_purpose(purpose, list(record_ids))


def delete_derived(purpose: str, record_ids: Sequence[str]) -> int:
    if purpose not in PRODUCING or not record_ids:
        return 0
    from app.storage.deletion import delete_data_for_purpose

    return delete_data_for_purpose(purpose, list(record_ids))
