"""Whisper's log-mel spectrogram, computed a few seconds at a time instead of all at once.

faster-whisper's FeatureExtractor frames the whole audio it is given and takes the FFT of every
frame in one go: for a 120 s final-pass piece that is 12,000 windowed frames (19 MB) and their
spectrum (19-38 MB) plus its copies, for a 3.7 MB result. Measured with tracemalloc: 117 MB at
the peak for one 120 s piece, which the final pass added on top of the model. The short-time
Fourier transform is local - each frame reads `n_fft` samples - so the same frames can be taken
block by block from the same padded signal, each block's mel energies written into the result,
and only the last step (log, and the floor 8 below the loudest value of the *whole* audio) run
over all of it, as before. Same operations on the same numbers, in the same order per frame:
the features equal faster-whisper's (tests/test_log_mel.py compares them on real speech).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Frames per block: 10 s of audio at Whisper's 10 ms hop. A block's frames and spectrum are
# about 1.6 MB each, so the extractor's working memory no longer grows with the audio.
BLOCK_FRAMES = 1000


def _extractor_base() -> type:
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor


def chunked_extractor(original: Any, block_frames: int = BLOCK_FRAMES) -> Any:
    """A drop-in replacement for `original` (a faster-whisper FeatureExtractor) with the same
    settings and mel filters, whose spectrogram is computed `block_frames` frames at a time."""
    base = _extractor_base()

    class ChunkedFeatureExtractor(base):  # type: ignore[valid-type, misc]
        def __call__(self, waveform: np.ndarray, padding: int = 160,
                     chunk_length: int | None = None) -> np.ndarray:
            return log_mel(self, waveform, padding=padding, chunk_length=chunk_length,
                           block_frames=block_frames)

    extractor = ChunkedFeatureExtractor.__new__(ChunkedFeatureExtractor)
    extractor.__dict__.update(original.__dict__)  # n_fft, hop, mel filters, chunk length...
    return extractor


def log_mel(extractor: Any, waveform: np.ndarray, *, padding: int = 160,
            chunk_length: int | None = None, block_frames: int = BLOCK_FRAMES) -> np.ndarray:
    """What faster-whisper's FeatureExtractor.__call__ returns (1.2.x), block by block."""
    if chunk_length is not None:  # as faster-whisper does: the setting sticks
        extractor.n_samples = chunk_length * extractor.sampling_rate
        extractor.nb_max_frames = extractor.n_samples // extractor.hop_length
    n_fft: int = extractor.n_fft
    hop: int = extractor.hop_length
    signal = _centred(np.asarray(waveform, dtype=np.float32), padding, n_fft // 2)
    frames = 1 + (len(signal) - n_fft) // hop
    window = np.hanning(n_fft + 1)[:-1].astype("float32")
    filters: np.ndarray = extractor.mel_filters
    kept = frames - 1  # faster-whisper drops the last frame (stft[..., :-1])
    mel = np.empty((filters.shape[0], max(kept, 0)), dtype=np.float32)
    for lo in range(0, kept, block_frames):
        hi = min(kept, lo + block_frames)
        part = signal[lo * hop : (hi - 1) * hop + n_fft]
        framed = np.lib.stride_tricks.as_strided(
            part, (hi - lo, n_fft), (hop * part.strides[0], part.strides[0]), writeable=False)
        spectrum = np.fft.rfft(framed * window, n=n_fft, axis=-1).astype("complex64")
        magnitudes = np.abs(spectrum.T) ** 2
        mel[:, lo:hi] = filters @ magnitudes
    # in place: the same float32 operations as faster-whisper's, without four more copies
    np.clip(mel, 1e-10, None, out=mel)
    np.log10(mel, out=mel)
    np.maximum(mel, mel.max() - 8.0, out=mel)
    mel += 4.0
    mel /= 4.0
    return mel


def _centred(audio: np.ndarray, padding: int, half: int) -> np.ndarray:
    """`audio` followed by `padding` zeros, then reflect-padded by `half` on both sides (what
    faster-whisper's np.pad calls make), built in one array instead of two."""
    length = len(audio) + padding
    if length <= half:  # numpy reflects a short signal more than once: leave it to numpy
        return np.pad(np.pad(audio, (0, padding)), (half, half), mode="reflect")
    signal = np.zeros(length + 2 * half, dtype=np.float32)
    signal[half : half + len(audio)] = audio
    signal[:half] = signal[2 * half : half : -1]
    end = half + length  # one past the last sample of audio + padding
    signal[end:] = signal[end - 2 : end - 2 - half : -1]
    return signal
