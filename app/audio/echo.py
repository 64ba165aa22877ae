"""Echo control: the others' voices, played by the speakers, leaking into the microphone must
not be captioned again as "You".

How: system audio is the reference. Every 100 ms frame of the microphone is compared with the
reference around the same meeting time. The best-matching delayed, scaled copy of the reference is
subtracted (a one-tap echo canceller: exact for a plain delayed echo, partial in a reverberant
room), and a frame whose energy the echo explains almost entirely (residual 10 dB or more below
it) is silenced (residual echo suppression). When the user talks over the others, the echo
explains little of the frame, and their voice passes (double talk).

Where to look: the echo's delay on the meeting timeline is the acoustic delay plus the error
between the two sources' timelines (each starts where its first block arrived): measured -0.02
to +0.05 s over three runs of one meeting, and -0.26 to +0.33 s when both were placed by the
capture times their streams report instead (tried and dropped for that); it is unknown on a
machine we did not measure (Bluetooth headsets add 0.1-0.3 s of their own). A delay
tracker finds it, as the delay estimators of WebRTC's AEC do: each frame is also compared over a
wide range (SEARCH_MIN...SEARCH_MAX, once the reference covers it), a frame the echo mostly
explains votes for its lag, and once the votes agree only NEAR either side of that delay is
searched. Before that, MIN_LAG...MAX_LAG. Searching the wide range for every frame instead let
unrelated speech match somewhere (explained share p99 0.35, max 0.42 over -0.1...+0.5 s alone),
which the narrow search after the lock avoids; a frame votes only above VOTE.

A frame the echo explains less than SUBTRACT of is passed untouched until the delay is tracked.
Measured (the "You" side of the benchmark's espeak-ng meeting, live captions): subtracting the
best match from every frame took the user's WER from 2.7 % to 6.7 % with the others playing and
*no* echo at all, and to 13.3 % with a -12 dB echo: among hundreds of lags some scaled piece of
the others' speech always correlates a little with the user's, and subtracting it mixes the
others into the user's voice. With the gate: 2.7 % in both cases, no leaked word. Once the delay
is tracked, only NEAR is searched and a match there is the echo, so the gate drops to
SUBTRACT_TRACKED: the user talking over a loud echo keeps less of it.

Measured with benchmarks/meeting.py (echo from -12 to -3 dB, 0 to 150 ms late). Chosen over a
speexdsp AEC binding (speexaec, speexdsp-aec on PyPI): those adapt an FIR filter over seconds
and need both streams sample-aligned on one clock, which two separately clocked sources are
not; here each frame finds its own lag.

Threads: the system source's reader adds reference audio; the microphone's reader processes
its chunks, waiting at most `wait` seconds for the reference to cover them.
"""

from __future__ import annotations

import threading

import numpy as np

RATE = 16000
FRAME = 1600  # 100 ms
MIN_LAG = -0.1  # searched while the delay is not known yet (seconds the mic hears it late)
MAX_LAG = 0.5
SEARCH_MIN = -1.0  # the delay tracker's range
SEARCH_MAX = 1.5
NEAR = 0.06  # searched either side of a tracked delay
BIN = 80  # samples (5 ms) per vote bin
VOTE = 0.5  # share of a frame's energy the echo must explain for the frame to vote
DECAY = 0.9  # what the earlier votes keep at each vote: a delay that moves is followed
LOCK = 2.0  # votes a lag needs (about three frames of echo alone)
KEEP_SECONDS = 4.0  # reference kept: the tracker looks SEARCH_MAX back from a frame seen late
SILENT_RMS = 10 ** (-55 / 20)  # a reference below -55 dBFS cannot leak audibly
EXPLAINED = 0.1  # residual energy ratio (-10 dB) under which a frame is the echo alone
SUBTRACT = 0.3  # share of a frame's energy the echo must explain before it is subtracted
SUBTRACT_TRACKED = 0.1  # the same once the delay is tracked: only NEAR is searched then


