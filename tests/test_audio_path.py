"""The real audio path: a recording played into the virtual microphone comes back through
sounddevice, as Candor's capture will receive it."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tests.support.data import read_wav
from tests.support.signals import max_normalised_correlation

pytestmark = pytest.mark.audio


def test_speech_played_into_virtual_mic_is_captured_intact(virtual_mic, shared_data):
    import sounddevice as sd

    wav = shared_data / "speech" / "jfk.wav"
    reference, rate = read_wav(wav)
    blocks: list[np.ndarray] = []
    started = threading.Event()

    def callback(indata, frames, time_info, status):
        blocks.append(indata[:, 0].copy())
        started.set()

    import time

    with sd.InputStream(
        samplerate=rate,
        channels=1,
        dtype="float32",
        blocksize=1024,
        latency="low",
        callback=callback,
    ):
        assert started.wait(5), "no audio callback from the virtual microphone"
        began = time.monotonic()
        virtual_mic.play_and_wait(wav)
        # Wait until as much audio came back as was played (a condition, not a guess of the
        # latency); a capture slower than real time makes this take longer than the audio.
        deadline = began + 60
        while sum(len(b) for b in blocks) < len(reference):
            assert time.monotonic() < deadline, "the capture stopped delivering"
            time.sleep(0.01)
        elapsed = time.monotonic() - began
    captured = np.concatenate(blocks)
    # PortAudio's defaults under PulseAudio deliver a fraction of real time; ours must not.
    assert len(captured) >= 0.9 * elapsed * rate, "capture delivered less than real time"
    assert max_normalised_correlation(reference, captured) > 0.9


def test_silence_does_not_correlate_with_speech(virtual_mic, shared_data):
    """The correlation check itself can fail: a capture with nothing played does not pass it."""
    import sounddevice as sd

    reference, rate = read_wav(shared_data / "speech" / "jfk.wav")
    captured = sd.rec(int(2 * rate), samplerate=rate, channels=1, dtype="float32", blocking=True)
    noise = np.random.default_rng(1).normal(0, 1e-3, len(reference))
    assert max_normalised_correlation(reference, captured[:, 0] + noise[: len(captured)]) < 0.5
