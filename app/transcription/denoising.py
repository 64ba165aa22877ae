"""Noise suppression in front of the recogniser, through the audio package's denoiser.

Measured (../shared/data/README.md and the audio benchmarks): recognisers often do worse on
denoised audio, so this is only ever used when the user asks for it (`--denoise`), and it needs
`noise_suppression` as well as `transcription`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.consent import Gate
from app.consent.purposes import NOISE_SUPPRESSION

SAMPLE_RATE = 16000


class DenoiseUnavailable(RuntimeError):
    """This build has no noise suppression to put in front of the recogniser."""


def make_denoiser(gate: Gate) -> Any:
    """A streaming denoiser (`process(samples)`, `flush()`) for 16 kHz audio."""
    gate.require(NOISE_SUPPRESSION)
    try:
        from app.audio.denoise import StreamingDenoiser
    except ImportError as err:
        raise DenoiseUnavailable(
            "noise suppression is not part of this build yet; run without --denoise"
        ) from err
    denoiser = StreamingDenoiser(gate, rate=SAMPLE_RATE)
    denoiser.warm_up()  # import noisereduce now, not inside the first block of a meeting
    return denoiser


def denoise_recording(audio: np.ndarray, gate: Gate) -> np.ndarray:
    denoiser = make_denoiser(gate)
    try:
        out = np.asarray(denoiser.denoise(audio), dtype=np.float32)
    finally:
        close = getattr(denoiser, "close", None)
        if close is not None:
            close()
    return out[: len(audio)]
