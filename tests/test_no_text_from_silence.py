"""No text from silence: digital silence, near-silence and low-level noise give no transcript,
in a file as in a meeting's final pass (both are WhisperEngine.iter_audio), while quiet real
speech still does. Real tiny.en, real Silero VAD, real recordings and noises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.textmetrics import normalise, wer
from app.transcription.engine import WhisperEngine
from tests.support.data import read_wav, reference_text, write_wav

pytestmark = pytest.mark.model

RATE = 16000
CANDOR = Path(sys.executable).parent / "candor"


@pytest.fixture(scope="module")
def engine() -> WhisperEngine:
    return WhisperEngine(None)


def at_level(samples: np.ndarray, dbfs: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return (samples / rms * 10 ** (dbfs / 20)).astype(np.float32)


def text_of(engine: WhisperEngine, audio: np.ndarray) -> str:
    return " ".join(s.text for s in engine.iter_audio(audio))


def test_ten_minutes_of_digital_silence_give_no_text(gate, tmp_path):
    gate.grant("transcription", via="test")
    silence = write_wav(tmp_path / "silence.wav", np.zeros(10 * 60 * RATE, dtype=np.float32))
    result = subprocess.run([str(CANDOR), "transcribe", str(silence)], capture_output=True,
                            text=True, timeout=300, env=os.environ.copy())
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # before: "you" at every 30 s window
    assert f"no speech was found in {silence}" in result.stderr


def noises(shared_data) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    minute = 60 * RATE
    found = {
        "dither of one LSB": (rng.integers(-1, 2, minute) / 32768.0).astype(np.float32),
        "white noise at -60 dBFS": at_level(rng.standard_normal(minute), -60),
        "white noise at -45 dBFS": at_level(rng.standard_normal(minute), -45),
    }
    for name, level in (("noise_humfan", -35), ("sb_noise1", -40), ("sb_noise2", -40),
                        ("sb_noise3", -40)):
        noise, _ = read_wav(shared_data / "noise" / f"{name}.wav")
        found[f"{name} at {level} dBFS"] = at_level(np.resize(noise, minute), level)
    return found


def test_near_silence_and_low_level_noise_give_no_text(engine, shared_data):
    heard = {name: text_of(engine, audio) for name, audio in noises(shared_data).items()}
    assert heard == dict.fromkeys(heard, "")


def test_a_final_pass_over_a_silent_meeting_gives_no_text(engine):
    """A meeting's final pass reads the int16 audio the live path keeps."""
    rng = np.random.default_rng(3)
    # Nobody spoke: the input's last bits flicker, as a real microphone's do.
    quiet_meeting = rng.integers(-2, 3, 4 * 60 * RATE).astype(np.int16)
    assert list(engine.iter_audio(quiet_meeting)) == []


@pytest.mark.parametrize("dbfs", [-50, -60])
def test_quiet_real_speech_is_still_transcribed(engine, shared_data, dbfs):
    speech, _ = read_wav(shared_data / "speech" / "jfk.wav")
    heard = text_of(engine, at_level(speech, dbfs))
    assert "ask not what your country can do for you" in normalise(heard)
    assert wer(reference_text("jfk.wav"), heard) < 0.1


def test_speech_between_long_silences_gives_only_the_speech(engine, shared_data):
    speech, _ = read_wav(shared_data / "speech" / "jfk.wav")
    minute = np.zeros(60 * RATE, dtype=np.float32)
    segments = list(engine.iter_audio(np.concatenate([minute, speech, minute, minute])))
    assert segments, "the speech is there"
    assert all(s.start >= 60.0 - 1.0 and s.end <= 60.0 + 11.0 + 1.0 for s in segments), segments
    assert wer(reference_text("jfk.wav"), " ".join(s.text for s in segments)) < 0.1
