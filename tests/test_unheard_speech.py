"""Speech that no transcribed segment covers is decoded again on its own.

Whisper tiny.en sometimes jumps over a whole sentence of a meeting's final pass (3 of 17 runs of
benchmarks/live.py lost "she had your dark suit in greasy wash water all year", which the live
captions had). The jump itself cannot be made to happen on demand, so one test stands a small
wrapper in front of the real model that loses that sentence from the whole-piece decode as
Whisper did; everything else is the real model and the real voice-activity detector."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.textmetrics import normalise, wer
from app.transcription.engine import WhisperEngine
from app.transcription.speech_regions import SpeechRegion, unheard_spans
from tests.support.data import read_wav, reference_text


def test_unheard_spans_are_the_long_stretches_of_speech_after_what_was_heard():
    regions = [SpeechRegion(0.0, 4.0), SpeechRegion(5.0, 9.0), SpeechRegion(9.3, 10.0),
               SpeechRegion(12.0, 13.0)]
    # heard up to 4.5 s: 5-10 s (the 0.3 s pause bridged) is unheard, 12-13 s is too short
    assert unheard_spans(regions, 4.5, 20.0, shortest=2.0) == [(5.0, 10.0)]
    # heard up to 8.5 s: what is left of the second region is too short to decode again
    assert unheard_spans(regions, 8.5, 20.0, shortest=2.0) == []
    assert unheard_spans(regions, 0.0, 3.0, shortest=2.0) == [(0.0, 3.0)]


class _JumpsOverASentence:
    """The real model, but its decode of a whole piece loses the segment holding `word`."""

    def __init__(self, model: Any, word: str) -> None:
        self.model = model
        self.word = word
        self.lost = 0

    def transcribe(self, audio: np.ndarray, **options: Any) -> tuple[Any, Any]:
        segments, info = self.model.transcribe(audio, **options)
        if len(audio) < 30 * 16000:  # a stretch decoded again, not the piece
            return segments, info
        kept = []
        for segment in segments:
            if self.word in segment.text.lower():
                self.lost += 1
            else:
                kept.append(segment)
        return iter(kept), info

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


@pytest.mark.model
def test_a_sentence_whisper_jumps_over_is_decoded_again_and_nothing_is_repeated(shared_data):
    samples, _ = read_wav(shared_data / "speech" / "real_concat.wav")
    pcm = np.clip(samples * 32768, -32768, 32767).astype(np.int16)  # as a meeting keeps it
    reference = reference_text("real_concat.wav")
    engine = WhisperEngine(None)
    heard = " ".join(s.text for s in engine.iter_audio(pcm))
    jumping = _JumpsOverASentence(engine.load(), "greasy")
    engine._model = jumping  # the seam: the loaded model, as WhisperEngine.load() returns it
    recovered = " ".join(s.text for s in engine.iter_audio(pcm))
    assert jumping.lost == 1, "the sentence was not lost: the test proves nothing"
    assert "greasy wash water" in normalise(recovered), recovered
    words = normalise(recovered).split()
    assert words.count("greasy") == 1, recovered
    assert words.count("suit") == 1, recovered
    assert wer(reference, recovered) <= wer(reference, heard) + 0.02, recovered


@pytest.mark.model
def test_speech_decoded_again_goes_through_the_vocabulary_like_every_segment(
    shared_data, candor_home
):
    from app.vocabulary.bias import VocabularyBias
    from tests.support.storage import granted_gate

    samples, _ = read_wav(shared_data / "speech" / "real_concat.wav")
    pcm = np.clip(samples * 32768, -32768, 32767).astype(np.int16)
    gate = granted_gate(("transcription", "vocabulary_learning"))
    bias = VocabularyBias(gate, ("Thibodeaux", "Okonkwo"))
    engine = WhisperEngine(None, vocabulary=bias)
    jumping = _JumpsOverASentence(engine.load(), "greasy")
    engine._model = jumping
    recovered = list(engine.iter_audio(pcm))
    assert jumping.lost == 1
    assert any("greasy" in s.text.lower() for s in recovered)
    # each segment, the one decoded again included, was weighed against the vocabulary
    assert sum(bias.verdicts.values()) == len(recovered), (bias.verdicts, len(recovered))
    gate.close()
