"""Live captions and the vocabulary: each committed caption corrected toward the learned terms by
sound alone (bias.correct_caption), only while `vocabulary_learning` is given.

The cheap part of the vocabulary: no second decode, so captions keep their pace. The permission
is checked before every caption (lock-free; the gate's watcher brings in a withdrawal made in
another process), so a withdrawal stops the correction from the next caption on, and the list
held in memory is dropped with it. The list is read again after a grant, and every
REFRESH_SECONDS while in use, so a term added or removed during a meeting counts from then on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from app.consent import Gate
from app.consent.purposes import VOCABULARY_LEARNING
from app.vocabulary.bias import correct_caption

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0


class CaptionVocabulary:
    """`correct(text)` for committed captions; `load` returns the terms (use.load_terms)."""

    def __init__(self, gate: Gate, load: Callable[[], Sequence[str]], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.gate = gate
        self._load = load
        self._clock = clock
        self._terms: tuple[str, ...] | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        self.corrected = 0  # captions changed, for the log and the tests

    def _current(self) -> tuple[str, ...]:
        with self._lock:
            now = self._clock()
            if self._terms is None or now - self._loaded_at >= REFRESH_SECONDS:
                try:
                    self._terms = tuple(self._load())
                except Exception:  # a vocabulary that cannot be read never stops captions
                    log.exception("the vocabulary cannot be read: captions go on without it")
                    self._terms = ()
                self._loaded_at = now
            return self._terms

    def correct(self, text: str) -> str:
        if not self.gate.allowed(VOCABULARY_LEARNING):
            with self._lock:
                self._terms = None  # withdrawn: nothing of the list stays in use
            return text
        terms = self._current()
        if not terms or not text.strip():
            return text
        corrected = correct_caption(text, terms)
        if not self.gate.allowed(VOCABULARY_LEARNING):  # withdrawn while it was corrected
            return text
        if corrected != text:
            self.corrected += 1
        return corrected
