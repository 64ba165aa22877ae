"""A live pass's encoder sees its window padded to 15 s (app/transcription/engine.py
WINDOW_SECONDS), not Whisper's 30 s: half the CPU. The padding must still end speech, or short
windows loop; long windows keep room after their audio."""

from __future__ import annotations

import numpy as np

from app.textmetrics import normalise
from app.transcription.engine import WINDOW_HEADROOM, WINDOW_SECONDS, WhisperEngine, _padded
from tests.support.data import read_wav, speech_path

FRAMES_PER_SECOND = 100
MOST = 3000  # Whisper's 30 s


def test_the_window_is_padded_to_its_floor_and_keeps_headroom_up_to_30_s():
    features = np.ones((80, 3001), np.float32)
    short = _padded(features, 300, WINDOW_SECONDS, WINDOW_HEADROOM, MOST)  # 3 s of audio
    assert short.shape == (80, int(WINDOW_SECONDS * FRAMES_PER_SECOND))
    assert short[:, :300].all(), "the audio first"
    assert not short[:, 300:].any(), "then silence"
    long = _padded(features, 1201, WINDOW_SECONDS, WINDOW_HEADROOM, MOST)  # 12 s
    assert long.shape[1] >= 1201 + WINDOW_HEADROOM * FRAMES_PER_SECOND
    assert long.shape[1] % 2 == 0, "the encoder halves the frames"
    assert _padded(features, 2900, WINDOW_SECONDS, WINDOW_HEADROOM, MOST).shape[1] == MOST


def test_a_short_window_is_heard_once_not_looped():
    samples, _rate = read_wav(speech_path("jfk.wav"))
    engine = WhisperEngine()
    for seconds in (3, 5):
        result = engine.transcribe_window(samples[: 16000 * seconds], offset=0.0)
        heard = normalise(" ".join(w.text for w in result.words))
        assert "fellow americans" in heard, heard
        assert heard.count("fellow") == 1, heard
        assert len(heard.split()) <= 8, heard
    engine.release()
