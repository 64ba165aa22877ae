"""The captions worker waits for audio instead of polling for it, and still captions everything.

Wakeups are counted from the kernel's voluntary context switches of the worker thread: a worker
that waits on its queue with a 50 ms timeout wakes ~10 times in half a second of silence, one
that waits on the condition (audio or the stop) not at all.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from app.textmetrics import normalise
from app.transcription.engine import WhisperEngine
from app.transcription.live import LiveTranscriber
from app.transcription.streaming import Caption
from tests.support.data import read_wav

pytestmark = [pytest.mark.model, pytest.mark.grant("transcription")]

RATE = 16000
CHUNK = 1024


@pytest.fixture(scope="module")
def engine():
    engine = WhisperEngine("tiny.en")
    engine.load()
    yield engine
    engine.release()


def speech(shared_data: Path, name: str) -> np.ndarray:
    samples, rate = read_wav(shared_data / "speech" / name)
    assert rate == RATE
    return samples


def wakeups(native_id: int) -> int:
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("voluntary_ctxt_switches"))
    return int(line.split()[1])


def test_an_idle_captions_worker_sleeps_until_audio_comes(gate, engine, shared_data):
    captions: list[Caption] = []
    transcriber = LiveTranscriber(gate, engine, on_caption=captions.append,
                                  keep_audio=False).start()
    try:
        worker = transcriber._thread
        assert worker is not None
        assert worker.native_id is not None
        before = wakeups(worker.native_id)
        # An observation window with no audio, not a synchronisation: what is counted is
        # what the worker did meanwhile.
        threading.Event().wait(0.5)
        woken = wakeups(worker.native_id) - before
        assert woken <= 2, f"the idle captions worker woke {woken} times in 0.5 s"
        audio = speech(shared_data, "jfk.wav")[: 6 * RATE]  # less than max_lag: nothing skipped
        for i in range(0, len(audio), CHUNK):
            transcriber.feed(audio[i : i + CHUNK], i / RATE)
    finally:
        transcriber.stop()  # drains what was fed, then commits the open words
    finals = normalise(" ".join(c.text for c in captions if c.kind == "final"))
    assert "fellow americans" in finals, "audio fed to a sleeping worker is captioned"


def test_a_pause_is_closed_without_more_audio_after_it(gate, engine, shared_data):
    """The utterance end is known once the pause is fed; its closing pass must not wait for
    the next piece of audio (a worker asleep on an empty queue would hold the caption)."""
    captions: list[Caption] = []
    got_final = threading.Event()

    def on_caption(caption: Caption) -> None:
        captions.append(caption)
        if caption.kind == "final" and "americans" in normalise(caption.text):
            got_final.set()

    transcriber = LiveTranscriber(gate, engine, on_caption=on_caption, keep_audio=False).start()
    try:
        audio = speech(shared_data, "jfk.wav")[: round(2.35 * RATE)]  # "...fellow Americans"
        audio = np.concatenate([audio, np.zeros(RATE, np.float32)])  # then a 1 s pause, no more
        for i in range(0, len(audio), CHUNK):
            transcriber.feed(audio[i : i + CHUNK], i / RATE)
        assert got_final.wait(60), [c.text for c in captions]
    finally:
        transcriber.stop()
    assert transcriber.policy.stats.closing_passes >= 1
