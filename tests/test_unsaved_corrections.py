"""Correcting the meeting just ended that was not kept (issue 12 §1): the real engine and model
with a scripted microphone, the real ledger and store. Corrections change the transcript in
memory (what Save transcript writes), never the store; the vocabulary learns from them only with
`vocabulary_learning`."""

from __future__ import annotations

import pytest

from app.meeting.engine import MeetingEngine
from app.storage import open_store
from app.storage.models import MeetingInProgress, UnknownSegment
from app.vocabulary.corrections import correct_unsaved
from app.vocabulary.store import VocabularyStore
from tests.support.scripted_source import ScriptedSource, chunks_of, scripted
from tests.support.storage import granted_gate
from tests.test_meeting_engine import jfk

pytestmark = pytest.mark.model

MEETING = ("microphone", "transcription")


def _ended_meeting(gate) -> MeetingEngine:
    """jfk.wav through a scripted microphone, nothing kept; raises nothing while it runs."""
    source = ScriptedSource(chunks_of(jfk()), speed=0.0)
    engine = MeetingEngine(gate, open_source=scripted({"microphone": source}))
    engine.start()
    engine.set_feature("live_captions", True).result()
    engine.set_feature("microphone", True).result()
    with pytest.raises(MeetingInProgress):
        engine.transcript_edits()  # the final pass would replace a correction made now
    engine.stop()
    return engine


def _with_name(text: str) -> str:
    assert "your country can do" in text, text
    return text.replace("your country can do", "Okonkwo can do", 1)


def test_a_correction_of_a_meeting_not_kept_is_exported_and_teaches_the_vocabulary(
    candor_home, tmp_path
):
    gate = granted_gate((*MEETING, "vocabulary_learning"))
    engine = _ended_meeting(gate)
    edits = engine.transcript_edits()
    index = next(i for i, s in enumerate(edits.segments) if "your country can do" in s.text)
    heard = edits.segments[index].text
    with open_store() as store:
        outcome = correct_unsaved(edits, index, _with_name(heard), gate, store)
        assert outcome.learning == "learned"
        assert outcome.learned == ("Okonkwo",)
        assert [t.text for t in VocabularyStore(store).terms()] == ["Okonkwo"]
        assert store.list_meetings() == [], "a meeting not kept is not stored by correcting it"

        # what Save transcript as… writes is the corrected text
        engine.save_to_file(tmp_path / "meeting.txt")
        saved = (tmp_path / "meeting.txt").read_text()
        assert _with_name(heard) in saved
        assert heard not in saved
        assert edits.heard == {index: heard}

        # back to what was heard: the term it taught is taken back
        undone = correct_unsaved(edits, index, None, gate, store)
        assert undone.forgotten == ("Okonkwo",)
        assert engine.ended_transcript()[index].text == heard
        assert edits.heard == {}
        assert VocabularyStore(store).terms() == []

        # an emptied segment is no longer part of what is saved
        before = len(engine.ended_transcript())
        correct_unsaved(edits, index, "", gate, store)
        assert len(engine.ended_transcript()) == before - 1
        with pytest.raises(UnknownSegment):
            correct_unsaved(edits, len(edits.segments), "x", gate, store)
    gate.close()


def test_without_learning_a_correction_is_only_a_correction_and_erasing_forgets_it(candor_home):
    gate = granted_gate(MEETING)
    engine = _ended_meeting(gate)
    edits = engine.transcript_edits()
    index = next(i for i, s in enumerate(edits.segments) if "your country can do" in s.text)
    with open_store() as store:
        outcome = correct_unsaved(edits, index, _with_name(edits.segments[index].text), gate,
                                  store)
        assert outcome.learning == "not_permitted"
        assert VocabularyStore(store).terms() == []
    assert "Okonkwo" in engine.ended_transcript()[index].text

    engine.abandon()  # everything erased: the corrected text and what was heard go too
    assert edits.segments == []
    assert edits.heard == {}
    assert engine.ended_transcript() == []
    with pytest.raises(MeetingInProgress):
        engine.transcript_edits()
    gate.close()
