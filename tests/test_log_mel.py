"""The log-mel spectrogram computed block by block is faster-whisper's own, on real speech, for
a fraction of the memory (issue 11 §6: a 120 s final-pass piece's spectrogram took 117 MB)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from faster_whisper.feature_extractor import FeatureExtractor

from app.transcription.log_mel import chunked_extractor
from tests.support.data import read_wav, speech_path


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    samples, rate = read_wav(speech_path("real_concat.wav"))
    assert rate == 16000
    return samples


def _piece(speech: np.ndarray, seconds: float) -> np.ndarray:
    """`seconds` of real speech (the recording repeated), as a final-pass piece holds."""
    count = int(seconds * 16000)
    return np.tile(speech, count // len(speech) + 1)[:count]


@pytest.mark.parametrize("seconds", [0.01, 0.3, 11.0, 30.0, 49.7, 120.0])
def test_features_equal_faster_whispers_on_real_speech(speech, seconds):
    audio = _piece(speech, seconds)
    theirs = FeatureExtractor()(audio)
    ours = chunked_extractor(FeatureExtractor())(audio)
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    assert np.allclose(ours, theirs, rtol=0, atol=1e-5)


@pytest.mark.parametrize("block_frames", [1, 7, 999, 1000, 4975, 100_000])
def test_block_boundaries_do_not_change_the_features(speech, block_frames):
    theirs = FeatureExtractor()(speech)
    ours = chunked_extractor(FeatureExtractor(), block_frames=block_frames)(speech)
    assert ours.shape == theirs.shape
    assert np.allclose(ours, theirs, rtol=0, atol=1e-5)


def test_padding_and_chunk_length_behave_as_faster_whispers(speech):
    theirs, ours = FeatureExtractor(), chunked_extractor(FeatureExtractor())
    for padding in (0, 160, 480_000):  # what transcribe() and the live windows pass
        a, b = theirs(speech[:16000 * 7], padding=padding), ours(speech[:16000 * 7],
                                                                padding=padding)
        assert a.shape == b.shape
        assert np.allclose(a, b, rtol=0, atol=1e-5)
    theirs(speech, chunk_length=10)
    ours(speech, chunk_length=10)
    assert (ours.n_samples, ours.nb_max_frames) == (theirs.n_samples, theirs.nb_max_frames)
    assert ours.nb_max_frames == 1000


def test_the_peak_no_longer_grows_with_the_piece(speech):
    audio = _piece(speech, 120.0)

    def peak_mb(extractor: FeatureExtractor) -> float:
        tracemalloc.start()
        try:
            extractor(audio)
            return tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()

    theirs = peak_mb(FeatureExtractor())
    ours = peak_mb(chunked_extractor(FeatureExtractor()))
    # measured: 117 MB and 22 MB (the padded signal, the result and one 10 s block)
    assert theirs > 90
    assert ours < 35
