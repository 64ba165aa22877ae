"""Echo control's correlation is scipy.signal.correlate's, without importing scipy.signal (86 MB
of resident memory for a meeting with system audio; issue 11 §6)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.signal import correlate

from app.audio.echo import FRAME, MAX_LAG, MIN_LAG, RATE, correlate_valid
from tests.support.data import NOISE, read_wav, speech_path

WINDOW = FRAME + round((MAX_LAG - MIN_LAG) * RATE)  # what a frame is compared with


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return read_wav(speech_path("real_concat.wav"))[0]


@pytest.mark.parametrize("window", [FRAME, FRAME + 1, 3001, WINDOW - 17, WINDOW])
def test_equals_scipy_on_real_speech(speech, window):
    babble = read_wav(NOISE / "noise_babble.wav")[0]
    rng = np.random.default_rng(7)
    for at in rng.integers(0, len(speech) - window - 4000, 25):
        reference = speech[at:at + window]
        # the microphone: a delayed, scaled copy of the reference under someone else's voice
        delay = int(rng.integers(0, window - FRAME + 1))
        mic = (0.4 * reference[delay:delay + FRAME]
               + 0.2 * babble[at:at + FRAME]).astype(np.float32)
        ours = correlate_valid(reference, mic)
        theirs = correlate(reference, mic, mode="valid", method="fft")
        assert ours.dtype == theirs.dtype == np.float32
        assert ours.shape == theirs.shape == (window - FRAME + 1,)
        assert np.array_equal(ours, theirs)


def test_echo_control_does_not_import_scipy_signal():
    code = """
import sys
import numpy as np
from app.audio.echo import EchoSuppressor, RATE
from tests.support.data import read_wav, speech_path
speech = read_wav(speech_path("real_concat.wav"))[0][: 4 * RATE]
echo = EchoSuppressor(wait=0)
echo.set_active(True)
echo.add_reference(speech, 0.0)
out, _ = echo.process(0.5 * np.roll(speech, 800), 0.5)
assert echo.frames > 0 and len(out)
assert "scipy.fft" in sys.modules  # it did correlate
print("scipy.signal" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"
