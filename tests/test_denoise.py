"""The streaming noise suppressor with real noisereduce on real speech and recorded noise."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from app.audio.denoise import StreamingDenoiser, noisereduce_kwargs
from app.consent import ConsentRequired, open_gate
from tests.support.data import read_wav
from tests.support.mixing import noisy_meeting, si_sdr

RATE = 16000


def gate_with(*purposes: str):
    gate = open_gate()
    for purpose in purposes:
        gate.grant(purpose, via="test")
    return gate


@pytest.fixture(scope="module")
def meeting(shared_data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """jfk.wav with fan noise at 5 dB SNR, and 3 s of that fan alone."""
    speech, _ = read_wav(shared_data / "speech" / "jfk.wav")
    noise, _ = read_wav(shared_data / "noise" / "noise_humfan.wav")
    return noisy_meeting(speech, noise, 5.0)


def stream(denoiser: StreamingDenoiser, signal: np.ndarray, seed: int = 0) -> np.ndarray:
    """Feed `signal` in pieces of random size, as a capture would, and collect the output."""
    rng = np.random.default_rng(seed)
    out, i = [], 0
    while i < len(signal):
        n = int(rng.integers(1, 3000))
        out.append(denoiser.process(signal[i : i + n]))
        i += n
    out.append(denoiser.flush())
    return np.concatenate(out)


def test_stream_equals_a_whole_file_run_away_from_the_ends(meeting):
    import noisereduce

    _, mixture, room = meeting
    denoiser = StreamingDenoiser(gate_with("noise_suppression"), auto_learn=False)
    denoiser.learn_noise(room)
    streamed = stream(denoiser, mixture)
    whole = noisereduce.reduce_noise(
        y=mixture,
        sr=RATE,
        y_noise=room,
        padding=0,
        chunk_size=len(mixture) + 1,
        **noisereduce_kwargs("medium", RATE),
    )
    assert len(streamed) == len(mixture)
    inner = slice(RATE // 2, -RATE // 2)
    difference = streamed[inner] - whole[inner]
    residual_db = 10 * np.log10(np.sum(whole[inner] ** 2) / np.sum(difference**2))
    assert residual_db > 40
    assert np.max(np.abs(difference)) < 2e-3
    # ... and it did suppress something: the output is not the input.
    assert np.max(np.abs(streamed[inner] - mixture[inner])) > 0.05


def join_steps(signal: np.ndarray, joins: np.ndarray) -> float:
    """Typical step between neighbouring samples at the joins over the typical step anywhere:
    about 1 for a seamless signal, well above 1 when the joins click."""
    steps = np.abs(np.diff(signal.astype(np.float64)))
    return float(np.median(steps[joins - 1]) / np.median(steps))


def join_level_steps(signal: np.ndarray, joins: np.ndarray, frame: int = 64) -> float:
    """The same for the short-time level (4 ms frames): well above 1 when the level jumps."""
    frames = signal[: len(signal) // frame * frame].astype(np.float64).reshape(-1, frame)
    levels = 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-9)
    steps = np.abs(np.diff(levels))
    return float(np.median(steps[joins // frame - 1]) / np.median(steps))


def test_block_joins_have_no_jumps_even_when_the_strength_changes(meeting):
    """Alternate strengths block by block: differently gated neighbours meet at every join."""
    import noisereduce

    _, mixture, room = meeting
    denoiser = StreamingDenoiser(gate_with("noise_suppression"), auto_learn=False)
    denoiser.learn_noise(room)
    block = denoiser.block
    out = []
    for i in range(0, len(mixture), block):
        denoiser.strength = "high" if (i // block) % 2 else "low"
        out.append(denoiser.process(mixture[i : i + block]))
    out.append(denoiser.flush())
    ours = np.concatenate(out)
    joins = np.arange(block, len(ours) - block, block)

    # The measure can fail: gating the same blocks separately and butting them together clicks.
    naive = np.concatenate(
        [
            noisereduce.reduce_noise(
                y=mixture[i : i + block],
                sr=RATE,
                y_noise=room,
                padding=0,
                **noisereduce_kwargs("high" if (i // block) % 2 else "low", RATE),
            )
            for i in range(0, len(mixture), block)
        ]
    )
    assert join_steps(naive, joins) > 2
    assert join_level_steps(naive, joins) > 2
    assert join_steps(ours, joins) < 1.3
    assert join_level_steps(ours, joins) < 1.3


def test_suppression_raises_si_sdr_with_a_learned_and_with_an_automatic_profile(meeting):
    clean, mixture, room = meeting
    before = si_sdr(clean, mixture)

    learned = StreamingDenoiser(gate_with("noise_suppression"), auto_learn=False)
    learned.learn_noise(room)
    assert si_sdr(clean, stream(learned, mixture)) - before > 5

    # No profile given: it is learned from the pauses between the speaker's phrases.
    automatic = StreamingDenoiser(gate_with("noise_suppression"))
    out = stream(automatic, mixture)
    assert automatic.profile_source == "auto"
    assert si_sdr(clean, out) - before > 2


def test_strength_off_passes_audio_through_unchanged(meeting):
    _, mixture, room = meeting
    denoiser = StreamingDenoiser(gate_with("noise_suppression"), strength="off")
    denoiser.learn_noise(room)
    assert np.array_equal(stream(denoiser, mixture), mixture)


def test_without_consent_audio_passes_through_and_nothing_is_learned(meeting):
    _, mixture, room = meeting
    denoiser = StreamingDenoiser(gate_with())
    with pytest.raises(ConsentRequired, match="noise_suppression"):
        denoiser.learn_noise(room)
    assert np.array_equal(stream(denoiser, mixture), mixture)
    assert not denoiser.has_profile
    assert denoiser.gated_blocks == 0


def test_withdrawal_stops_suppression_and_forgets_the_noise(meeting):
    _, mixture, room = meeting
    gate = gate_with("noise_suppression")
    denoiser = StreamingDenoiser(gate)
    denoiser.learn_noise(room)
    half = len(mixture) // 2
    first = denoiser.process(mixture[:half])
    gate.withdraw("noise_suppression", via="test")
    assert not denoiser.has_profile
    gated_before = denoiser.gated_blocks
    rest = np.concatenate([denoiser.process(mixture[half:]), denoiser.flush()])
    out = np.concatenate([first, rest])
    assert gated_before > 0
    assert denoiser.gated_blocks == gated_before  # not one block gated after the withdrawal
    # Audio from the withdrawal on (plus the blocks still in flight) is the input, untouched.
    untouched_from = half + denoiser.latency
    assert np.array_equal(out[untouched_from:], mixture[untouched_from:])


def test_learn_room_noise_from_the_next_seconds(meeting, shared_data):
    _, _, room = meeting
    denoiser = StreamingDenoiser(gate_with("noise_suppression"), auto_learn=False)
    denoiser.learn_next(2.0)
    assert denoiser.learning_progress == 0.0
    denoiser.process(room[:RATE])
    assert denoiser.learning_progress == pytest.approx(0.5)
    assert not denoiser.has_profile
    denoiser.process(room[RATE : 2 * RATE])
    assert denoiser.has_profile
    assert denoiser.profile_source == "learned"
    assert denoiser.learning_progress is None
    with pytest.raises(ValueError, match="at least 1 s"):
        denoiser.learn_noise(room[: RATE // 4])


def test_noisereduce_is_imported_only_once_a_block_is_gated(tmp_path):
    code = """
