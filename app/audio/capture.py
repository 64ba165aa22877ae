"""Microphone capture: PortAudio stream -> bounded ring -> worker -> 16 kHz chunks for `read()`.

The PortAudio callback only copies each block into a preallocated ring, counts overflows and
wakes the worker (`threading.Event.set()`: its lock is held by the worker for microseconds only,
never across work); it allocates nothing. A worker thread per stream sleeps until a block, the
end of the stream, a stop, a mute, a withdrawal, a lost source or a watchdog deadline wakes it -
no polling: the 10 ms sleep loop it replaced woke ~95 times a second per source, idle or not
(benchmarks/capture_idle.py) - then drains the ring, meters the level, resamples to the target
rate with soxr (streaming, so block joins stay continuous) and queues `AudioChunk`s. Every chunk
carries its position on the capture timeline, so gaps (mute, overflow, a device switch) never
shift later audio.

Consent: `start()` requires `microphone`; a withdrawal (gate.on_withdrawn) makes the callback
drop every block and wakes the worker, which closes the stream at once, drops everything
buffered, and `read()` hands out frames only inside `gate.guard("microphone")`, so no frame is
delivered after the withdrawal was recorded.

Device lost: the stream finished without our `stop()`, no callback for `WATCHDOG_SECONDS`, or
the sound-server source it was opened on went away (app/audio/source_watch.py: PulseAudio then
moves the stream to another source, perhaps the monitor of the speakers, instead of ending it).
Everything captured before stays readable; then `read()` raises DeviceLostError until
`switch_device()` continues the same timeline on another device.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.audio import devices as _devices
from app.audio.errors import (
    AudioError,
    DeviceBusyError,
    DeviceLostError,
    DeviceNotFoundError,
    NoInputDeviceError,
    UnsupportedRateError,
)
from app.audio.source_watch import ClientsBefore, SourceWatch
from app.consent.contract import Gate
from app.consent.purposes import MICROPHONE

log = logging.getLogger(__name__)

PURPOSE = MICROPHONE
SILENCE_DBFS = -120.0
# Rates tried after the device's own default, most common first; the recogniser wants 16 kHz and
# soxr converts from any of them.
FALLBACK_RATES = (48000, 44100, 16000, 32000, 22050, 96000, 8000)
WATCHDOG_SECONDS = 1.0
# A sound server may take a moment to deliver its first block (about 2 s measured for the first
# stream of a fresh PulseAudio server), so the watchdog is armed only after the first callback.
FIRST_BLOCK_SECONDS = 5.0
RING_SECONDS = 8.0
# The longest the worker sleeps without being woken: the watchdog's deadlines are computed from
# the injected clock, which need not be the wall's, so they are re-checked at least this often.
MAX_WAIT_SECONDS = 0.25

# PortAudio error codes (portaudio.h) that change what we tell the user.
_PA_INVALID_SAMPLE_RATE = -9997
_PA_INVALID_DEVICE = -9996
_PA_DEVICE_UNAVAILABLE = -9985
_PA_UNANTICIPATED_HOST_ERROR = -9999
_EBUSY = -16


@dataclass(frozen=True)
class AudioChunk:
    samples: np.ndarray  # float32 mono at `rate` (16 kHz unless asked otherwise)
    start: float  # seconds of audio since capture began (capture timeline)
    rate: int = 16000

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / self.rate


def dbfs(value: float) -> float:
    """Amplitude relative to full scale in dB, floored at SILENCE_DBFS."""
    if value <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * math.log10(value))


def block_level(samples: np.ndarray) -> tuple[float, float]:
    """(RMS dBFS, peak dBFS) of one block."""
    if len(samples) == 0:
        return SILENCE_DBFS, SILENCE_DBFS
    x = samples.astype(np.float64, copy=False)
    return dbfs(float(np.sqrt(np.mean(x * x)))), dbfs(float(np.max(np.abs(x))))


class _BlockRing:
    """Single-producer (audio callback), single-consumer (worker) ring of fixed-size blocks.

    Preallocated, lock-free: the producer only advances `written`, the consumer only `taken`; a
    slot is reused only after the consumer copied it out.
    """

    def __init__(self, capacity: int, blocksize: int) -> None:
        self.capacity = capacity
        self.data = np.zeros((capacity, blocksize), dtype=np.float32)
        self.frames = np.zeros(capacity, dtype=np.int64)
        self.first_frame = np.zeros(capacity, dtype=np.int64)
        self.written = 0
        self.taken = 0

    def push(self, block: np.ndarray, first_frame: int) -> bool:
        if self.written - self.taken >= self.capacity:
            return False
        slot = self.written % self.capacity
        n = min(len(block), self.data.shape[1])
        self.data[slot, :n] = block[:n, 0]
        self.frames[slot] = n
        self.first_frame[slot] = first_frame
        self.written += 1
        return True

    def pop(self) -> tuple[np.ndarray, int] | None:
        if self.taken >= self.written:
            return None
        slot = self.taken % self.capacity
        block = self.data[slot, : self.frames[slot]].copy()
        first = int(self.first_frame[slot])
        self.taken += 1
        return block, first

    def clear(self) -> None:
        self.taken = self.written


class _Session:
    """One open stream on one device, from open to close, with its worker thread."""

    def __init__(
        self,
        owner: AudioCapture,
        device: _devices.InputDevice,
        rate: int,
        t0: float,
    ) -> None:
        self.owner = owner
        self.device = device
        self.rate = rate
        self.t0 = t0
        self.blocksize = owner._blocksize
        capacity = max(8, math.ceil(RING_SECONDS * rate / self.blocksize))
        self.ring = _BlockRing(capacity, self.blocksize)
        self.stream: Any = None
        self.callbacks = 0
        self.frames_seen = 0
        self.overflows = 0
        self.callback_thread_id: int | None = None
        self.abort = False  # withdrawal: the callback drops every block, the worker stops it
        # PortAudio calls on one stream from two threads (stop() by the owner, the worker's
        # close after a withdrawal) hung for seconds: one at a time.
        self.stream_lock = threading.Lock()
        self.stopping = False  # our stop(): a finished stream is then not a lost device
        self.stream_stopped = False  # stream.stop() returned: no callback will push again
        self.finished = False
        # Set by the source watch when the source this stream was opened on went away: what the
        # callback receives after that comes from a source the user did not pick.
        self.source_gone: str | None = None
        self.watch: SourceWatch | None = None
        self.ended = threading.Event()
        # A block, the end of the stream, a stop, a mute, a withdrawal, a lost source.
        self.wake = threading.Event()
        self.worker: threading.Thread | None = None

    # --- PortAudio's thread: copy and count, nothing else ---------------------------------
    def callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if self.callback_thread_id is None:
            self.callback_thread_id = threading.get_native_id()
        self.callbacks += 1
        if status and status.input_overflow:
            self.overflows += 1
        if self.abort or self.source_gone is not None:
            # Dropped, and the woken worker stops the stream. Not CallbackAbort:
            # a stream aborted from its callback made Pa_StopStream and Pa_CloseStream block
            # for more than 5 s in PulseAudio's ALSA plugin (measured with the virtual
            # microphone), keeping the device open in the sound server all that time.
            return
        first = self.frames_seen
        self.frames_seen = first + frames
        if self.owner._muted:
            return
        if not self.ring.push(indata, first):
            self.overflows += 1
        self.wake.set()

    def on_finished(self) -> None:
        self.finished = True
        self.wake.set()

    def on_source_gone(self, reason: str) -> None:
        self.source_gone = reason
        self.wake.set()

    def stop_watch(self) -> None:
        watch, self.watch = self.watch, None
        if watch is not None:
            watch.stop()

    @property
    def end_time(self) -> float:
        return self.t0 + self.frames_seen / self.rate

    # --- worker thread ----------------------------------------------------------------------
    def run(self) -> None:
        owner = self.owner
        clock = owner._clock
        opened_at = clock()
        last_count = 0
        last_change = opened_at
        expected: int | None = None
        resampler: Any = None
        segment_start = self.t0
        fed = 0  # device frames given to this segment's resampler
        produced = 0  # output samples emitted for them

        def emit(out: np.ndarray) -> None:
            nonlocal produced
            # soxr's flushed tail rounds up: a segment of n device frames came out as
            # ceil(n * target / rate) samples, the last one reaching up to a sample past the
            # captured audio (7 us measured at 44.1 kHz), i.e. into a mute or a gap that
            # follows. Chunks never extend past what the device delivered.
            out = out[: max(0, fed * owner._target_rate // self.rate - produced)]
            if len(out):
                owner._emit(out, segment_start + produced / owner._target_rate)
                produced += len(out)

        def flush() -> None:
            nonlocal resampler
            if resampler is not None:
                emit(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
                resampler = None

        try:
            while True:
                # Cleared before the ring is looked at: a block pushed after this wakes the
                # wait below at once.
                self.wake.clear()
                if self.abort:
                    self.ring.clear()
                    return
                item = self.ring.pop()
                if item is not None:
                    samples, first = item
                    if first != expected:
                        flush()
                        resampler = owner._new_resampler(self.rate)
                        segment_start = self.t0 + first / self.rate
                        fed = produced = 0
                    expected = first + len(samples)
                    owner._level = block_level(samples)
                    fed += len(samples)
                    emit(samples if resampler is None else resampler.resample_chunk(samples))
                    continue
                if owner._muted:
                    owner._level = (SILENCE_DBFS, SILENCE_DBFS)
                    flush()  # deliver the audio from before the mute now, not after it
                if self.stream_stopped:
                    flush()
                    return
                if self.stopping:
                    self.wake.wait(MAX_WAIT_SECONDS)
                    continue
                now = clock()
                if self.callbacks != last_count:
                    last_count = self.callbacks
                    last_change = now
                reason = None
                if self.source_gone is not None:
                    reason = self.source_gone
                elif self.finished:
                    reason = "the device went away"
                elif last_count == 0 and now - opened_at > FIRST_BLOCK_SECONDS:
                    reason = f"no audio arrived within {FIRST_BLOCK_SECONDS:g} s of opening it"
                elif last_count and now - last_change > WATCHDOG_SECONDS:
                    reason = f"no audio for {WATCHDOG_SECONDS:g} s"
                if reason is not None:
                    flush()
                    # Report first: closing a stream on a stalled server can block for long.
                    owner._device_lost(self, DeviceLostError(self.device.name, reason))
                    self.close_stream()
                    return
                deadline = (opened_at + FIRST_BLOCK_SECONDS if last_count == 0
                            else last_change + WATCHDOG_SECONDS)
                # A hair past the deadline, so the check after waking finds it passed.
                self.wake.wait(min(MAX_WAIT_SECONDS, max(0.0, deadline - now) + 0.001))
        except Exception:
            log.exception("audio worker failed")
            owner._device_lost(self, DeviceLostError(self.device.name, "an internal error"))
        finally:
            owner._level = (SILENCE_DBFS, SILENCE_DBFS)
            self.close_stream()
            self.ended.set()
            with owner._cond:
                owner._cond.notify_all()

    def close_stream(self) -> None:
        self.stop_watch()
        with self.stream_lock:
            stream, self.stream = self.stream, None
            if stream is None:
                return
            try:
                stream.stop()  # closing an active stream hung in PulseAudio's ALSA plugin
            except Exception:
                log.debug("stopping the audio stream before closing it failed", exc_info=True)
            try:
                stream.close(ignore_errors=True)
            except TypeError:  # an injected stream without that keyword
                stream.close()
            except Exception:
                log.warning("closing the audio stream failed", exc_info=True)
        _devices._stream_closed()


class AudioCapture:
    """Captures one microphone as float32 mono chunks at `target_rate` (see module doc).

    app/audio/system_audio.py captures what the computer plays through the same machinery,
    overriding `purpose`, `_resolve` and `_default_stream_factory`.
    """

    purpose: str = PURPOSE
    # Watch the sound-server source the stream records from (app/audio/source_watch.py).
    watch_source: bool = True

    def __init__(
        self,
        gate: Gate,
        device: int | str | None = None,
        *,
        target_rate: int = 16000,
        blocksize: int = 1024,
        stream_factory: Callable[..., Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_buffered_seconds: float = 300.0,
    ) -> None:
        self._gate = gate
        self._device = device
        self._target_rate = int(target_rate)
        self._blocksize = int(blocksize)
        self._stream_factory = stream_factory
        self._clock = clock
        self._max_buffered_samples = int(max_buffered_seconds * target_rate)
        self._lock = threading.RLock()  # start / stop / switch
        self._cond = threading.Condition()  # the output queue and the flags read() waits on
        self._out: deque[AudioChunk | DeviceLostError] = deque()
        self._buffered = 0
        self._session: _Session | None = None
        self._muted = False
        self._withdrawn = False
        self._level = (SILENCE_DBFS, SILENCE_DBFS)
        self._past_overflows = 0
        self._dropped_samples = 0
        self._emitted_end = 0.0
        self._unsubscribe: Callable[[], Any] | None = None

    # --- public API ---------------------------------------------------------------------------
    def start(self) -> None:
        """Open the microphone. Raises ConsentRequired without `microphone`, or an AudioError."""
        with self._lock:
            if self._session is not None and not self._session.ended.is_set():
                raise RuntimeError("the capture is already running")
            if self._unsubscribe is None:
                self._unsubscribe = self._gate.on_withdrawn(self._on_withdrawn)
            with self._cond:
                self._withdrawn = False
                self._out.clear()
                self._buffered = 0
                self._emitted_end = 0.0
            self._past_overflows = 0
            self._dropped_samples = 0
            try:
                self._gate.require(self.purpose)
                self._open(self._device, t0=0.0)
            except BaseException:
                if self._unsubscribe is not None:
                    unsubscribe, self._unsubscribe = self._unsubscribe, None
                    unsubscribe()
                raise

    def stop(self) -> None:
        """Close the microphone. Audio captured before stays readable; then read() -> None."""
        with self._lock:
            session = self._session
            if session is not None:
                self._finish(session)
            with self._cond:
                self._drop_lost_marker()
                self._cond.notify_all()
            if self._unsubscribe is not None:
                unsubscribe, self._unsubscribe = self._unsubscribe, None
                unsubscribe()

    def read(self, timeout: float | None = None) -> AudioChunk | None:
        """The next chunk; None on timeout or once a stopped capture is drained.

        Raises DeviceLostError after the audio captured before the loss has been read, and the
        gate's ConsentRequired once `microphone` was withdrawn.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                while True:
                    if self._withdrawn:
                        break
                    if self._out:
                        head = self._out[0]
                        if isinstance(head, DeviceLostError):
                            # A fresh exception each time: re-raising one instance grows its
                            # traceback with every read.
                            raise DeviceLostError(head.device_name, head.reason)
                        break
                    if not self.running:
                        return None
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return None
                    # Every change read() waits for notifies _cond; the timeout is a safety net.
                    self._cond.wait(MAX_WAIT_SECONDS if remaining is None else remaining)
                withdrawn = self._withdrawn
            if withdrawn:
                self._gate.require(self.purpose)  # raises the gate's ConsentRequired
                return None  # granted again meanwhile: this capture has still ended
            # A withdrawal cannot be recorded while the guard is held, so the chunk handed out
            # here was taken while `microphone` was given.
            with self._gate.guard(self.purpose), self._cond:
                if self._withdrawn or not self._out or isinstance(self._out[0], DeviceLostError):
                    continue
                chunk = self._out.popleft()
                assert isinstance(chunk, AudioChunk)
                self._buffered -= len(chunk.samples)
                return chunk

    def switch_device(self, device: int | str | None) -> None:
        """Continue on another device (after a loss, or any time); the timeline continues."""
        with self._lock:
            session = self._session
            t0 = 0.0
            if session is not None:
                if not session.ended.is_set():
                    self._finish(session)
                t0 = max(session.end_time, self._emitted_end)
            with self._cond:
                self._drop_lost_marker()
            if self._unsubscribe is None:
                self._unsubscribe = self._gate.on_withdrawn(self._on_withdrawn)
            self._gate.require(self.purpose)
            with self._cond:
                self._withdrawn = False
            self._device = device
            self._open(device, t0=t0)

    @property
    def muted(self) -> bool:
        return self._muted

    @muted.setter
    def muted(self, value: bool) -> None:
        self._muted = bool(value)
        session = self._session
        if session is not None:
            session.wake.set()  # the worker delivers what came before the mute now

    @property
    def level(self) -> tuple[float, float]:
        """(RMS dBFS, peak dBFS) of the latest block; SILENCE_DBFS when muted or stopped."""
        if self._muted or not self.running:
            return SILENCE_DBFS, SILENCE_DBFS
        return self._level

    @property
    def overflows(self) -> int:
        """Blocks lost because the buffer was full or PortAudio reported an input overflow."""
        session = self._session
        return self._past_overflows + (session.overflows if session is not None else 0)

    @property
    def dropped_seconds(self) -> float:
        """Audio discarded because nobody read it for `max_buffered_seconds`."""
        return self._dropped_samples / self._target_rate

    @property
    def running(self) -> bool:
        session = self._session
        return session is not None and not session.ended.is_set()

    @property
    def position(self) -> float:
        """Seconds on the capture timeline the device has delivered so far (muted ones too)."""
        session = self._session
        return 0.0 if session is None else session.end_time

    @property
    def device_name(self) -> str | None:
        session = self._session
        return None if session is None else session.device.name

    @property
    def device_rate(self) -> int | None:
        """The rate the device is actually opened at (before resampling)."""
        session = self._session
        return None if session is None else session.rate

    @property
    def stream_open(self) -> bool:
        session = self._session
        return session is not None and session.stream is not None

    @property
    def callback_thread_id(self) -> int | None:
        """Native id of PortAudio's callback thread (for CPU accounting in benchmarks)."""
        session = self._session
        return None if session is None else session.callback_thread_id

    @property
    def worker_thread_id(self) -> int | None:
        session = self._session
        worker = None if session is None else session.worker
        return None if worker is None else worker.native_id

    def __enter__(self) -> AudioCapture:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- internals ----------------------------------------------------------------------------
    def _new_resampler(self, rate: int) -> Any:
        if rate == self._target_rate:
            return None
        import soxr

        return soxr.ResampleStream(rate, self._target_rate, 1, dtype="float32", quality="HQ")

    def _emit(self, samples: np.ndarray, start: float) -> None:
        if len(samples) == 0:
            return
        with self._cond:
            if self._withdrawn:
                return
            # A resampler's flushed tail can end a fraction of a sample past where the device's
            # frame count puts the next block; the timeline never runs backwards.
            chunk = AudioChunk(np.ascontiguousarray(samples, dtype=np.float32),
                               max(float(start), self._emitted_end), self._target_rate)
            self._emitted_end = chunk.end
            self._out.append(chunk)
            self._buffered += len(chunk.samples)
            while self._buffered > self._max_buffered_samples and self._out:
                old = self._out[0]
                if not isinstance(old, AudioChunk):
                    break
                self._out.popleft()
                self._buffered -= len(old.samples)
                self._dropped_samples += len(old.samples)
            self._cond.notify_all()

    def _device_lost(self, session: _Session, error: DeviceLostError) -> None:
        log.warning("audio device lost: %s (%s)", session.device.name, error.reason)
        with self._cond:
            if not self._withdrawn:
                self._out.append(error)
            self._cond.notify_all()

    def _drop_lost_marker(self) -> None:
        kept = [item for item in self._out if isinstance(item, AudioChunk)]
        self._out.clear()
        self._out.extend(kept)

    def _on_withdrawn(self, purpose: str) -> None:
        # Runs on the thread that recorded the withdrawal: set flags and drop, never block.
        if purpose != self.purpose:
            return
        with self._cond:
            self._withdrawn = True
            self._out.clear()
            self._buffered = 0
            self._cond.notify_all()
        session = self._session
        if session is not None:
            session.abort = True
            session.ring.clear()
            session.wake.set()

    def _finish(self, session: _Session) -> None:
        session.stopping = True
        session.wake.set()
        session.stop_watch()  # our own stop is not a lost source
        with session.stream_lock:
            stream = session.stream
            if stream is not None:
                try:
                    stream.stop()
                except Exception:
                    log.warning("stopping the audio stream failed", exc_info=True)
        session.stream_stopped = True
        session.wake.set()
        if session.worker is not None:
            session.worker.join(timeout=5)
        session.close_stream()
        self._past_overflows += session.overflows
        session.overflows = 0

    def _resolve(self, device: int | str | None) -> _devices.InputDevice:
        return _devices.resolve_input_device(device)

    def _default_stream_factory(self) -> Callable[..., Any]:
        import sounddevice

        return sounddevice.InputStream

    def _open(self, device: int | str | None, t0: float) -> None:
        info = self._resolve(device)
        # An injected stream is no sound-server stream: nothing to watch.
        watched = self.watch_source and self._stream_factory is None
        before = ClientsBefore.take() if watched else None
        try:
            self._open_on(info, t0, before)
        finally:
            if before is not None:
                before.close()

    def _open_on(self, info: _devices.InputDevice, t0: float,
                 before: ClientsBefore | None) -> None:
        factory = self._stream_factory or self._default_stream_factory()
        rates: list[int] = []
        for rate in (round(info.default_rate), *FALLBACK_RATES):
            if rate > 0 and rate not in rates:
                rates.append(rate)
        for rate in rates:
            session = _Session(self, info, rate, t0)
            try:
                stream = factory(
                    device=info.index,
                    channels=1,
                    samplerate=rate,
                    dtype="float32",
                    blocksize=self._blocksize,
                    latency="low",
                    callback=session.callback,
                    finished_callback=session.on_finished,
                )
            except Exception as err:
                if _classify(err, info) == "rate":
                    log.info("%s does not take %d Hz: %s", info.name, rate, err)
                    continue
                raise _user_error(err, info) from err
            session.stream = stream
            _devices._stream_opened()
            try:
                stream.start()
            except Exception as err:
                session.close_stream()
                if _classify(err, info) == "rate":
                    continue
                raise _user_error(err, info) from err
            if before is not None:
                session.watch = before.watch(session.on_source_gone)
            session.worker = threading.Thread(
                target=session.run, name=f"candor-capture-{info.index}", daemon=True
            )
            self._session = session
            session.worker.start()
            log.info("capturing from %s at %d Hz", info.name, rate)
            if self._withdrawn:  # withdrawn while we were opening
                self._finish(session)
                self._gate.require(self.purpose)
            return
        raise UnsupportedRateError(info.name, rates)


def _classify(err: Exception, info: _devices.InputDevice) -> str:
    code = err.args[1] if len(err.args) > 1 and isinstance(err.args[1], int) else None
    host_code = None
    if len(err.args) > 2 and isinstance(err.args[2], tuple) and len(err.args[2]) > 1:
        host_code = err.args[2][1]
    message = str(err.args[0]) if err.args else ""
    if code == _PA_INVALID_SAMPLE_RATE:
        return "rate"
    if code == _PA_DEVICE_UNAVAILABLE or (
        code == _PA_UNANTICIPATED_HOST_ERROR and host_code == _EBUSY
    ):
        return "busy"
    if code == _PA_INVALID_DEVICE:
        return "missing"
    if message.startswith("Error querying device") or "No input device matching" in message:
        return "none"
    return "other"


def _user_error(err: Exception, info: _devices.InputDevice) -> AudioError:
    kind = _classify(err, info)
    if kind == "busy":
        return DeviceBusyError(info.name, str(err))
    if kind == "missing":
        return DeviceNotFoundError(info.name)
    if kind == "none":
        return NoInputDeviceError(str(err))
    return AudioError(
        f"The microphone {info.name!r} could not be opened ({err}). Pick another microphone, "
        "or check that the sound server is running."
    )
