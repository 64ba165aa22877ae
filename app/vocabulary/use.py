"""Loading the vocabulary for a transcription: only while `vocabulary_learning` is given.

`load_bias` is the call a decoding path makes (files, the meeting's final pass): it returns None
without the permission or with an empty list, so nothing is read or decrypted then. Live
captions read the list with `load_terms` (app/vocabulary/captions.py). A vocabulary that cannot
be read never stops a transcription: it is reported in the log and by `candor vocabulary list`,
and the transcription runs unbiased.
"""

from __future__ import annotations

import logging
from pathlib import Path

from app.consent import Gate
from app.consent.purposes import VOCABULARY_LEARNING
from app.storage.database import StorageError
from app.storage.meetings import MeetingStore
from app.vocabulary.bias import VocabularyBias
from app.vocabulary.store import VocabularyStore

log = logging.getLogger(__name__)


def load_terms(
    gate: Gate, *, store: MeetingStore | None = None, home: Path | None = None
) -> tuple[str, ...]:
    """The vocabulary's terms, or () (not permitted, nothing held, or it cannot be read).

    Pass the caller's open store when there is one (the window); otherwise the data directory's
    store is opened read-only for the moment.
    """
    if not gate.allowed(VOCABULARY_LEARNING):
        return ()
    owned = store is None
    try:
        if store is None:
            from app.storage.store import open_store

            store = open_store(home, create=False)
        return tuple(VocabularyStore(store).texts())
    except StorageError as err:
        log.error("the vocabulary cannot be read, transcribing without it: %s", err)
        return ()
    finally:
        if owned and store is not None:
            store.close()


def load_bias(
    gate: Gate, *, store: MeetingStore | None = None, home: Path | None = None
) -> VocabularyBias | None:
    """The vocabulary as the recogniser uses it, or None (not permitted, or nothing held)."""
    terms = load_terms(gate, store=store, home=home)
    return VocabularyBias(gate, terms) if terms else None