import sys
import numpy as np
from app.audio.denoise import StreamingDenoiser
from app.consent import open_gate
gate = open_gate()
d = StreamingDenoiser(gate)
d.process(np.random.default_rng(0).normal(0, 0.01, 48000).astype(np.float32))
print(d.warm_up(), "noisereduce" in sys.modules)
gate.grant("noise_suppression", via="test")
print(d.warm_up(), "noisereduce" in sys.modules)
"""
    env = {**__import__("os").environ, "CANDOR_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["False False", "True True"]


def test_capture_chunks_keep_their_place_on_the_timeline_across_a_gap(meeting):
    from app.audio.capture import AudioChunk

    _, mixture, room = meeting
    gate = gate_with("noise_suppression")
    denoiser = StreamingDenoiser(gate, auto_learn=False)
    denoiser.learn_noise(room)
    cut = 3 * RATE
    piece = 341  # about what a 48 kHz block of 1024 frames gives at 16 kHz
    chunks = [AudioChunk(mixture[i : min(i + piece, cut)], i / RATE) for i in range(0, cut, piece)]
    # One second muted, then the rest.
    chunks += [
        AudioChunk(mixture[i : i + piece], 1.0 + i / RATE) for i in range(cut, len(mixture), piece)
    ]
    out = []
    for chunk in chunks:
        out += denoiser.process_chunk(chunk)
    out += denoiser.flush_chunks()

    before = [c for c in out if c.start < cut / RATE]
    after = [c for c in out if c.start >= cut / RATE]
    assert before[0].start == 0.0
    assert after[0].start == pytest.approx(1.0 + cut / RATE)
    for stretch in (before, after):
        for a, b in itertools.pairwise(stretch):
            assert b.start == pytest.approx(a.end)
    # Each stretch is exactly what denoising it on its own gives.
    alone = StreamingDenoiser(gate, auto_learn=False)
    alone.learn_noise(room)
    expected_before = alone.denoise(mixture[:cut])
    expected_after = alone.denoise(mixture[cut:])
    assert np.array_equal(np.concatenate([c.samples for c in before]), expected_before)
    assert np.array_equal(np.concatenate([c.samples for c in after]), expected_after)
