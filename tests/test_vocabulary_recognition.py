"""The vocabulary in recognition (issue 12 §3, §5), with the real tiny.en model, the real ledger
and speech spoken by espeak-ng at test time: a name the recogniser gets wrong is corrected,
learned, and then recognised in a new recording of another sentence by another voice; a
withdrawal (also from another process) stops the biasing at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.consent.purposes import VOCABULARY_LEARNING
from app.storage import open_store
from app.storage.sink import keep_transcript
from app.textmetrics import normalise
from app.transcription.engine import WhisperEngine
from app.transcription.files import transcribe_file
from app.vocabulary.bias import VocabularyBias
from app.vocabulary.corrections import correct_segment
from app.vocabulary.store import VocabularyStore
from benchmarks.devset import espeak_available, generate
from tests.support.storage import granted_gate

pytestmark = pytest.mark.model

CANDOR = Path(sys.executable).parent / "candor"
TERM = "metformin"
# Corrected by the user (tiny.en heard "The patient takes met for me in the morning ...").
TAUGHT = ("The patient takes metformin in the morning and lisinopril at night.", "en-us", 145)
# Never corrected: another sentence, another voice and speed (tiny.en hears "mid-forming").
NEW = ("Remind her to take the metformin with food.", "en-029+f2", 195)


def _seeded() -> None:
    # faster-whisper falls back to sampling when a greedy decode looks wrong; a fixed seed keeps
    # "the next transcription equals the unbiased one" a comparison of like with like should
    # these recordings ever need the fallback (the withdrawal test checks the premise).
    import ctranslate2

    ctranslate2.set_random_seed(12)


def _has_term(text: str) -> bool:
    return f" {TERM} " in f" {normalise(text)} "


def _text(segments) -> str:
    return " ".join(s.text for s in segments)


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> dict[str, Path]:
    if not espeak_available():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("espeak-ng is missing in CI; ./bootstrap test installs it")
        pytest.skip("espeak-ng is not installed")
    out = tmp_path_factory.mktemp("spoken")
    paths = {}
    for key, (text, voice, speed) in (("taught", TAUGHT), ("new", NEW)):
        paths[key] = Path(generate([text], out / key, voices=[voice], speeds=[speed])[0].path)
    return paths


@pytest.fixture(scope="module")
def engine() -> WhisperEngine:
    model = WhisperEngine()
    model.load()
    return model


@pytest.fixture
def learned(candor_home, spoken, engine):
    """The user keeps the first recording's transcript and corrects it, with learning given."""
    gate = granted_gate(("transcription", "transcript_storage", VOCABULARY_LEARNING))
    _seeded()
    heard = transcribe_file(spoken["taught"], gate=gate, engine=engine, vocabulary=None)
    assert not _has_term(_text(heard)), "precondition: tiny.en mishears the term"
    with open_store() as store:
        meeting = keep_transcript(store, gate, heard, source="file", title="Ward round",
                                  seconds=heard[-1].end)
        assert meeting is not None
        for index in range(len(heard)):
            outcome = correct_segment(store, meeting, index, TAUGHT[0] if index == 0 else "",
                                      gate)
            if index == 0:
                assert TERM in outcome.learned
        terms = tuple(VocabularyStore(store).texts())
    yield gate, terms
    gate.close()


def test_a_corrected_term_is_recognised_in_a_new_recording(learned, spoken, engine):
    gate, _terms = learned
    _seeded()
    unbiased = _text(transcribe_file(spoken["new"], gate=gate, engine=engine, vocabulary=None))
    assert not _has_term(unbiased), unbiased
    _seeded()
    biased = _text(transcribe_file(spoken["new"], gate=gate, engine=engine))  # loads the list
    assert _has_term(biased), biased
    # the rest of the sentence is not rewritten toward the vocabulary
    assert normalise(biased).split()[-2:] == ["with", "food"]


def test_withdrawing_in_another_process_stops_biasing_at_once(learned, spoken, engine):
    gate, terms = learned
    bias = VocabularyBias(gate, terms)
    biased_engine = WhisperEngine(vocabulary=bias)
    biased_engine._model = engine.load()  # one model in memory
    _seeded()
    assert _has_term(_text(biased_engine.transcribe_audio(_audio(spoken["new"]))))
    _seeded()
    unbiased = _text(engine.transcribe_audio(_audio(spoken["new"])))
    _seeded()
    assert _text(engine.transcribe_audio(_audio(spoken["new"]))) == unbiased, \
        "premise: this recording transcribes the same way every time"

    gate.start_watching(interval=0.05)
    try:
        revoke = subprocess.run([str(CANDOR), "consent", "revoke", VOCABULARY_LEARNING],
                                capture_output=True, text=True, timeout=120,
                                env=os.environ.copy())
        assert revoke.returncode == 0, revoke.stderr
        deadline = time.monotonic() + 60
        while gate.allowed(VOCABULARY_LEARNING) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not gate.allowed(VOCABULARY_LEARNING)
    finally:
        gate.stop_watching()
    passes = dict(bias.verdicts)
    _seeded()
    assert _text(biased_engine.transcribe_audio(_audio(spoken["new"]))) == unbiased
    assert bias.verdicts == passes  # no biased pass was even attempted


def test_withdrawn_before_the_result_is_handed_over_the_unbiased_text_is(learned, spoken,
                                                                          engine):
    gate, terms = learned
    _seeded()
    unbiased = _text(transcribe_file(spoken["new"], gate=gate, engine=engine, vocabulary=None))

    bias = VocabularyBias(gate, terms)

    def withdraw_at_the_end(fraction: float) -> None:
        # once the vocabulary changed the segment (the last segment can report 1.0 before)
        if fraction >= 1.0 and bias.outcomes and gate.allowed(VOCABULARY_LEARNING):
            gate.withdraw(VOCABULARY_LEARNING, via="test")

    _seeded()
    segments = transcribe_file(spoken["new"], gate=gate, engine=engine, vocabulary=bias,
                               on_progress=withdraw_at_the_end)
    assert bias.outcomes, "the vocabulary changed the segment"
    assert not gate.allowed(VOCABULARY_LEARNING), "withdrawn before the result was handed over"
    assert _text(segments) == unbiased


def _audio(path: Path):
    from app.transcription.files import load_audio_file

    return load_audio_file(path)
