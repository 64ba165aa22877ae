"""Where a recording holds speech: the same regions as faster-whisper's get_speech_timestamps,
scored a few seconds at a time (it scored up to 320 s at once: +90 MB for a 120 s piece)."""

from __future__ import annotations

import numpy as np
import pytest
from faster_whisper.vad import VadOptions, get_speech_timestamps

from app.transcription.speech_regions import (
    SCORE_BLOCK_S,
    speech_probabilities,
    speech_regions,
    speech_spans,
)
from app.transcription.vad import StreamingVadScorer
from tests.support.data import NOISE, read_wav, speech_path


def _wav(path) -> np.ndarray:
    samples, rate = read_wav(path)
    assert rate == 16000
    return samples


def _cases() -> dict[str, np.ndarray]:
    speech = _wav(speech_path("real_concat.wav"))
    babble = _wav(NOISE / "noise_babble.wav")[: len(speech)]
    second = 16000
    silence = np.zeros(5 * second, dtype=np.float32)
    return {
        "speech": speech,
        "jfk": _wav(speech_path("jfk.wav")),
        # pauses longer and shorter than the 2 s that ends speech, and the 0.8 s padding
        "pauses": np.concatenate([speech[: 7 * second], silence, speech[20 * second: 33 * second],
                                  silence[:second], speech[40 * second:]]),
        "babble": babble,
        "speech in babble": speech[: len(babble)] + 0.5 * babble,
        "fan": _wav(NOISE / "noise_humfan.wav"),
        "120 s piece": np.tile(speech, 3)[: 120 * second],
        "whole windows": speech[: 512 * 100],  # a length faster-whisper pads by a full window
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_regions_equal_faster_whispers(name):
    audio = _cases()[name]
    theirs = [(s["start"], s["end"])
              for s in get_speech_timestamps(audio, VadOptions(), sampling_rate=16000)]
    assert speech_spans(speech_probabilities(audio), len(audio)) == theirs
    assert [(round(r.start * 16000), round(r.end * 16000))
            for r in speech_regions(audio)] == theirs


def test_probabilities_equal_silero_scoring_the_whole_piece_at_once():
    from faster_whisper.vad import get_vad_model

    audio = _cases()["speech in babble"]
    padded = np.pad(audio, (0, 512 - len(audio) % 512))
    whole = np.asarray(get_vad_model()(padded)).reshape(-1)
    assert np.allclose(speech_probabilities(audio), whole, rtol=0, atol=1e-6)


def test_silero_never_scores_more_than_a_block_at_once(monkeypatch):
    sizes: list[int] = []
    score = StreamingVadScorer.score

    def recording(self, samples):
        sizes.append(len(samples))
        return score(self, samples)

    monkeypatch.setattr(StreamingVadScorer, "score", recording)
    audio = _cases()["120 s piece"]
    assert speech_regions(audio)
    assert max(sizes) <= SCORE_BLOCK_S * 16000
    assert sum(sizes) >= len(audio)  # all of it was scored
