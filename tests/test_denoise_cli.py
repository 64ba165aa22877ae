"""`candor denoise IN.wav OUT.wav`: consent first, clear errors, a cleaner file out."""

from __future__ import annotations

import subprocess
import sys
import wave

import numpy as np

from app.consent import open_gate
from tests.support.data import read_wav, write_wav
from tests.support.mixing import noisy_meeting, si_sdr


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=120
    )


def noisy_file(shared_data, tmp_path):
    speech, _ = read_wav(shared_data / "speech" / "jfk.wav")
    noise, _ = read_wav(shared_data / "noise" / "sb_noise1.wav")
    clean, mixture, _ = noisy_meeting(speech, noise, 5.0)
    return clean, mixture, write_wav(tmp_path / "noisy.wav", mixture)


def test_denoise_without_consent_exits_3_and_writes_nothing(shared_data, tmp_path):
    _, _, noisy = noisy_file(shared_data, tmp_path)
    out = tmp_path / "out.wav"
    result = candor("denoise", str(noisy), str(out))
    assert result.returncode == 3
    assert "noise_suppression" in result.stderr
    assert "candor consent grant noise_suppression" in result.stderr
    assert not out.exists()


def test_denoise_a_text_file_exits_2_naming_the_problem(tmp_path):
    open_gate().grant("noise_suppression", via="test")
    text = tmp_path / "notes.wav"
    text.write_text("these are meeting notes, not audio\n" * 20)
    out = tmp_path / "out.wav"
    result = candor("denoise", str(text), str(out))
    assert result.returncode == 2
    assert str(text) in result.stderr
    assert "not a PCM WAV file" in result.stderr
    assert not out.exists()
    missing = candor("denoise", str(tmp_path / "nothing.wav"), str(out))
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr


def test_denoise_writes_a_cleaner_file_of_the_same_length(shared_data, tmp_path):
    open_gate().grant("noise_suppression", via="test")
    clean, mixture, noisy = noisy_file(shared_data, tmp_path)
    out = tmp_path / "out.wav"
    result = candor("denoise", str(noisy), str(out), "--strength", "high")
    assert result.returncode == 0, result.stderr
    assert "noise learned from" in result.stdout
    cleaned, rate = read_wav(out)
    assert rate == 16000
    assert len(cleaned) == len(mixture)
    assert si_sdr(clean, cleaned) > si_sdr(clean, mixture) + 3
    assert not np.array_equal(cleaned, read_wav(noisy)[0])


def test_streamed_in_blocks_it_equals_the_whole_file_run_per_channel(shared_data, tmp_path):
    """Streaming the file (two passes of 1 s blocks) changes nothing: each channel equals the
    denoiser run on the whole channel with the noise learned from all its quiet stretches."""
    from app.audio.denoise import StreamingDenoiser, find_quiet

    gate = open_gate()
    gate.grant("noise_suppression", via="test")
    speech, _ = read_wav(shared_data / "speech" / "jfk.wav")
    noise, _ = read_wav(shared_data / "noise" / "sb_noise1.wav")
    _, left, _ = noisy_meeting(speech, noise, 5.0)
    _, right, _ = noisy_meeting(speech[::-1].copy(), noise, 8.0)
    stereo = np.stack([left, right[: len(left)]], axis=1)
    source = tmp_path / "stereo.wav"
    with wave.open(str(source), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes((np.clip(stereo, -1, 1) * 32767).astype("<i2").tobytes())
    out = tmp_path / "out.wav"
    result = candor("denoise", str(source), str(out))
    assert result.returncode == 0, result.stderr
    with wave.open(str(source)) as wav:
        pcm_in = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, 2)
    with wave.open(str(out)) as wav:
        assert wav.getnchannels() == 2
        got = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, 2)
    for channel in range(2):
        signal = pcm_in[:, channel].astype(np.float32) / 32768.0
        denoiser = StreamingDenoiser(gate, rate=16000, strength="medium")
        denoiser.learn_noise(find_quiet(signal, 16000))
        whole = np.round(np.clip(denoiser.denoise(signal), -1, 1) * 32767).astype(int)
        assert np.max(np.abs(got[:, channel].astype(int) - whole)) <= 1  # rounding only
    gate.close()
