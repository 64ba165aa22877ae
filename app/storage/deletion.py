"""Withdraw and delete: erase exactly what was produced under given consent records.

Every stored meeting records the ledger record ids of the grants it was produced under
(`transcript_storage`, and `transcription` for its captions). Withdrawing either purpose with
deletion erases the meetings linked to that purpose's grant records and nothing else: meetings
produced under other records follow their own consent and retention. Every vocabulary term
records the `vocabulary_learning` grants it was learned or added under, and is deleted the same
way (by app.vocabulary, which owns those rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.consent.purposes import (
    RECORDING_STORAGE,
    TRANSCRIPT_STORAGE,
    TRANSCRIPTION,
    VOCABULARY_LEARNING,
    check_purpose,
)
from app.storage.meetings import MeetingStore
from app.storage.store import open_store

# Purposes whose grants produce stored data; the others (microphone, noise_suppression,
# model_download, ...) store nothing in this database.
PRODUCING_PURPOSES = (TRANSCRIPT_STORAGE, TRANSCRIPTION, RECORDING_STORAGE, VOCABULARY_LEARNING)


def _check(purpose: str) -> None:
    check_purpose(purpose)


def _with_store(store: MeetingStore | None, home: Path | None) -> tuple[MeetingStore, bool]:
    if store is not None:
        return store, False
    return open_store(home, create=False), True


def count_data_for_purpose(
    purpose: str,
    record_ids: Iterable[str],
    *,
    store: MeetingStore | None = None,
    home: Path | None = None,
) -> int:
    """How many stored items deleting `purpose`'s data would erase ("this will delete N")."""
    _check(purpose)
    if purpose not in PRODUCING_PURPOSES:
        return 0
    handle, owned = _with_store(store, home)
    try:
        if purpose == VOCABULARY_LEARNING:
            from app.vocabulary.store import VocabularyStore

            return VocabularyStore(handle).count_produced_under(record_ids)
        return handle.count_produced_under(record_ids)
    finally:
        if owned:
            handle.close()


def delete_data_for_purpose(
    purpose: str,
    record_ids: Iterable[str],
    *,
    store: MeetingStore | None = None,
    home: Path | None = None,
) -> int:
    """Delete the meetings produced under these grant records of `purpose`; returns the count.

    Pass the window's open store when there is one, so a meeting being recorded under one of
    these records stops being stored at its next caption.
    """
    _check(purpose)
    if purpose not in PRODUCING_PURPOSES:
        return 0
    handle, owned = _with_store(store, home)
    try:
        if purpose == VOCABULARY_LEARNING:
            from app.vocabulary.store import VocabularyStore

            return VocabularyStore(handle).delete_produced_under(record_ids)
        return handle.delete_produced_under(record_ids)
    finally:
        if owned:
            handle.close()
