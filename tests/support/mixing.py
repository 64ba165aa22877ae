"""Noisy meetings made from clean speech and recorded noise, and how to score a denoiser on them."""

from __future__ import annotations

import numpy as np


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio in dB (higher is cleaner)."""
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimate, dtype=np.float64)[: len(ref)]
    ref = ref - ref.mean()
    est = est - est.mean()
    target = (np.dot(est, ref) / np.dot(ref, ref)) * ref
    residual = est - target
    return float(10 * np.log10(np.sum(target**2) / max(np.sum(residual**2), 1e-20)))


def noise_gain(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> float:
    """The factor that puts `noise` `snr_db` below `speech` in power."""
    p_speech = np.mean(np.asarray(speech, dtype=np.float64) ** 2)
    p_noise = np.mean(np.asarray(noise, dtype=np.float64) ** 2)
    return float(np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10))))


def noisy_meeting(
    speech: np.ndarray,
    noise: np.ndarray,
    snr_db: float,
    room_seconds: float = 3.0,
    rate: int = 16000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(clean speech, speech + noise at `snr_db`, `room_seconds` of the same noise just before).

    The noise recording is repeated as needed; the room-noise stretch is the part that precedes
    the mixture, as if recorded by "Learn room noise" before the meeting started.
    """
    lead = int(room_seconds * rate)
    long_noise = np.resize(np.asarray(noise, dtype=np.float32), lead + len(speech))
    gain = noise_gain(speech, long_noise[lead:], snr_db)
    room = (long_noise[:lead] * gain).astype(np.float32)
    mixture = (speech + long_noise[lead:] * gain).astype(np.float32)
    return np.asarray(speech, dtype=np.float32), mixture, room