class EchoSuppressor:
    def __init__(self, *, wait: float = 0.4) -> None:
        self.wait = wait
        self._cond = threading.Condition()
        self._ref = np.zeros(0, dtype=np.float32)
        self._ref_start = 0  # meeting sample of _ref[0]
        self._ref_end = 0  # meeting sample after the last reference sample
        self._active = False
        self._stalled_at = -1
        self._pending = np.zeros(0, dtype=np.float32)
        self._pending_start = 0
        self._unvoted: list[tuple[int, np.ndarray]] = []  # mic frames the tracker has not seen
        self._votes = np.zeros(round((SEARCH_MAX - SEARCH_MIN) * RATE) // BIN + 1)
        self.delay: float | None = None  # the tracked delay of the echo (seconds)
        self.frames = 0
        self.suppressed = 0  # frames silenced as echo alone

    # -- the reference (system audio's reader) ---------------------------------------------------
    def set_active(self, active: bool) -> None:
        with self._cond:
            self._active = active
            self._cond.notify_all()

    def add_reference(self, samples: np.ndarray, start: float) -> None:
        first = round(start * RATE)
        with self._cond:
            if not len(self._ref):
                self._ref_start = first
            gap = first - (self._ref_start + len(self._ref))
            parts = [self._ref]
            if gap > 0:
                parts.append(np.zeros(gap, dtype=np.float32))
            elif gap < 0:
                samples = samples[-gap:]
            parts.append(np.asarray(samples, dtype=np.float32))
            self._ref = np.concatenate(parts)
            excess = len(self._ref) - int(KEEP_SECONDS * RATE)
            if excess > 0:
                self._ref = self._ref[excess:]
                self._ref_start += excess
            self._ref_end = self._ref_start + len(self._ref)
            self._cond.notify_all()

    # -- the microphone's reader ------------------------------------------------------------------
    def process(self, samples: np.ndarray, start: float) -> tuple[np.ndarray, float]:
        """The microphone's audio with the echo removed, in whole frames: returns the frames
        that are ready and their start (meeting seconds); the rest waits for the next call."""
        first = round(start * RATE)
        if not len(self._pending) or first != self._pending_start + len(self._pending):
            self._pending = np.zeros(0, dtype=np.float32)  # a gap: start afresh there
            self._pending_start = first
        self._pending = np.concatenate([self._pending, np.asarray(samples, np.float32)])
        ready = len(self._pending) // FRAME * FRAME
        if not ready:
            return np.zeros(0, dtype=np.float32), self._pending_start / RATE
        out = self._pending[:ready].copy()
        out_start = self._pending_start
        self._pending = self._pending[ready:]
        self._pending_start += ready
        need = out_start + ready - round(self._lags()[0] * RATE)  # the reference may run late
        with self._cond:
            # a stalled reference (its device lost) is not waited for again until it moves
            waited = self._active and self._ref_end != self._stalled_at
            if waited and not self._cond.wait_for(
                    lambda: not self._active or self._ref_end >= need, timeout=self.wait):
                self._stalled_at = self._ref_end
            ref, ref_start = self._ref, self._ref_start
        self._unvoted += [(out_start + i, out[i:i + FRAME].copy()) for i in range(0, ready, FRAME)]
        self._track(ref, ref_start)
        for i in range(0, ready, FRAME):
            out[i:i + FRAME] = self._frame(out[i:i + FRAME], out_start + i, ref, ref_start)
        return out, out_start / RATE

    def _lags(self) -> tuple[float, float]:
        if self.delay is None:
            return MIN_LAG, MAX_LAG
        return self.delay - NEAR, self.delay + NEAR

    def _track(self, ref: np.ndarray, ref_start: int) -> None:
        """Let the frames the reference now covers over the whole search range vote."""
        waiting: list[tuple[int, np.ndarray]] = []
        for first, mic in self._unvoted:
            lo = first - round(SEARCH_MAX * RATE) - ref_start
            hi = first + len(mic) - round(SEARCH_MIN * RATE) - ref_start
            if lo < 0:
                continue  # the reference it needs is gone (or never came): no vote
            if hi > len(ref):
                waiting.append((first, mic))
                continue
            match = _best_match(ref[lo:hi], mic)
            if match is None or match[1] < VOTE:
                continue
            # match[0] is where the echo starts in the window: its delay is SEARCH_MAX - that
            self._votes *= DECAY
            self._votes[match[0] // BIN] += match[1]
            # a delay between two bins splits its votes: neighbours count together
            near = np.convolve(self._votes, np.ones(3), mode="same")
            top = int(np.argmax(near))
            if near[top] >= LOCK:
                self.delay = SEARCH_MAX - (top * BIN + BIN / 2) / RATE
        self._unvoted = waiting[-round(KEEP_SECONDS * RATE / FRAME):]

    def flush(self) -> tuple[np.ndarray, float]:
        rest, start = self._pending, self._pending_start
        self._pending = np.zeros(0, dtype=np.float32)
        return rest, start / RATE

    def _frame(self, mic: np.ndarray, first: int, ref: np.ndarray, ref_start: int) -> np.ndarray:
        self.frames += 1
        early, late = self._lags()
        lo = first - round(late * RATE) - ref_start  # reference played up to `late` before
        hi = first + len(mic) - round(early * RATE) - ref_start
        if lo < 0 or hi > len(ref):
            lo, hi = max(lo, 0), min(hi, len(ref))
            if hi - lo < len(mic):
                return mic
        window = ref[lo:hi]
        match = _best_match(window, mic)
        if match is None:
            return mic
        best, explained, gain = match
        if explained >= 1.0 - EXPLAINED:
            self.suppressed += 1
            return np.zeros_like(mic)
        if explained < (SUBTRACT if self.delay is None else SUBTRACT_TRACKED):
            return mic
        return (mic - gain * window[best:best + len(mic)]).astype(np.float32)


def _best_match(window: np.ndarray, mic: np.ndarray) -> tuple[int, float, float] | None:
    """Where in `window` the scaled piece that explains most of `mic` starts, the share of mic's
    energy it explains (least squares), and its scale; None for a silent reference or frame."""
    if float(np.sqrt(np.mean(window * window))) < SILENT_RMS:
        return None
    mic_energy = float(np.dot(mic, mic))
    if mic_energy <= 0.0:
        return None
    # correlation of the mic frame with every lag of the reference window, and the energy of
    # each window piece (a running sum: a convolution with ones cost 18 M operations a frame)
    xcorr = correlate_valid(window, mic)
    sums = np.concatenate([[0.0], np.cumsum(window.astype(np.float64) ** 2)])
    energy = np.maximum(sums[len(mic):] - sums[:-len(mic)], 1e-12)
    best = int(np.argmax(np.abs(xcorr) / np.sqrt(energy)))
    explained = float(xcorr[best]) ** 2 / float(energy[best]) / mic_energy
    return best, min(explained, 1.0), float(xcorr[best] / energy[best])


def correlate_valid(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """`scipy.signal.correlate(a, v, mode="valid", method="fft")` for 1-D real arrays, `a` at
    least as long as `v`: the same scipy.fft calls on the same numbers (equal, checked in
    tests/test_echo_correlate.py), without importing scipy.signal. Measured: importing
    scipy.signal costs 86 MB of resident memory (it pulls in scipy.optimize, sparse, special,
    linalg...), scipy.fft alone 28 MB; a meeting with system audio paid that from its first
    frame of echo control."""
    from scipy import fft as sp_fft

    kernel = v[::-1]
    full = len(a) + len(kernel) - 1  # fftconvolve's full length, padded to a fast size
    size = sp_fft.next_fast_len(full, True)
    product = sp_fft.rfftn(a, [size], axes=[0]) * sp_fft.rfftn(kernel, [size], axes=[0])
    spectrum = sp_fft.irfftn(product, [size], axes=[0])[:full]
    valid = len(a) - len(v) + 1
    start = (full - valid) // 2  # the centred part, as scipy's "valid" mode takes it
    return spectrum[start:start + valid].copy().astype(np.result_type(a, v))
