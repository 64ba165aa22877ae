"""What the vocabulary tells the redactor: which of its terms are people's names, always caught
(redacted exports, contribution files), and which are terms that are no name ("Postgres",
"kubernetes"), never taken for a name from cues. Both come from one answer, `is_name`: the
user's mark first (a term marked "name" is always caught, whatever its spelling or the name
lists; one marked "term" is always kept), and for an unmarked term
`app.privacy.names.is_person_name`, the one the contribution filter uses too."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from app.privacy.names import is_person_name, looks_like_name
from app.privacy.redact import Redactor, known_names
from app.storage.database import StorageError
from app.storage.meetings import MeetingStore
from app.vocabulary.store import NAME, TERM, Term, VocabularyStore

log = logging.getLogger(__name__)
__all__ = ["is_name", "looks_like_name", "vocabulary_names", "vocabulary_redactor",
           "vocabulary_terms"]


def is_name(term: Term) -> bool:
    """Whether redaction always catches this vocabulary term (else it is allow-listed)."""
    if term.kind == NAME:
        return True
    if term.kind == TERM:
        return False
    return is_person_name(term.text)


def _caught(term: Term) -> bool:
    # An unmarked term is only caught when written like a name, as before marks existed: a
    # lower-case "marc" of the vocabulary is left to the redactor's own cues.
    return term.kind == NAME or (looks_like_name(term.text) and is_name(term))


def _terms(store: MeetingStore) -> list[Term]:
    try:
        return VocabularyStore(store).terms()
    except StorageError as err:
        log.warning("vocabulary unreadable for known names: %s", err)
        return []


def vocabulary_names(store: MeetingStore) -> list[str]:
    """Every vocabulary term redaction always catches; [] when the vocabulary cannot be read
    (the redactor's other cues still run)."""
    return [t.text for t in _terms(store) if _caught(t)]


def vocabulary_terms(store: MeetingStore) -> list[str]:
    """Every vocabulary term that is no person's name: the redactor's allow-list."""
    return [t.text for t in _terms(store) if not is_name(t)]


def vocabulary_redactor(store: MeetingStore, names: Iterable[str] = ()) -> Redactor:
    """A redactor that always catches the vocabulary's names and `names`, and never takes the
    vocabulary's other terms for names."""
    terms = _terms(store)
    return Redactor(known_names([*names, *(t.text for t in terms if _caught(t))]),
                    allowed_terms=[t.text for t in terms if not is_name(t)])
