"""Live captions use the vocabulary (issue 12 §3): a committed caption is corrected toward the
learned terms by sound alone, only while `vocabulary_learning` is given, and a withdrawal stops
that from the next caption on. The real tiny.en model, the real ledger and store, speech spoken
by espeak-ng at test time; the scripted source is the device boundary only."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app.consent.purposes import VOCABULARY_LEARNING
from app.meeting.engine import MeetingEngine
from app.segments import Segment
from app.storage import open_store
from app.storage.sink import keep_transcript
from app.textmetrics import normalise
from app.vocabulary.bias import correct_caption
from app.vocabulary.captions import REFRESH_SECONDS, CaptionVocabulary
from app.vocabulary.corrections import correct_segment
from app.vocabulary.store import VocabularyStore
from app.vocabulary.use import load_terms
from benchmarks.devset import espeak_available, generate
from tests.support.data import read_wav
from tests.support.scripted_source import ScriptedSource, chunks_of, scripted
from tests.support.storage import granted_gate

TERM = "metformin"
TERMS = (TERM, "lisinopril")  # both learned from the one correction
HEARD = "The patient takes met for me in the morning and lives in upper left eye."
SAID = "The patient takes metformin in the morning and lisinopril at night."
PURPOSES = ("microphone", "transcription", "transcript_storage", VOCABULARY_LEARNING)


def _has_term(text: str, terms: tuple[str, ...] = (TERM,)) -> bool:
    return any(f" {t} " in f" {normalise(text)} " for t in terms)


def _learn(gate) -> tuple[str, ...]:
    """The user corrects a kept transcript, with learning given: the term is learned."""
    with open_store() as store:
        meeting = keep_transcript(store, gate, [Segment(0.0, 4.0, HEARD)], source="file",
                                  title="Hearing", seconds=4.0)
        assert meeting is not None
        assert set(TERMS) <= set(correct_segment(store, meeting, 0, SAID, gate).learned)
        return tuple(VocabularyStore(store).texts())


class Captions:
    """The window's side of the engine: every committed caption, as shown."""

    def __init__(self) -> None:
        self.finals: list[Segment] = []
        self.changed = threading.Condition()

    def on_caption(self, kind: str, segment: Segment) -> None:
        if kind == "final":
            with self.changed:
                self.finals.append(segment)
                self.changed.notify_all()

    def on_state(self) -> None:
        pass

    def on_problem(self, kind: str, message: str) -> None:
        pass

    def wait_for(self, condition, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not condition(self.finals):
                left = deadline - time.monotonic()
                assert left > 0, f"timed out; captions: {[s.text for s in self.finals]}"
                self.changed.wait(left)


@pytest.mark.model
def test_live_captions_spell_a_learned_term_and_stop_at_once_when_withdrawn(candor_home,
                                                                           tmp_path: Path):
    if not espeak_available():
        pytest.skip("espeak-ng is not installed")
    spoken = generate([SAID], tmp_path / "spoken", voices=["en-us"], speeds=[145])[0]
    samples, rate = read_wav(Path(spoken.path))
    assert rate == 16000
    gate = granted_gate(PURPOSES)
    terms = _learn(gate)
    pause = np.zeros(2 * rate, dtype=np.float32)
    # said twice: on a busy machine a caption can be committed in the middle of a misheard term
    # ("argued as" | "Tarple, and ..."), which no correction of a committed caption can mend
    first = np.concatenate([samples, pause, samples, pause])
    source = ScriptedSource(chunks_of(first), speed=1.25)
    captions = Captions()
    with open_store() as store:
        engine = MeetingEngine(gate, events=captions, store=store,
                               open_source=scripted({"microphone": source}))
        vocabulary = engine.caption_vocabulary
        engine.start()
        engine.set_feature("live_captions", True).result()
        engine.set_feature("microphone", True).result()
        # with the permission: the term is written where the recogniser heard a sound-alike
        captions.wait_for(lambda finals: _has_term(" ".join(s.text for s in finals), TERMS))
        shown = len(captions.finals)

        gate.withdraw(VOCABULARY_LEARNING, via="test")
        # the same sentence again, said after the withdrawal
        # paced like speech from now on: audio dumped at once would be skipped as lag
        again = max(len(first) / rate, source.timeline_now) + 1.0
        corrected = vocabulary.corrected
        source.extend(chunks_of(np.concatenate([samples, pause]), start=again))

        offset = engine.channels["microphone"].offset or 0.0
        spoken_end = offset + again + len(samples) / rate - 1.0

        def said_again(finals: list[Segment]) -> bool:  # committed to its last words
            return any(s.start >= offset + again - 0.5 and s.end >= spoken_end
                       for s in finals[shown:])

        captions.wait_for(said_again)
        engine.stop(final_pass=False)
    later = " ".join(s.text for s in captions.finals[shown:] if s.start >= offset + again - 0.5)
    assert later.strip(), "the sentence said after the withdrawal was captioned"
    assert not _has_term(later, TERMS), later
    assert vocabulary.corrected == corrected
    # not by chance: the vocabulary would have corrected what was heard (joined across commits)
    assert _has_term(correct_caption(later, terms), TERMS), later
    gate.close()


def test_the_caption_vocabulary_is_read_under_the_permission_and_dropped_with_it(candor_home):
    gate = granted_gate(("transcription", "transcript_storage", VOCABULARY_LEARNING))
    now = [0.0]
    with open_store() as store:
        VocabularyStore(store).add(["metformin"], gate)
        vocabulary = CaptionVocabulary(gate, lambda: load_terms(gate, store=store),
                                       clock=lambda: now[0])
        heard = "The patient takes met for me in the morning."
        assert "metformin" in vocabulary.correct(heard)

        # a term added during the meeting counts once the list is read again
        argued = "Their lawyer argued as topple and we answered on time."
        VocabularyStore(store).add(["estoppel"], gate)
        assert "estoppel" not in vocabulary.correct(argued)
        now[0] += REFRESH_SECONDS
        assert "estoppel" in vocabulary.correct(argued)

        gate.withdraw(VOCABULARY_LEARNING, via="test")
        assert vocabulary.correct(heard) == heard
        assert vocabulary.correct(argued) == argued

        gate.grant(VOCABULARY_LEARNING, via="test")
        assert "metformin" in vocabulary.correct(heard)
    gate.close()


def test_correct_english_is_left_alone_with_a_full_vocabulary():
    """No word of the shared general-speech references, nor of the meeting sentences, changes
    with 50 terms loaded."""
    import json

    from benchmarks._jargon import DOMAINS, EXTRA_GLOSSARY
    from benchmarks.devset import MEETING_SENTENCES
    from tests.support.data import speech_path

    terms = [t for d in DOMAINS for t in d.terms] + list(EXTRA_GLOSSARY)
    assert len(terms) == 50
    refs = json.loads(speech_path("transcripts.json").read_text())
    for text in [e["text"] for e in refs.values()] + list(MEETING_SENTENCES):
        assert correct_caption(text, terms) == text
