"""Names Candor knows from the vocabulary: terms written like names ("Anna Kowalczyk"), which
the redactor always catches (redacted exports, contribution files)."""

from __future__ import annotations

import logging

from app.storage.database import StorageError
from app.storage.meetings import MeetingStore
from app.vocabulary.store import VocabularyStore

log = logging.getLogger(__name__)


def looks_like_name(term: str) -> bool:
    words = term.split()
    return bool(words) and all(w[:1].isupper() for w in words)


def vocabulary_names(store: MeetingStore) -> list[str]:
    """Every vocabulary term written like a name; [] when the vocabulary cannot be read (the
    redactor's other cues still run)."""
    try:
        return [t for t in VocabularyStore(store).texts() if looks_like_name(t)]
    except StorageError as err:
        log.warning("vocabulary unreadable for known names: %s", err)
        return []
