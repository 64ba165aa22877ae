"""The model Candor loads is faster-whisper's with its memory peaks lowered (issue 11 §6):
features block by block, MKL's buffer cache off, freed memory returned before each encode of a
whole-recording pass, and nothing else changed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import types

import numpy as np
import pytest

from app.transcription import lean_whisper
from app.transcription.lean_whisper import lean_model_class, releasing_before_encodes
from tests.support.data import read_wav, speech_path


class _Extractor:
    def __init__(self) -> None:
        self.n_fft, self.hop_length, self.sampling_rate = 400, 160, 16000
        self.n_samples, self.nb_max_frames = 480_000, 3000
        self.mel_filters = np.ones((80, 201), dtype=np.float32)


def _fake_faster_whisper() -> types.SimpleNamespace:
    class WhisperModel:
        def __init__(self, *args, **kwargs) -> None:
            self.feature_extractor = _Extractor()
            self.encoded = 0

        def encode(self, features):
            self.encoded += 1
            return features

    return types.SimpleNamespace(WhisperModel=WhisperModel)


@pytest.fixture
def releases(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(lean_whisper, "release_freed_memory",
                        lambda: calls.append(threading.current_thread().name) or True)
    return calls


def test_freed_memory_is_returned_before_encodes_only_inside_a_whole_recording_pass(releases):
    model = lean_model_class(_fake_faster_whisper())()
    model.encode("features")
    assert releases == []  # a live pass: trimmed on the captions' own timer instead
    with releasing_before_encodes():
        model.encode("features")
        model.encode("features")
        with releasing_before_encodes():
            model.encode("features")
        model.encode("features")  # still inside the outer block
    model.encode("features")
    assert len(releases) == 4
    assert model.encoded == 6  # every encode still ran, with what it was given


def test_the_release_is_per_thread(releases):
    model = lean_model_class(_fake_faster_whisper())()
    inside = threading.Event()
    done = threading.Event()

    def final_pass() -> None:
        with releasing_before_encodes():
            inside.set()
            done.wait(5)

    worker = threading.Thread(target=final_pass)
    worker.start()
    assert inside.wait(5)
    model.encode("features")  # another meeting's live captions, meanwhile
    done.set()
    worker.join()
    assert releases == []


def test_the_model_computes_features_block_by_block():
    model = lean_model_class(_fake_faster_whisper())()
    assert type(model.feature_extractor).__name__ == "ChunkedFeatureExtractor"
    assert model.feature_extractor.nb_max_frames == 3000  # faster-whisper's settings kept


def test_mkl_buffer_cache_is_off_before_ctranslate2_loads(monkeypatch):
    monkeypatch.delenv("MKL_DISABLE_FAST_MM", raising=False)
    from app.transcription.offline import force_offline

    force_offline()
    assert os.environ["MKL_DISABLE_FAST_MM"] == "1"
    monkeypatch.setenv("MKL_DISABLE_FAST_MM", "0")  # a user's own choice is kept
    force_offline()
    assert os.environ["MKL_DISABLE_FAST_MM"] == "0"


def test_every_way_to_the_recogniser_sets_it_before_the_import():
    # A fresh process: the switch must be in the environment when ctranslate2 is first loaded.
    code = ("import os, sys; from app.transcription.speech_regions import speech_regions; "
            "import numpy as np; speech_regions(np.ones(16000, np.float32) * 0.1); "
            "assert 'ctranslate2' in sys.modules; print(os.environ.get('MKL_DISABLE_FAST_MM'))")
    env = {k: v for k, v in os.environ.items() if k != "MKL_DISABLE_FAST_MM"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "1"


@pytest.mark.model
def test_a_whole_recording_pass_releases_before_its_encodes_and_live_passes_do_not(releases):
    from app.transcription.engine import WhisperEngine

    audio, _ = read_wav(speech_path("jfk.wav"))
    engine = WhisperEngine()
    model = engine.load()
    assert type(model).__name__ == "LeanWhisperModel"
    engine.transcribe_window(audio, offset=0.0)
    assert releases == []
    segments = engine.transcribe_audio(audio)
    assert "ask not what your country" in " ".join(s.text for s in segments).lower()
    assert len(releases) >= 1
