"""Correcting a transcript, and learning from it when allowed: what the transcript editor and
`candor meetings correct` call.

A stored meeting's correction is stored under `transcript_storage` (MeetingStore.correct_segment);
the meeting just ended that was not kept is corrected in memory (app/meeting/transcript_edits.py),
nothing of it stored. Then, only if `vocabulary_learning` is given at that moment, the terms the
edit taught are counted in the vocabulary and the ones it took back are counted down
(learning.py); without the permission the correction is only a correction and nothing reaches
the vocabulary.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from app.consent import ConsentRequired, Gate
from app.consent.purposes import VOCABULARY_LEARNING
from app.meeting.transcript_edits import TranscriptEdits
from app.storage.database import StorageError
from app.storage.meetings import MeetingStore
from app.storage.models import SegmentCorrection
from app.vocabulary.learning import changed_terms
from app.vocabulary.store import VocabularyStore

log = logging.getLogger(__name__)

Learning = Literal["learned", "nothing_to_learn", "not_permitted", "failed"]


@dataclass(frozen=True)
class CorrectionOutcome:
    correction: SegmentCorrection
    learning: Learning
    learned: tuple[str, ...] = ()  # terms counted as corrected once more
    forgotten: tuple[str, ...] = ()  # learned terms an undo took out of the vocabulary
    problem: str = ""  # why the vocabulary could not be written ("failed")


def correct_segment(
    store: MeetingStore, meeting_id: str, index: int, text: str, gate: Gate
) -> CorrectionOutcome:
    """Store the correction; learn from it if `vocabulary_learning` is given. Raises what
    MeetingStore.correct_segment raises (ConsentRequired for transcript_storage, UnknownMeeting,
    UnknownSegment, MeetingInProgress)."""
    correction = store.correct_segment(meeting_id, index, text, gate)
    return _learn_kept(store, correction, gate)


def restore_heard(
    store: MeetingStore, meeting_id: str, index: int, gate: Gate
) -> CorrectionOutcome:
    """Undo every correction of a segment; what they taught is taken back (when allowed)."""
    correction = store.restore_heard(meeting_id, index, gate)
    return _learn_kept(store, correction, gate)


def correct_unsaved(edits: TranscriptEdits, index: int, text: str | None, gate: Gate,
                    store: MeetingStore | None) -> CorrectionOutcome:
    """Correct a segment of a transcript held only in memory (None: back to what was heard);
    the vocabulary in `store` learns from it when allowed. Nothing of the transcript is stored:
    it needs no `transcript_storage`. Raises UnknownSegment."""
    correction = edits.correct(index, text)
    if store is None:
        if not gate.allowed(VOCABULARY_LEARNING):
            return CorrectionOutcome(correction, "not_permitted")
        return CorrectionOutcome(correction, "failed",
                                 problem="the database is not open, so there is no vocabulary")
    return _learn_kept(store, correction, gate)


def _learn_kept(store: MeetingStore, correction: SegmentCorrection,
                gate: Gate) -> CorrectionOutcome:
    """Learn, never losing the correction made: a vocabulary that cannot be written is said,
    not raised (the caller would report the correction itself as failed)."""
    try:
        return _learn(store, correction, gate)
    except StorageError as err:
        log.warning("the vocabulary could not learn from a correction: %s", err)
        return CorrectionOutcome(correction, "failed", problem=str(err))


def _learn(store: MeetingStore, correction: SegmentCorrection, gate: Gate) -> CorrectionOutcome:
    if not gate.allowed(VOCABULARY_LEARNING):
        return CorrectionOutcome(correction, "not_permitted")
    changes = changed_terms(correction.heard, correction.before, correction.text)
    if not changes.learned and not changes.unlearned:
        return CorrectionOutcome(correction, "nothing_to_learn")
    vocabulary = VocabularyStore(store)
    try:
        learned = vocabulary.learn(changes.learned, gate) if changes.learned else []
        forgotten = vocabulary.unlearn(changes.unlearned, gate) if changes.unlearned else []
    except ConsentRequired:  # withdrawn between the check and the write: nothing learned
        return CorrectionOutcome(correction, "not_permitted")
    log.info("meeting %s segment %d: %d term(s) learned, %d forgotten",
             correction.meeting_id, correction.index, len(learned), len(forgotten))
    return CorrectionOutcome(
        correction,
        "learned" if learned or forgotten else "nothing_to_learn",
        tuple(t.text for t in learned),
        tuple(forgotten),
    )
