"""Reading and writing PCM WAV files with messages a user can act on."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np


class WavError(ValueError):
    """The file is missing or not a WAV file Candor can read; the message says what to do."""


_WIDTHS = {1: "u1", 2: "<i2", 4: "<i4"}


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """(samples as float32 of shape (frames, channels) in [-1, 1], sample rate)."""
    if not path.exists():
        raise WavError(f"{path} does not exist")
    if path.is_dir():
        raise WavError(f"{path} is a folder, not a WAV file")
    try:
        with wave.open(str(path), "rb") as wav:
            channels = wav.getnchannels()
            width = wav.getsampwidth()
            rate = wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as err:
        reason = str(err) or "it is too short to hold a WAV header"
        raise WavError(
            f"{path} is not a PCM WAV file Candor can read ({reason}). Convert it to 16-bit PCM "
            "WAV, e.g. `ffmpeg -i INPUT -c:a pcm_s16le OUTPUT.wav`"
        ) from err
    if width not in _WIDTHS:
        raise WavError(
            f"{path} uses {8 * width}-bit samples; Candor reads 8, 16 or 32-bit PCM WAV. "
            "Convert it to 16-bit PCM WAV"
        )
    if rate < 8000:
        raise WavError(f"{path} has a sample rate of {rate} Hz; at least 8000 Hz is needed")
    data = np.frombuffer(raw, dtype=_WIDTHS[width]).astype(np.float64)
    # 8-bit WAV is unsigned around 128; wider samples are signed.
    data = (data - 128.0) / 128.0 if width == 1 else data / float(2 ** (8 * width - 1))
    frames = len(data) // channels
    if frames == 0:
        raise WavError(f"{path} holds no audio")
    return data[: frames * channels].reshape(frames, channels).astype(np.float32), rate


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """16-bit PCM; written to a temporary file first, so a failure never leaves half a file."""
    data = np.asarray(samples, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, np.newaxis]
    pcm = (np.clip(data, -1.0, 1.0) * 32767.0).round().astype("<i2")
    tmp = path.with_name(f".{path.name}.part")
    try:
        with wave.open(str(tmp), "wb") as wav:
            wav.setnchannels(data.shape[1])
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(pcm.tobytes())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
