"""Streaming noise suppression over noisereduce's stationary spectral gate.

How it streams: the signal is cut into blocks of `block` samples on a fixed grid. Each block is
gated together with `context` samples on both sides (so its STFT frames and mask smoothing see the
same neighbourhood as a whole-file run would), and the gated block, widened by `fade` samples on
each side, is overlap-added with raised-cosine cross-fades. Away from the ends the output equals
noisereduce run on the whole file with the same profile; where the profile or strength changes
between blocks, the cross-fade hides the join.

The noise profile is what the gate treats as "not speech": learned explicitly from a few seconds
without speech (`learn_noise`, `learn_next` = the "Learn room noise" action) and automatically
from quiet stretches of the input. Until a profile exists the audio passes through unchanged.

Consent: every block checks `noise_suppression`. Without it the audio passes through unchanged
(the meeting goes on raw, with the same delay), nothing is learned, and a withdrawal drops the
profile learned so far. noisereduce is imported only when a block is actually gated.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.audio.capture import AudioChunk
from app.consent import ConsentRequired
from app.consent.contract import Gate
from app.consent.purposes import NOISE_SUPPRESSION

log = logging.getLogger(__name__)

PURPOSE = NOISE_SUPPRESSION
STRENGTHS = ("off", "low", "medium", "high")
# What the recogniser is fed by default, decided by measurement (benchmarks/denoise.py): gating
# the audio made tiny.en's word error rate worse on some noisy mixtures, and the default must
# never make it worse. The denoiser is for what people hear; captions get the raw audio.
RECOGNISER_INPUT_DEFAULT = "raw"


@dataclass(frozen=True)
class StrengthSettings:
    """noisereduce stationary-gate settings for one strength."""

    n_std_thresh: float  # threshold above the noise mean, in noise standard deviations
    prop_decrease: float  # how much of the gated noise is removed (1.0 = all)


SETTINGS: dict[str, StrengthSettings] = {
    "low": StrengthSettings(n_std_thresh=1.5, prop_decrease=0.6),
    "medium": StrengthSettings(n_std_thresh=1.5, prop_decrease=0.85),
    "high": StrengthSettings(n_std_thresh=1.5, prop_decrease=1.0),
}
DEFAULT_STRENGTH = "medium"

# Mask smoothing over time only: smoothing across 500 Hz (noisereduce's default) smears hum lines
# into speech bins; measured, no frequency smoothing gained 1-3 dB SI-SDR on fan and room noise.
TIME_SMOOTH_MS = 50
MIN_PROFILE_SECONDS = 1.0


def fft_size(rate: int) -> int:
    """32 ms analysis windows at any rate (512 at 16 kHz), as a power of two."""
    return 1 << max(6, round(np.log2(0.032 * rate)))


def noisereduce_kwargs(strength: str, rate: int) -> dict[str, Any]:
    """The `noisereduce.reduce_noise` arguments this module's gate corresponds to.

    A whole-file run `reduce_noise(y, rate, y_noise=profile, padding=0, chunk_size=len(y) + 1,
    **noisereduce_kwargs(strength, rate))` is what the streaming output equals away from the ends.
    """
    settings = SETTINGS[strength]
    return {
        "stationary": True,
        "n_fft": fft_size(rate),
        "freq_mask_smooth_hz": None,
        "time_mask_smooth_ms": TIME_SMOOTH_MS,
        "n_std_thresh_stationary": settings.n_std_thresh,
        "prop_decrease": settings.prop_decrease,
        "clip_noise_stationary": False,
    }


class _SpectralGate:
    """noisereduce's stationary gate with a fixed profile, applied to one segment at a time."""

    def __init__(self, profile: np.ndarray, rate: int, strength: str) -> None:
        from noisereduce.spectralgate.stationary import SpectralGateStationary

        kwargs = noisereduce_kwargs(strength, rate)
        n_fft = kwargs["n_fft"]
        self._gate = SpectralGateStationary(
            y=np.zeros(2 * n_fft, dtype=np.float32),
            sr=rate,
            y_noise=profile.astype(np.float32),
            n_std_thresh_stationary=kwargs["n_std_thresh_stationary"],
            chunk_size=len(profile) + 1,
            clip_noise_stationary=False,
            padding=0,
            n_fft=n_fft,
            win_length=None,
            hop_length=None,
            time_constant_s=2.0,
            freq_mask_smooth_hz=kwargs["freq_mask_smooth_hz"],
            time_mask_smooth_ms=kwargs["time_mask_smooth_ms"],
            tmp_folder=None,
            prop_decrease=kwargs["prop_decrease"],
            use_tqdm=False,
            n_jobs=1,
        )

    def __call__(self, segment: np.ndarray) -> np.ndarray:
        out = self._gate.spectral_gating_stationary(segment[np.newaxis, :].astype(np.float32))
        return out[0]


