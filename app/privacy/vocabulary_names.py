"""What the vocabulary tells the redactor: which of its terms are people's names, always caught
(redacted exports, contribution files), and which are terms that are no name ("Postgres",
"kubernetes"), never taken for a name from cues. Both come from one answer,
`app.privacy.names.is_person_name`, the one the contribution filter uses too."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from app.privacy.names import is_person_name, looks_like_name
from app.privacy.redact import Redactor, known_names
from app.storage.database import StorageError
from app.storage.meetings import MeetingStore
from app.vocabulary.store import VocabularyStore

log = logging.getLogger(__name__)
__all__ = ["looks_like_name", "vocabulary_names", "vocabulary_redactor", "vocabulary_terms"]


def _texts(store: MeetingStore) -> list[str]:
    try:
        return VocabularyStore(store).texts()
    except StorageError as err:
        log.warning("vocabulary unreadable for known names: %s", err)
        return []


def vocabulary_names(store: MeetingStore) -> list[str]:
    """Every vocabulary term written like a name that is a person's name; [] when the vocabulary
    cannot be read (the redactor's other cues still run)."""
    return [t for t in _texts(store) if looks_like_name(t) and is_person_name(t)]


def vocabulary_terms(store: MeetingStore) -> list[str]:
    """Every vocabulary term that is no person's name: the redactor's allow-list."""
    return [t for t in _texts(store) if not is_person_name(t)]


def vocabulary_redactor(store: MeetingStore, names: Iterable[str] = ()) -> Redactor:
    """A redactor that always catches the vocabulary's names and `names`, and never takes the
    vocabulary's other terms for names."""
    texts = _texts(store)
    vocabulary = [t for t in texts if looks_like_name(t) and is_person_name(t)]
    return Redactor(known_names([*names, *vocabulary]),
                    allowed_terms=[t for t in texts if not is_person_name(t)])
