"""Noise suppression for a WAV file, streamed: `candor denoise IN.wav OUT.wav`.

Two passes over the file, a block at a time, so memory does not grow with its length: the first
learns the room's noise from its quiet stretches (a QuietTracker per channel, as `find_quiet`
does for a whole array), the second gates each channel with its own StreamingDenoiser and
writes the blocks out as they come (app/audio/wavio.py's WavWriter: a staging file renamed over
the output only when whole).

Consent: `noise_suppression` is required to start; a withdrawal - in this process or recorded
by another (the caller watches the ledger) - sets `stop`, which is checked between blocks:
the run ends with ConsentRequired and the staging file is removed, so no output is left. The
output is renamed into place under `gate.guard`, so it is there only if the grant still held.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from app.audio.denoise import MIN_PROFILE_SECONDS, QuietTracker, StreamingDenoiser
from app.audio.wavio import WavReader, WavWriter
from app.consent import ConsentRequired, Gate
from app.consent.purposes import NOISE_SUPPRESSION

# One second per block: at most ~20 ms of work between two looks at `stop` (the denoiser costs
# ~1 ms per 64 ms, benchmarks/denoise.py), and a few hundred kB of memory at 48 kHz stereo.
BLOCK_SECONDS = 1.0
# Share of the progress bar the learning pass takes. Measured on jfk.wav x 60 (benchmarks/
# denoise_memory.py): learning took 14 % of the CPU time of learning plus denoising.
LEARN_SHARE = 0.15


@dataclass(frozen=True)
class DenoisedFile:
    seconds: float
    channels: int
    quiet_seconds: float  # quiet audio the first channel's noise profile was learned from
    learned: bool  # False: no second of quiet audio was found, the start may stay noisy


def denoise_wav(
    reader: WavReader,
    writer: WavWriter,
    gate: Gate,
    *,
    strength: str,
    stop: threading.Event,
    on_progress: Callable[[float], None] | None = None,
) -> DenoisedFile:
    """Denoise `reader` into `writer` and commit it. Raises ConsentRequired when `stop` was set
    because the purpose was withdrawn (nothing is left written), WavReadError, WavWriteError."""
    gate.require(NOISE_SUPPRESSION)
    info = reader.info
    block = max(1, int(BLOCK_SECONDS * info.rate))
    progress = on_progress or (lambda _fraction: None)

    def check() -> None:
        if stop.is_set() or not gate.allowed(NOISE_SUPPRESSION):
            raise ConsentRequired(NOISE_SUPPRESSION, "it was withdrawn while denoising")

    try:
        trackers = [QuietTracker(info.rate) for _ in range(info.channels)]
        done = 0
        for samples in reader.blocks(block):
            check()
            for channel, tracker in enumerate(trackers):
                tracker.feed(samples[:, channel])
            done += len(samples)
            progress(LEARN_SHARE * done / info.frames)
        quiet = []
        for tracker in trackers:
            tracker.finish()
            quiet.append(tracker.quiet_audio())

        denoisers = [StreamingDenoiser(gate, rate=info.rate, strength=strength)
                     for _ in range(info.channels)]
        try:
            for denoiser, audio in zip(denoisers, quiet, strict=True):
                if len(audio) >= MIN_PROFILE_SECONDS * info.rate:
                    denoiser.learn_noise(audio)
            done = 0
            for samples in reader.blocks(block):
                check()
                outs = [d.process(samples[:, c]) for c, d in enumerate(denoisers)]
                _write_aligned(writer, outs)
                done += len(samples)
                progress(LEARN_SHARE + (1 - LEARN_SHARE) * done / info.frames)
            check()
            _write_aligned(writer, [d.flush() for d in denoisers])
        finally:
            for denoiser in denoisers:
                denoiser.close()
        # In place only while the grant holds: a withdrawal recorded meanwhile leaves nothing.
        with gate.guard(NOISE_SUPPRESSION):
            check()
            writer.commit()
    except BaseException:
        writer.abort()
        raise
    progress(1.0)
    return DenoisedFile(seconds=info.seconds, channels=info.channels,
                        quiet_seconds=len(quiet[0]) / info.rate,
                        learned=len(quiet[0]) >= MIN_PROFILE_SECONDS * info.rate)


def _write_aligned(writer: WavWriter, outs: list) -> None:
    """Interleave the channels' outputs. Every channel's denoiser received the same number of
    samples, and its output count depends only on that, so the channels stay aligned."""
    import numpy as np

    n = min(len(o) for o in outs)
    assert all(len(o) == n for o in outs), "channel outputs out of step"
    if n:
        writer.write(np.stack([o[:n] for o in outs], axis=1))