class QuietTracker:
    """Finds stretches without speech in a stream, to learn the room's noise from them.

    A spectral test, because frame energy alone cannot tell soft speech from noise at meeting
    SNRs (measured: half of the "quiet" frames an energy test picked at 5 dB SNR held speech).
    Each 32 ms frame's spectrum (100-4000 Hz) is compared with a per-bin noise floor, a low
    percentile of the last `window_s` seconds; noise alone rarely rises `above_db` over it, speech
    lifts many bins at once. Frames with fewer than `max_fraction` of their bins above are
    noise-only; runs of at least `min_run` such frames go to a reservoir of the latest `keep_s`
    seconds, which becomes the noise profile.
    """

    def __init__(
        self,
        rate: int,
        *,
        window_s: float = 10.0,
        percentile: float = 30.0,
        above_db: float = 10.0,
        max_fraction: float = 0.1,
        min_run: int = 3,
        warmup_s: float = 1.0,
        keep_s: float = 10.0,
    ) -> None:
        self.rate = rate
        self.frame = fft_size(rate)
        self._window = np.hanning(self.frame)
        bin_hz = rate / self.frame
        self._bins = slice(max(1, int(100 / bin_hz)), int(min(4000, rate / 2) / bin_hz))
        self._history: deque[np.ndarray] = deque(maxlen=max(8, int(window_s * rate / self.frame)))
        self._warmup = max(8, int(warmup_s * rate / self.frame))
        self._percentile = percentile
        self._above_db = above_db
        self._max_fraction = max_fraction
        self._min_run = min_run
        self._floor: np.ndarray | None = None
        self._since_floor = 0
        self._keep = int(keep_s * rate)
        self._pending = np.zeros(0, dtype=np.float32)
        self._run: list[np.ndarray] = []
        self._reservoir: deque[np.ndarray] = deque()
        self._reservoir_len = 0

    def feed(self, samples: np.ndarray) -> None:
        data = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        n = len(data) // self.frame
        self._pending = data[n * self.frame :].copy()
        if n == 0:
            return
        frames = data[: n * self.frame].reshape(n, self.frame)
        spectra = np.abs(np.fft.rfft(frames * self._window, axis=1)[:, self._bins]) ** 2
        levels = 10.0 * np.log10(spectra + 1e-20)
        for frame, level in zip(frames, levels, strict=True):
            if float(np.max(np.abs(frame))) < 3e-5:  # digital silence says nothing about the room
                self._end_run()
                continue
            self._history.append(level)
            self._since_floor += 1
            if len(self._history) < self._warmup:
                continue
            if self._floor is None or self._since_floor >= 8:  # refresh every quarter second
                self._floor = np.percentile(np.stack(self._history), self._percentile, axis=0)
                self._since_floor = 0
            if np.mean(level > self._floor + self._above_db) < self._max_fraction:
                self._run.append(frame.copy())
            else:
                self._end_run()

    def _end_run(self) -> None:
        run, self._run = self._run, []
        if len(run) < self._min_run:
            return
        piece = np.concatenate(run)
        self._reservoir.append(piece)
        self._reservoir_len += len(piece)
        while self._reservoir_len - len(self._reservoir[0]) >= self._keep:
            self._reservoir_len -= len(self._reservoir.popleft())

    def finish(self) -> None:
        """Bank a quiet run still open at the end of a recording."""
        self._end_run()

    @property
    def quiet_seconds(self) -> float:
        return (self._reservoir_len + len(self._run) * self.frame) / self.rate

    def quiet_audio(self) -> np.ndarray:
        if len(self._run) >= self._min_run:
            self._end_run()
        if not self._reservoir:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(list(self._reservoir))


