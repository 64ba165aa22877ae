"""Real speech and noise recordings from ../shared/data (see its README)."""

from __future__ import annotations

import json
import os
import wave
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("CANDOR_TEST_DATA", REPO_ROOT.parent / "shared" / "data"))
SPEECH = SHARED_DATA / "speech"
NOISE = SHARED_DATA / "noise"


def speech_path(name: str) -> Path:
    path = SPEECH / name
    if not path.is_file():
        raise FileNotFoundError(
            f"test recording {path} is missing; set CANDOR_TEST_DATA to the shared data folder"
        )
    return path


def reference_text(name: str) -> str:
    return json.loads((SPEECH / "transcripts.json").read_text())[name]["text"]


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples in [-1, 1] and the sample rate of a 16-bit PCM WAV file."""
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        channels = wav.getnchannels()
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM is supported here")
        raw = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    samples = raw.reshape(-1, channels).mean(axis=1) / 32768.0
    return samples.astype(np.float32), rate


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    clipped = np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((clipped * 32767).astype("<i2").tobytes())
    return path
