"""Signal comparison helpers for tests and benchmarks."""

from __future__ import annotations

import numpy as np


def max_normalised_correlation(reference: np.ndarray, captured: np.ndarray) -> float:
    """Peak normalised cross-correlation of `reference` inside `captured`, over all lags.

    Capture through a sound server shifts the signal in time and may change its gain, so the
    comparison searches every alignment and normalises energy per window.
    """
    ref = np.asarray(reference, dtype=np.float64)
    cap = np.asarray(captured, dtype=np.float64)
    if len(cap) < len(ref):
        cap = np.concatenate([cap, np.zeros(len(ref) - len(cap))])
    ref = ref - ref.mean()
    n = len(ref) + len(cap) - 1
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(cap, size) * np.conj(np.fft.rfft(ref, size)), size)
    corr = corr[: len(cap) - len(ref) + 1]
    # energy of every window of `cap` with the length of `ref`
    csum = np.concatenate([[0.0], np.cumsum(cap**2)])
    window_energy = csum[len(ref) :] - csum[: len(cap) - len(ref) + 1]
    denom = np.sqrt(np.maximum(window_energy, 1e-12) * np.sum(ref**2))
    return float(np.max(corr / denom))
