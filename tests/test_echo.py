"""The echo control on its own, with real speech: the user's voice (jfk.wav) and the others'
(ldc93s1.wav) on one meeting timeline, mixed as a room without headphones would.

benchmarks/meeting.py measures what reaches the captions; these check the two promises the
captions rest on: the others' echo alone is silenced, and the user's voice is never mixed with
the others' audio when no echo is in it."""

from __future__ import annotations

import numpy as np

from app.audio.echo import FRAME, EchoSuppressor
from tests.support.data import read_wav, speech_path

RATE = 16000


def _voice(name: str, seconds: float) -> np.ndarray:
    """The recording's first `seconds`, at one loudness (-20 dBFS RMS) whichever it is."""
    samples, rate = read_wav(speech_path(name))
    assert rate == RATE
    part = samples[: int(seconds * RATE)].astype(np.float32)
    return part * np.float32(0.1 / np.sqrt(np.mean(part * part)))


def _through(echo: EchoSuppressor, mic: np.ndarray, reference: np.ndarray,
             ahead: float = 0.0) -> np.ndarray:
    """Feed both sources block by block as the two readers do, the reference first and
    `ahead` seconds further on (its reader ahead of the microphone's)."""
    out: list[np.ndarray] = []
    block = 1024
    lead = int(ahead * RATE)
    echo.add_reference(reference[:lead], 0.0)
    for i in range(0, len(mic), block):
        echo.add_reference(reference[lead + i:lead + i + block], (lead + i) / RATE)
        processed, _start = echo.process(mic[i:i + block], i / RATE)
        out.append(processed)
    return np.concatenate(out)


def _left(out: np.ndarray, mic: np.ndarray, since: float) -> float:
    """The share of the microphone's energy after `since` seconds that is still in `out`."""
    part = slice(int(since * RATE), len(out))
    return float(np.dot(out[part], out[part])) / float(np.dot(mic[part], mic[part]))


def _delayed(samples: np.ndarray, seconds: float, gain_db: float) -> np.ndarray:
    shifted = np.concatenate([np.zeros(int(seconds * RATE), np.float32), samples])
    return shifted[: len(samples)] * np.float32(10 ** (gain_db / 20))


def test_the_users_voice_passes_untouched_while_the_others_play_without_an_echo():
    """Headphones: the microphone hears only the user. Subtracting a best match anyway mixed
    the others into the user's voice (their live WER 2.7 % -> 6.7 %, benchmarks/meeting.py)."""
    you, others = _voice("jfk.wav", 6.0), _voice("ldc93s1.wav", 6.0)
    others = np.pad(others, (0, len(you) - len(others)))
    echo = EchoSuppressor(wait=0.0)
    echo.set_active(True)
    out = _through(echo, you, others)
    ready = len(out)
    assert ready >= len(you) - FRAME
    assert np.array_equal(out, you[:ready]), "the user's voice was changed"
    assert echo.suppressed == 0


def test_the_others_echo_alone_is_silenced_even_when_the_timelines_are_400_ms_apart():
    """The two sources' timelines differ from run to run; the echo is found all the same."""
    others = _voice("ldc93s1.wav", 3.0)
    mic = _delayed(others, 0.4, -6.0)
    echo = EchoSuppressor(wait=0.0)
    echo.set_active(True)
    out = _through(echo, mic, others)
    left = _left(out, mic, 0.6)  # past the first frames, before the lag is covered
    assert left < 0.1, f"{left:.2f} of the echo's energy is left"
    assert echo.suppressed > 0


def test_an_echo_a_second_late_on_the_timeline_is_found_by_the_delay_tracker():
    """An echo a second away from its reference (a slow output path, timelines apart) is
    outside the first search: the tracker has to find the delay before the echo goes."""
    others = _voice("ldc93s1.wav", 2.9)
    others = np.concatenate([others, others])  # the others go on talking
    mic = _delayed(others, 1.0, -6.0)
    echo = EchoSuppressor(wait=0.0)
    echo.set_active(True)
    out = _through(echo, mic, others)
    assert echo.delay is not None, "the echo's delay was never found"
    assert abs(echo.delay - 1.0) < 0.02, echo.delay
    left = _left(out, mic, 3.5)  # once the tracker has had a second and a half of echo
    assert left < 0.1, f"{left:.2f} of the echo's energy is left"


def test_an_echo_placed_before_its_reference_is_found_too():
    """The microphone's timeline can run ahead of system audio's: the echo then sits before
    the reference it came from, and the microphone waits for the reference."""
    others = _voice("ldc93s1.wav", 2.9)
    others = np.concatenate([others, others])
    mic = _delayed(others, 0.0, -6.0)[int(0.3 * RATE):]  # heard 0.3 s "before" it was played
    echo = EchoSuppressor(wait=0.0)
    echo.set_active(True)
    out = _through(echo, mic, others, ahead=1.0)
    assert echo.delay is not None, "the echo's delay was never found"
    assert abs(echo.delay + 0.3) < 0.02, echo.delay
    left = _left(out, mic, 3.0)
    assert left < 0.1, f"{left:.2f} of the echo's energy is left"


def test_a_loud_echo_under_the_users_voice_is_taken_out_of_it():
    """Double talk, the echo 3 dB under the user: what is left is closer to the user's voice
    than what the microphone heard."""
    you, others = _voice("jfk.wav", 2.9), _voice("ldc93s1.wav", 2.9)
    others = np.pad(others, (0, len(you) - len(others)))
    mic = you + _delayed(others, 0.1, -3.0)
    echo = EchoSuppressor(wait=0.0)
    echo.set_active(True)
    out = _through(echo, mic, others)
    part = slice(int(0.5 * RATE), len(out))
    before = float(np.sum((mic[part] - you[part]) ** 2))
    after = float(np.sum((out[part] - you[part]) ** 2))
    assert after < 0.5 * before, (after, before)
