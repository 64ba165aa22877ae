"""Noisy meetings for the benchmarks: real speech plus real noise at a chosen SNR."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

# CANDOR_TEST_DATA as for the tests (a worktree does not sit beside ../shared)
SHARED = Path(os.environ.get("CANDOR_TEST_DATA",
                           Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def read_wav(path: Path) -> np.ndarray:
    import wave

    with wave.open(str(path), "rb") as wav:
        raw = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        channels = wav.getnchannels()
    return (raw.reshape(-1, channels).mean(axis=1) / 32768.0).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    import wave

    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Speech plus noise (looped to length) scaled so speech power / noise power = SNR."""
    reps = int(np.ceil(len(speech) / len(noise)))
    noise = np.tile(noise, reps)[: len(speech)]
    p_speech = float(np.mean(speech.astype(np.float64) ** 2))
    p_noise = float(np.mean(noise.astype(np.float64) ** 2)) or 1e-12
    scaled = noise * np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    out = speech + scaled
    peak = float(np.max(np.abs(out))) or 1.0
    return (out / max(1.0, peak / 0.99)).astype(np.float32)


# (noise file, SNR dB): a talker babble, a fan with mains hum, and a recorded real noise
DEFAULT_MIXTURES = (("noise_babble", 10.0), ("noise_humfan", 5.0), ("sb_noise1", 5.0))


def make_mixtures(out_dir: Path, mixtures=DEFAULT_MIXTURES) -> list[tuple[str, Path]]:
    speech = read_wav(SHARED / "speech" / "real_concat.wav")
    made = []
    for name, snr in mixtures:
        noise = read_wav(SHARED / "noise" / f"{name}.wav")
        label = f"real_concat+{name}@{snr:g}dB"
        made.append((label, write_wav(out_dir / f"{label}.wav", mix(speech, noise, snr))))
    return made
