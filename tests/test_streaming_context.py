"""Live captions with the utterances before as context: a recogniser that stops at the
context's last sentence loses nothing, because the pass is run again over the utterance alone.

Real speech and the real VAD throughout; the first test's recogniser is tiny.en over the
stretch of real_concat.wav where, with 12 s of context, tiny.en ended its text at "In this
regard." and the sentence after it vanished from the live captions. The second makes that
failure happen on every pass (a small scripted recogniser, injected through the policy's
constructor), so it does not depend on which CPU runs tiny.en.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pytest

from app.textmetrics import normalise
from app.transcription.agreement import Word
from app.transcription.engine import PassResult, WhisperEngine
from app.transcription.streaming import Caption, StreamingConfig, StreamingPolicy
from tests.support.data import read_wav

RATE = 16000
CHUNK = 1024


def stream(policy: StreamingPolicy, audio: np.ndarray, every: int) -> list[Caption]:
    captions: list[Caption] = []
    for k, i in enumerate(range(0, len(audio), CHUNK)):
        policy.insert(audio[i : i + CHUNK], i / RATE)
        if k % every == 0:
            captions += policy.process()[0]
    return captions + policy.flush()


def final_words(captions: list[Caption]) -> list[str]:
    return normalise(" ".join(c.text for c in captions if c.kind == "final")).split()


@pytest.mark.model
@pytest.mark.grant("transcription")
def test_the_sentence_after_a_long_context_reaches_the_live_captions(shared_data):
    samples, rate = read_wav(shared_data / "speech" / "real_concat.wav")
    assert rate == RATE
    engine = WhisperEngine("tiny.en")
    engine.load()
    try:
        policy = StreamingPolicy(engine)
        said = final_words(stream(policy, samples[: 24 * RATE], every=4))
    finally:
        engine.release()
    # "She had your dark suit in greasy wash water all year" (tiny.en: "dog suit")
    heard = {"suit", "greasy", "wash", "water", "year"} & set(said)
    assert len(heard) >= 3, " ".join(said)
    assert "regard" in said


JFK = [Word(s, e, t) for s, e, t in [
    (0.30, 0.76, " And"), (0.76, 1.08, " so"), (1.08, 1.46, " my"), (1.46, 1.76, " fellow"),
    (1.76, 2.26, " Americans,"), (3.30, 3.88, " ask"), (3.88, 4.56, " not"),
    (4.80, 5.70, " what"), (5.70, 6.04, " your"), (6.04, 6.36, " country"),
    (6.36, 6.76, " can"), (6.76, 7.02, " do"), (7.02, 7.26, " for"), (7.26, 7.90, " you,"),
    (8.30, 8.66, " ask"), (8.66, 8.96, " what"), (8.96, 9.28, " you"), (9.28, 9.50, " can"),
    (9.50, 9.72, " do"), (9.72, 9.92, " for"), (9.92, 10.24, " your"),
    (10.24, 10.72, " country.")]]


class StopsAtTheContextsSentence:
    """Hears JFK's words as timed above, but a window holding the first sentence as context
    and more than a second of speech after it ends its text with that sentence."""

    def __init__(self) -> None:
        self.windows: list[tuple[float, float]] = []

    def transcribe_window(self, audio: np.ndarray, *, offset: float, prompt: str = "",
                          max_new_tokens: int | None = None) -> PassResult:
        end = offset + len(audio) / RATE
        self.windows.append((offset, end))
        heard = [w for w in JFK if w.start >= offset - 0.05 and w.end <= end + 0.05]
        if offset < 0.3 and end > 3.4:
            heard = [w for w in heard if w.end <= 2.3]
        return PassResult(heard, [heard[-1].end] if heard else [], 0.0)


def test_a_pass_that_stops_at_the_contexts_last_sentence_is_run_again_without_it(
        shared_data):
    samples, rate = read_wav(shared_data / "speech" / "jfk.wav")
    assert rate == RATE
    audio = np.concatenate([samples, np.zeros(RATE, np.float32)])
    engine = StopsAtTheContextsSentence()
    policy = StreamingPolicy(cast(WhisperEngine, engine), StreamingConfig())
    said = " ".join(final_words(stream(policy, audio, every=2)))
    assert said == normalise(" ".join(w.text for w in JFK)), said
    assert policy.stats.context_retries > 0
    # the context is kept: the windows that stopped short did start before the utterance
    assert any(start < 0.3 and end > 5.0 for start, end in engine.windows)
