"""The capture worker wakes for audio, not for a clock: a scripted PortAudio stream (the test
plays the callback's part) in front of the real capture, on the virtual microphone's device.

A real stream delivers a block every ~23 ms whatever the room hears, so only a scripted one can
show a worker with nothing to do. A sleeping loop here once cost ~95 wakeups a second per source
whether or not audio came; these tests fail if the worker polls again, and if waking on a block
ever stops delivering it. The real-stream tests are in tests/test_audio_capture.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.audio.capture import WATCHDOG_SECONDS, AudioCapture
from app.audio.errors import DeviceLostError

pytestmark = [pytest.mark.audio, pytest.mark.grant("microphone")]

RATE = 16000


class ScriptedStream:
    """Stands for sounddevice.InputStream: the test decides when a block arrives."""

    def __init__(self, **kwargs: Any) -> None:
        self.callback = kwargs["callback"]
        self.finished_callback = kwargs["finished_callback"]
        self.rate = int(kwargs["samplerate"])
        self.blocksize = int(kwargs["blocksize"])

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def close(self, ignore_errors: bool = True) -> None:
        pass

    def deliver(self, block: np.ndarray) -> None:
        self.callback(block.reshape(-1, 1).astype(np.float32), len(block), None, None)


class ScriptedFactory:
    """Opens only at `rate` (16 kHz: each block comes out as one chunk, no resampler delay)."""

    def __init__(self, rate: int = RATE) -> None:
        self.rate = rate
        self.streams: list[ScriptedStream] = []

    def __call__(self, **kwargs: Any) -> ScriptedStream:
        if kwargs["samplerate"] != self.rate:
            import sounddevice

            raise sounddevice.PortAudioError("Invalid sample rate", -9997)
        stream = ScriptedStream(**kwargs)
        self.streams.append(stream)
        return stream


def wakeups(native_id: int) -> int:
    """Times the thread went to sleep and was woken (Linux's voluntary context switches)."""
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("voluntary_ctxt_switches"))
    return int(line.split()[1])


def scripted_capture(gate: Any, rate: int = RATE) -> tuple[AudioCapture, ScriptedStream]:
    factory = ScriptedFactory(rate)
    capture = AudioCapture(gate, stream_factory=factory)
    capture.start()
    return capture, factory.streams[-1]


@pytest.fixture
def scripted(virtual_mic, gate):
    capture, stream = scripted_capture(gate)
    yield capture, stream
    capture.stop()


def tone(stream: ScriptedStream, index: int) -> np.ndarray:
    t = (np.arange(stream.blocksize) + index * stream.blocksize) / stream.rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_each_block_is_delivered_and_an_idle_worker_sleeps(scripted):
    capture, stream = scripted
    for index in range(20):
        block = tone(stream, index)
        stream.deliver(block)
        # Nothing else wakes the worker: the chunk arrives because the block did.
        chunk = capture.read(timeout=5)
        assert chunk is not None, f"block {index} was never delivered"
        assert chunk.start == pytest.approx(index * stream.blocksize / RATE)
        np.testing.assert_array_equal(chunk.samples, block)
    worker = capture.worker_thread_id
    assert worker is not None
    before = wakeups(worker)
    # Half the watchdog's limit with no audio: the worker has nothing to do.
    assert capture.read(timeout=WATCHDOG_SECONDS / 2) is None
    woken = wakeups(worker) - before
    # A 10 ms poll wakes ~50 times here; the worker re-checks its watchdog every 0.25 s.
    assert woken <= 5, f"the idle capture worker woke {woken} times in {WATCHDOG_SECONDS / 2} s"
    assert capture.running  # a short pause is not a lost device


def test_a_silent_stream_is_still_caught_by_the_watchdog(scripted):
    capture, stream = scripted
    stream.deliver(tone(stream, 0))
    assert capture.read(timeout=5) is not None
    # no block for longer than the watchdog allows: the sleeping worker still notices
    with pytest.raises(DeviceLostError, match="no audio for"):  # noqa: PT012
        while capture.read(timeout=5 * WATCHDOG_SECONDS) is not None:
            pass  # a resampler's tail may come first


def test_muting_wakes_the_worker_to_deliver_what_came_before(scripted):
    capture, stream = scripted
    stream.deliver(tone(stream, 0))
    assert capture.read(timeout=5) is not None
    capture.muted = True
    stream.deliver(tone(stream, 1))  # heard while muted: counted on the timeline, never read
    assert capture.read(timeout=WATCHDOG_SECONDS / 4) is None
    capture.muted = False
    stream.deliver(tone(stream, 2))
    chunk = capture.read(timeout=5)
    assert chunk is not None
    assert chunk.start == pytest.approx(2 * stream.blocksize / RATE), "the mute moved the audio"


def test_a_resampled_stretch_ends_where_the_device_audio_ends(virtual_mic, gate):
    """44.1 kHz in, 16 kHz out: the resampler's flushed tail at a mute never reaches into the
    muted time (it rounded up by a fraction of a sample, and a test of mute failed on it)."""
    capture, stream = scripted_capture(gate, rate=44100)
    try:
        for index in range(7):
            stream.deliver(tone(stream, index))
        capture.muted = True
        muted_from = capture.position
        chunks = []
        while (chunk := capture.read(timeout=WATCHDOG_SECONDS / 4)) is not None:
            chunks.append(chunk)
    finally:
        capture.stop()
    assert chunks
    assert chunks[-1].end <= muted_from + 1e-9
    delivered = sum(len(c.samples) for c in chunks)
    assert delivered == 7 * stream.blocksize * 16000 // 44100, "audio was lost at the flush"