def find_quiet(samples: np.ndarray, rate: int, keep_s: float = 10.0) -> np.ndarray:
    """Quiet stretches of a whole recording (up to `keep_s` seconds of them, the latest kept)."""
    tracker = QuietTracker(rate, keep_s=keep_s)
    tracker.feed(samples)
    tracker.finish()
    return tracker.quiet_audio()


class StreamingDenoiser:
    """Block-wise noise suppression with overlap-add; see the module doc.

    `process(samples)` takes any number of new input samples and returns the output samples that
    are final so far; output sample i corresponds to input sample i (it only comes later, at most
    `latency` samples). `flush()` returns the rest at the end of a stream.
    """

    def __init__(
        self,
        gate: Gate,
        *,
        rate: int = 16000,
        strength: str = DEFAULT_STRENGTH,
        auto_learn: bool = True,
        relearn_every_s: float = 5.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if strength not in STRENGTHS:
            raise ValueError(f"unknown strength {strength!r}; use one of {', '.join(STRENGTHS)}")
        self._gate = gate
        self.rate = int(rate)
        self.n_fft = fft_size(self.rate)
        hop = self.n_fft // 4
        self.block = 8 * hop  # 64 ms
        # STFT window + time-smoothing span of the mask, on the hop grid, on each side.
        self.context = 12 * hop
        self.fade = 2 * hop
        self._strength = strength
        self._auto_learn = auto_learn
        self._relearn_every = int(relearn_every_s * self.rate)
        self._lock = threading.RLock()
        self._profile: np.ndarray | None = None
        self.profile_source: str | None = None  # "learned" | "auto"
        self._gates: dict[str, _SpectralGate] = {}
        self._tracker = QuietTracker(self.rate)
        self._since_relearn = 0
        self._learn_target = 0
        self._learn_buffer: list[np.ndarray] = []
        self._learn_len = 0
        self.gated_blocks = 0
        self.passed_blocks = 0
        self._chunk_next: float | None = None  # process_chunk: where the next chunk should start
        self._segment_start = 0.0
        self._segment_out = 0
        # sin² and cos² sampled at mid-points: the two fades sum to exactly 1.
        phase = (np.arange(2 * self.fade) + 0.5) * (np.pi / 2) / (2 * self.fade)
        self._fade_in = np.sin(phase) ** 2
        self._fade_out = 1.0 - self._fade_in
        self._unsubscribe: Callable[[], None] | None = gate.on_withdrawn(self._on_withdrawn)
        self.reset()

    # --- public API ---------------------------------------------------------------------------
    @property
    def strength(self) -> str:
        return self._strength

    @strength.setter
    def strength(self, value: str) -> None:
        if value not in STRENGTHS:
            raise ValueError(f"unknown strength {value!r}; use one of {', '.join(STRENGTHS)}")
        with self._lock:
            self._strength = value

    @property
    def latency(self) -> int:
        """Most samples an input sample waits before its output is returned."""
        return self.block + self.context + self.fade

    @property
    def has_profile(self) -> bool:
        return self._profile is not None

    @property
    def learning_progress(self) -> float | None:
        """Progress of `learn_next` (0..1), or None when no learning is under way."""
        with self._lock:
            if not self._learn_target:
                return None
            return min(1.0, self._learn_len / self._learn_target)

    def learn_noise(self, samples: np.ndarray) -> None:
        """The "Learn room noise" action: samples recorded while nobody spoke (at least 1 s)."""
        self._gate.require(PURPOSE)
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if len(samples) < MIN_PROFILE_SECONDS * self.rate:
            raise ValueError(
                f"learning the room noise needs at least {MIN_PROFILE_SECONDS:g} s of audio "
                f"without speech; got {len(samples) / self.rate:.2f} s"
            )
        with self._lock:
            self._set_profile(samples, "learned")

    def learn_next(self, seconds: float = 3.0) -> None:
        """Learn the room noise from the next `seconds` of input (ask people to keep quiet)."""
        self._gate.require(PURPOSE)
        if seconds < MIN_PROFILE_SECONDS:
            raise ValueError(f"learn at least {MIN_PROFILE_SECONDS:g} s of room noise")
        with self._lock:
            self._learn_target = int(seconds * self.rate)
            self._learn_buffer = []
            self._learn_len = 0

    def warm_up(self) -> bool:
        """Import noisereduce now (about 2 s cold) instead of inside the first gated block.

        Call it off the audio path once `noise_suppression` is given; does nothing without it.
        Returns whether the engine is ready.
        """
        if not self._gate.allowed(PURPOSE):
            return False
        import noisereduce.spectralgate.stationary  # noqa: F401

        return True

    def forget_noise(self) -> None:
        with self._lock:
            self._drop_learned()

    def process(self, samples: np.ndarray) -> np.ndarray:
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        with self._lock:
            self._received += len(samples)
            self._input.append(samples)
            self._input_len += len(samples)
            allowed = self._gate.allowed(PURPOSE)
            if allowed:
                self._learn(samples)
            return self._run_blocks(final=False)

    def flush(self) -> np.ndarray:
        """The rest of the output at the end of a stream; the denoiser then starts afresh."""
        with self._lock:
            out = self._run_blocks(final=True)
            self.reset()
            return out

    def reset(self) -> None:
        """Forget the stream position (not the noise profile)."""
        with self._lock:
            # Input kept from absolute sample `_input_start`; zeros stand in before the start.
            self._input: list[np.ndarray] = [np.zeros(self.context, dtype=np.float32)]
            self._input_len = self.context
            self._input_start = -self.context
            self._received = 0
            self._next_block = 0
            self._emitted = 0
            self._tail = np.zeros(0, dtype=np.float64)  # end of the previous block, not faded

    def close(self) -> None:
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()

    def denoise(self, samples: np.ndarray) -> np.ndarray:
        """A whole recording through the stream, same length out as in."""
        out = [self.process(samples), self.flush()]
        return np.concatenate(out)[: len(samples)]

    def process_chunk(self, chunk: AudioChunk) -> list[AudioChunk]:
        """Capture chunks in, denoised chunks out, on the same capture timeline.

        A gap in the timeline (mute, a device switch) ends the current stream: its rest is
        returned first, and the next stretch starts afresh, so no audio is shifted in time.
        """
        if chunk.rate != self.rate:
            raise ValueError(f"chunk at {chunk.rate} Hz given to a {self.rate} Hz denoiser")
        out: list[AudioChunk] = []
        with self._lock:
            if (
                self._chunk_next is not None
                and abs(chunk.start - self._chunk_next) > 0.5 / self.rate
            ):
                out += self.flush_chunks()
            if self._chunk_next is None:
                self._segment_start = chunk.start
                self._segment_out = 0
            self._chunk_next = chunk.end
            out += self._as_chunks(self.process(chunk.samples))
        return out

    def flush_chunks(self) -> list[AudioChunk]:
        """The rest of the current stretch as chunks (at the end, or before a gap)."""
        with self._lock:
            if self._chunk_next is None:
                return []
            out = self._as_chunks(self.flush())
            self._chunk_next = None
            return out

    def _as_chunks(self, samples: np.ndarray) -> list[AudioChunk]:
        if len(samples) == 0:
            return []
        start = self._segment_start + self._segment_out / self.rate
        self._segment_out += len(samples)
        return [AudioChunk(samples, start, self.rate)]

    # --- internals ----------------------------------------------------------------------------
    def _on_withdrawn(self, purpose: str) -> None:
        if purpose != PURPOSE:
            return
        # Lock-free on purpose (the recording thread must not wait for a block): the next block
        # checks the gate and passes audio through.
        self._profile = None
        self.profile_source = None
        self._gates = {}
        self._tracker = QuietTracker(self.rate)
        self._learn_target = 0
        self._learn_buffer = []
        self._learn_len = 0

    def _drop_learned(self) -> None:
        self._profile = None
        self.profile_source = None
        self._gates = {}
        self._tracker = QuietTracker(self.rate)

    def _set_profile(self, profile: np.ndarray, source: str) -> None:
        # Under the gate's guard: a withdrawal recorded meanwhile cannot leave a profile behind.
        with self._gate.guard(PURPOSE):
            self._profile = profile.copy()
            self.profile_source = source
            self._gates = {}
        self._since_relearn = 0
        log.info("noise profile from %.1f s of %s audio", len(profile) / self.rate, source)

    def _learn(self, samples: np.ndarray) -> None:
        if self._learn_target:
            self._learn_buffer.append(samples.copy())
            self._learn_len += len(samples)
            if self._learn_len >= self._learn_target:
                profile = np.concatenate(self._learn_buffer)[: self._learn_target]
                self._learn_target = 0
                self._learn_buffer = []
                self._learn_len = 0
                with contextlib.suppress(ConsentRequired):  # withdrawn just now: learn nothing
                    self._set_profile(profile, "learned")
            return
        if not self._auto_learn:
            return
        self._tracker.feed(samples)
        self._since_relearn += len(samples)
        quiet = self._tracker.quiet_seconds
        if quiet >= MIN_PROFILE_SECONDS and (
            self._profile is None
            or (self.profile_source == "auto" and self._since_relearn >= self._relearn_every)
        ):
            with contextlib.suppress(ConsentRequired):
                self._set_profile(self._tracker.quiet_audio(), "auto")

    def _gate_for(self, strength: str) -> _SpectralGate | None:
        if strength == "off" or self._profile is None:
            return None
        gate = self._gates.get(strength)
        if gate is None:
            gate = self._gates[strength] = _SpectralGate(self._profile, self.rate, strength)
        return gate

    def _take(self, start: int, stop: int) -> np.ndarray:
        """Input samples [start, stop) in absolute positions, zeros past the end."""
        data = np.concatenate(self._input) if len(self._input) > 1 else self._input[0]
        self._input = [data]
        lo = start - self._input_start
        hi = stop - self._input_start
        piece = data[lo : min(hi, len(data))]
        if len(piece) < hi - lo:
            piece = np.concatenate([piece, np.zeros(hi - lo - len(piece), dtype=np.float32)])
        return piece

    def _run_blocks(self, final: bool) -> np.ndarray:
        out: list[np.ndarray] = []
        available = self._input_start + self._input_len  # == self._received
        while True:
            start = self._next_block * self.block
            stop = start + self.block
            if final:
                if start >= self._received:
                    break
            elif stop + self.context > available:
                break
            segment = self._take(start - self.context, stop + self.context)
            allowed = self._gate.allowed(PURPOSE)
            gate = self._gate_for(self._strength) if allowed else None
            if gate is not None:
                processed = gate(segment).astype(np.float64)
                self.gated_blocks += 1
                if not self._gate.allowed(PURPOSE):  # withdrawn while gating: drop the result
                    processed = segment.astype(np.float64)
                    self.gated_blocks -= 1
                    self.passed_blocks += 1
            else:
                processed = segment.astype(np.float64)
                self.passed_blocks += 1
            lo = self.context - self.fade
            piece = processed[lo : lo + self.block + 2 * self.fade]
            head = piece[: 2 * self.fade]
            if self._next_block == 0:
                head = head.copy()  # nothing before the first block to fade against
            else:
                head = head * self._fade_in + self._tail * self._fade_out
            body = piece[2 * self.fade : self.block]
            self._tail = piece[self.block :]
            # Final output for [start - fade, stop - fade); the first block starts at 0.
            emitted = np.concatenate([head, body])
            if self._next_block == 0:
                emitted = emitted[self.fade :]
            out.append(emitted)
            self._next_block += 1
            # Drop input no later block needs.
            keep_from = self._next_block * self.block - self.context
            drop = keep_from - self._input_start
            if drop > 0:
                data = self._input[0] if len(self._input) == 1 else np.concatenate(self._input)
                self._input = [data[drop:]]
                self._input_start = keep_from
                self._input_len = len(self._input[0])
        if final and self._next_block > 0:
            out.append(self._tail)  # the last block's tail overlaps no later block
        result = np.concatenate(out) if out else np.zeros(0)
        if final:
            result = result[: max(0, self._received - self._emitted)]
        self._emitted += len(result)
        return result.astype(np.float32)
