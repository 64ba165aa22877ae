"""Echo control: the others' voices, played by the speakers, leaking into the microphone must
not be captioned again as "You".

How: system audio is the reference. Every 100 ms frame of the microphone is compared with the
reference around the same meeting time (lags -50...+250 ms: the acoustic delay plus the error
between the two sources' timelines). The best-matching delayed, scaled copy of the reference is
subtracted (a one-tap echo canceller: exact for a plain delayed echo, partial in a reverberant
room), and a frame whose energy the echo explains almost entirely (residual 10 dB or more below
it) is silenced (residual echo suppression). When the user talks over the others, the echo
explains little of the frame, and their voice passes (double talk).

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
MIN_LAG = -0.05
MAX_LAG = 0.25
KEEP_SECONDS = 3.0
SILENT_RMS = 10 ** (-55 / 20)  # a reference below -55 dBFS cannot leak audibly
EXPLAINED = 0.1  # residual energy ratio (-10 dB) under which a frame is the echo alone


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
        need = out_start + ready - round(MIN_LAG * RATE)  # the reference may run late
        with self._cond:
            # a stalled reference (its device lost) is not waited for again until it moves
            waited = self._active and self._ref_end != self._stalled_at
            if waited and not self._cond.wait_for(
                    lambda: not self._active or self._ref_end >= need, timeout=self.wait):
                self._stalled_at = self._ref_end
            ref, ref_start = self._ref, self._ref_start
        for i in range(0, ready, FRAME):
            out[i:i + FRAME] = self._frame(out[i:i + FRAME], out_start + i, ref, ref_start)
        return out, out_start / RATE

    def flush(self) -> tuple[np.ndarray, float]:
        rest, start = self._pending, self._pending_start
        self._pending = np.zeros(0, dtype=np.float32)
        return rest, start / RATE

    def _frame(self, mic: np.ndarray, first: int, ref: np.ndarray, ref_start: int) -> np.ndarray:
        self.frames += 1
        lo = first - round(MAX_LAG * RATE) - ref_start  # reference played up to MAX_LAG before
        hi = first + len(mic) - round(MIN_LAG * RATE) - ref_start
        if lo < 0 or hi > len(ref):
            lo, hi = max(lo, 0), min(hi, len(ref))
            if hi - lo < len(mic):
                return mic
        window = ref[lo:hi]
        if float(np.sqrt(np.mean(window * window))) < SILENT_RMS:
            return mic
        from scipy.signal import correlate

        # correlation of the mic frame with every lag of the reference window
        xcorr = correlate(window, mic, mode="valid", method="fft")
        energy = np.convolve(window * window, np.ones(len(mic)), mode="valid")
        best = int(np.argmax(np.abs(xcorr) / np.sqrt(np.maximum(energy, 1e-12))))
        echo = window[best:best + len(mic)]
        gain = float(xcorr[best] / max(energy[best], 1e-12))
        residual = mic - gain * echo
        mic_energy = float(np.dot(mic, mic))
        if mic_energy <= 0.0:
            return mic
        if float(np.dot(residual, residual)) <= EXPLAINED * mic_energy:
            self.suppressed += 1
            return np.zeros_like(mic)
        return residual.astype(np.float32)
