"""The streaming policy behind live captions: partial and final captions from a live stream.

How it works (after whisper_streaming, Macháček et al. 2023, with a voice-activity controller):
- Every incoming piece of audio is scored by the Silero VAD. Audio with no speech never reaches
  the recogniser, so silence gives no text and costs almost nothing.
- While someone speaks, a pass re-transcribes the rolling buffer every `step` seconds of new
  audio, prompted with the text committed before the buffer. Words that two consecutive passes
  agree on (LocalAgreement-2) become a *final* caption; the rest is a *partial* caption.
- Agreement alone is not enough with a small model: both passes must have heard `margin`
  seconds after a word (the last word of a buffer is usually cut off), and a low-probability
  word waits for more audio. Measured on real speech these remove most streaming-only errors.
- When the speaker pauses (`min_silence`), one more pass covers the finished utterance and all
  of it is committed (if it contradicts the pass before, a third pass breaks the tie). A short
  utterance then stays in the buffer as acoustic context for the next one, cut in the pause
  before it; committed words heard again are not repeated.
- The buffer is trimmed at committed sentence ends once it grows past `trim_after`, and never
  exceeds `max_buffer`: a pass over it has a bounded cost.
- If the CPU falls behind, each pass simply covers all audio that arrived meanwhile (coarser
  steps); past `max_lag` the oldest unprocessed audio is skipped for live captions (the meeting's
  final pass still covers it) and the skip is reported, so captions never lag without bound.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from app.segments import Segment
from app.transcription.agreement import (
    Agreement,
    Word,
    common_prefix_length,
    join_words,
    strip_committed,
)
from app.transcription.engine import SAMPLE_RATE, PassResult, WhisperEngine
from app.transcription.vad import SpeechTracker, StreamingVadScorer

log = logging.getLogger(__name__)

_SENTENCE_END = (".", "?", "!")


@dataclass(frozen=True, slots=True)
class StreamingConfig:
    step: float = 0.5  # seconds of new speech before another pass
    min_silence: float = 0.4  # a pause this long ends an utterance
    vad_threshold: float = 0.3  # Silero speech probability; 0.5 missed speech under fan noise
    preroll: float = 0.3  # audio kept before speech starts, so its first sound is not cut
    tail_pad: float = 0.25  # audio kept after speech ends for the closing pass
    trim_after: float = 8.0  # trim at a committed sentence end once the buffer is this long
    max_buffer: float = 15.0  # hard cap on a pass's audio
    max_lag: float = 8.0  # beyond this, skip the oldest audio for live captions
    prompt_chars: int = 200
    agreement: int = 2
    first_pass_after: float = 0.5  # seconds of an utterance before its first pass
    # A word is committed by agreement only if both agreeing passes heard at least `margin`
    # seconds of audio after it: the last word of a buffer is usually cut off ("your" heard as
    # "you are"), and two passes ending close together can agree on the same mishearing.
    margin: float = 0.2
    # A cut-off word is often split in two ("your" heard as "you" [0.10 s] + "are"), and only
    # its short first half clears the margin: a word shorter than this whose successor is still
    # inside the older pass's margin waits too (0 = off). Measured on real_concat
    # (benchmarks/policy_latency.py, the policy's own delay): +0.01 s at p50, WER unchanged;
    # holding every word before the margin instead cost +0.29 s p50, +0.42 s p95.
    split_word: float = 0.15
    # An agreed word the recogniser is unsure of waits until this much audio follows it (or the
    # utterance ends): two short passes can agree on the same wrong guess at an utterance start.
    min_word_probability: float = 0.4
    settle_time: float = 1.5
    # After a pause, the next utterance is transcribed together with up to `context_keep`
    # seconds of the one before (already committed, so not repeated): heard alone, its first
    # word is often misheard ("what your country" -> "like your country"). Dropped after a
    # pause longer than `context_gap`.
    context_keep: float = 4.0
    context_gap: float = 2.0
    tokens_per_second: float = 8.0  # cap on decoded tokens per second of audio (runaway guard)


@dataclass(frozen=True, slots=True)
class Caption:
    kind: str  # "partial" | "final"
    segment: Segment

    @property
    def text(self) -> str:
        return self.segment.text


@dataclass(slots=True)
class LagReport:
    lag: float  # seconds of audio received but not yet covered by a pass
    skipped: float = 0.0  # seconds of audio skipped for live captions so far
    # The stretch (stream seconds, from, to) skipped by the pass that made this report: shown
    # in the captions as a gap, never silently lost (issue 13, defect 1).
    gap: tuple[float, float] | None = None


@dataclass(slots=True)
class PolicyStats:
    passes: int = 0
    closing_passes: int = 0
    tie_breaks: int = 0
    pass_seconds: list[float] = field(default_factory=list)
    skipped_seconds: float = 0.0
    max_lag: float = 0.0


class PassRefused(RuntimeError):
    """A pass was due but may no longer run (consent withdrawn): the stream is over."""


def _caption(kind: str, words: Sequence[Word]) -> Caption | None:
    text = join_words(words)
    if not text:
        return None
    return Caption(kind, Segment(start=words[0].start, end=words[-1].end, text=text,
                                 final=kind == "final"))


class StreamingPolicy:
    """Synchronous core: feed audio with `insert`, call `process` to run at most one pass.

    Not thread-safe: one worker owns it. Times are stream seconds (0 = first sample).
    """

    def __init__(self, engine: WhisperEngine, config: StreamingConfig | None = None, *,
                 may_run: Callable[[], bool] | None = None) -> None:
        self.engine = engine
        self.config = config or StreamingConfig()
        self.may_run = may_run
        self.stats = PolicyStats()
        self._scorer = StreamingVadScorer()
        self._tracker = SpeechTracker(threshold=self.config.vad_threshold,
                                      min_silence=self.config.min_silence)
        self._audio = np.zeros(0, dtype=np.float32)  # the rolling buffer
        self._gap: tuple[float, float] | None = None  # skipped by the current process()
        self._buf_start = 0.0  # stream time of _audio[0]
        self._received = 0  # samples received in total
        self._last_pass_end = 0.0  # stream time covered by the last pass
        self._pending_ends: list[float] = []  # utterance ends waiting for their closing pass
        self._speech_in_buffer = False
        self._last_speech_start = 0.0
        self._context_end: float | None = None  # end of the utterance kept as context
        self._utterance_start = 0.0  # where the current utterance's own audio begins
        self.committed: list[Word] = []
        self._committed_in_buffer: list[Word] = []
        self._open: list[Word] = []
        self._agreement = Agreement(self.config.agreement)

    # ---- input -------------------------------------------------------------------------------

    @property
    def stream_time(self) -> float:
        return self._received / SAMPLE_RATE

    @property
    def buffer_seconds(self) -> float:
        """Audio the next pass would cover (bounded by `max_buffer`)."""
        return len(self._audio) / SAMPLE_RATE

    @property
    def pass_due(self) -> bool:
        """Whether `process()` has an utterance end waiting, so may run a pass without new
        audio (a worker may sleep until audio arrives otherwise)."""
        return bool(self._pending_ends)

    @property
    def lag(self) -> float:
        return max(0.0, self.stream_time - max(self._last_pass_end, self._buf_start))

    def insert(self, samples: np.ndarray, start: float | None = None) -> None:
        """Append audio; `start` (stream seconds) lets a gap from dropped frames stay a gap."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if start is not None:
            gap = round(start * SAMPLE_RATE) - self._received
            if gap > 0:
                samples = np.concatenate([np.zeros(gap, dtype=np.float32), samples])
            elif gap < 0:
                samples = samples[-gap:]
        if not len(samples):
            return
        self._received += len(samples)
        self._audio = np.concatenate([self._audio, samples])
        for event in self._tracker.update(self._scorer.score(samples)):
            if event.kind == "speech_start":
                self._speech_in_buffer = True
                self._last_speech_start = event.time
            else:
                self._pending_ends.append(event.time)

    # ---- passes ------------------------------------------------------------------------------

    def _prompt(self) -> str:
        before = [w for w in self.committed if w.end <= self._buf_start + 0.01]
        text = join_words(before)
        return text[-self.config.prompt_chars :].lstrip() if text else ""

    def _run_pass(self, until: float) -> PassResult:
        if self.may_run is not None and not self.may_run():
            # checked before every pass, so a released model is never loaded again
            raise PassRefused("transcription may no longer run")
        end_sample = round((until - self._buf_start) * SAMPLE_RATE)
        audio = self._audio[: max(0, end_sample)]
        seconds = len(audio) / SAMPLE_RATE
        max_tokens = int(20 + self.config.tokens_per_second * seconds)
        result = self.engine.transcribe_window(audio, offset=self._buf_start,
                                               prompt=self._prompt(), max_new_tokens=max_tokens)
        self.stats.passes += 1
        self.stats.pass_seconds.append(result.seconds)
        self._last_pass_end = self._buf_start + seconds
        return result

    def _commit(self, words: Sequence[Word]) -> list[Caption]:
        if not words:
            return []
        self.committed.extend(words)
        if len(self.committed) > 400:  # only the tail is needed (prompt, last end)
            del self.committed[:-200]
        self._committed_in_buffer.extend(words)
        caption = _caption("final", words)
        return [caption] if caption else []

    def _trim_to(self, t: float) -> None:
        t = min(max(t, self._buf_start), self.stream_time)
        cut = round((t - self._buf_start) * SAMPLE_RATE)
        self._audio = self._audio[cut:]
        self._buf_start += cut / SAMPLE_RATE
        self._committed_in_buffer = [w for w in self._committed_in_buffer if w.end > t]

    def _restart_buffer(self, at: float) -> None:
        """Forget the buffer before `at`: a new utterance (or a skip) starts there."""
        self._context_end = None
        self._trim_to(at)
        self._utterance_start = self._buf_start
        self._committed_in_buffer = []
        self._open = []
        self._agreement.reset()

    def _close_utterance(self, end: float) -> list[Caption]:
        """The speaker paused at `end`: transcribe the utterance and commit all of it.

        The closing pass has no later pass to agree with. When it contradicts the open
        hypothesis of the pass before, a third pass over a slightly shorter cut breaks the tie:
        a single pass can flip a word on a few hundredths of trailing silence.
        """
        until = min(self.stream_time, end + self.config.tail_pad)
        captions: list[Caption] = []
        if until - self._buf_start > 0.1:
            earlier = list(self._open)
            closing = self._fresh(self._run_pass(until))
            self.stats.closing_passes += 1
            shared = common_prefix_length(earlier, closing)
            # disputed: the closing pass does not carry the earlier hypothesis as its prefix
            if shared < len(earlier) and until - 0.12 - self._buf_start > 0.5:
                third = self._fresh(self._run_pass(until - 0.12))
                self.stats.tie_breaks += 1
                with_earlier = common_prefix_length(third[shared:], earlier[shared:])
                with_closing = common_prefix_length(third[shared:], closing[shared:])
                if with_earlier > with_closing:
                    closing = closing[:shared] + third[shared:]
            captions += self._commit(closing)
        self._keep_context(until)
        self._speech_in_buffer = self._tracker.in_speech
        return captions

    def _fresh(self, result: PassResult) -> list[Word]:
        """A pass's words after what is already committed."""
        last_end = self.committed[-1].end if self.committed else 0.0
        return strip_committed(result.words, self._committed_in_buffer, last_end)

    def _keep_context(self, until: float) -> None:
        """After an utterance: keep it (if short) as context for the next one.

        The buffer is cut where the utterance began, which is in a pause (its pre-roll or the
        previous pause), never in a word: a buffer starting mid-word derails the recogniser.
        """
        cfg = self.config
        start = self._utterance_start
        if cfg.context_keep > 0 and self._committed_in_buffer and until - start <= cfg.context_keep:
            self._trim_to(start)
            self._open = []
            self._agreement.reset()
            self._context_end = until
            self._utterance_start = until
            return
        self._restart_buffer(max(until, self.stream_time - cfg.preroll))

    def process(self) -> tuple[list[Caption], LagReport]:
        """Run at most one pass if one is due; returns captions in order and the lag."""
        cfg = self.config
        captions: list[Caption] = []
        skipped = self._skip_if_behind()
        if self._pending_ends:
            end = self._pending_ends.pop(0)
            if end > self._buf_start:
                captions += self._close_utterance(end)
            return captions, self._report(skipped)
        if not self._speech_in_buffer and not self._tracker.in_speech:
            # silence: keep only a short pre-roll so the next utterance's start is intact (and
            # the last utterance as context while the pause is short)
            if self._context_end is None or self.stream_time - self._context_end > cfg.context_gap:
                self._restart_buffer(self.stream_time - cfg.preroll)
                self._context_end = None
            self._last_pass_end = self.stream_time
            return captions, self._report(skipped)
        if self.stream_time - self._last_pass_end < cfg.step:
            return captions, self._report(skipped)
        if self.stream_time - max(self._buf_start, self._last_speech_start) < cfg.first_pass_after:
            return captions, self._report(skipped)
        previous = list(self._agreement.history[-1]) if self._agreement.history else []
        previous_end = self._last_pass_end
        result = self._run_pass(self.stream_time)
        newly, self._open = self._agreement.update(self._fresh(result))
        if newly:
            keep = len(newly)
            settled = self._last_pass_end - cfg.settle_time
            for i, w in enumerate(newly):
                heard_before = previous[i].end if i < len(previous) else w.end
                split = (i + 1 < len(previous)
                         and previous[i].end - previous[i].start < cfg.split_word
                         and previous[i + 1].end > previous_end - cfg.margin)
                if (heard_before > previous_end - cfg.margin or split
                        or w.end > self._last_pass_end - cfg.margin
                        or (w.probability < cfg.min_word_probability and w.end > settled)):
                    keep = i
                    break
            if keep < len(newly):
                self._open = newly[keep:] + self._open
                newly = newly[:keep]
                self._agreement.history = [self._open]
        captions += self._commit(newly)
        partial = _caption("partial", self._open)
        if partial:
            captions.append(partial)
        captions += self._trim_long_buffer(result)
        return captions, self._report(skipped)

    def _trim_long_buffer(self, result: PassResult) -> list[Caption]:
        cfg = self.config
        length = self.stream_time - self._buf_start
        if length <= cfg.trim_after or not self._committed_in_buffer:
            return self._force_commit_half() if length > cfg.max_buffer else []
        sentence_ends = [w.end for w in self._committed_in_buffer
                         if w.text.rstrip().endswith(_SENTENCE_END)]
        if sentence_ends:
            end = sentence_ends[-1]
            following = [w.start for w in result.words if w.start >= end]
            # cut between the sentence and the next word, not at a word-end estimate
            cut = (end + following[0]) / 2 if following else end
            self._trim_to(cut)
            self._utterance_start = max(self._utterance_start, self._buf_start)
        elif length > cfg.max_buffer:
            segment_ends = [e for e in result.segment_ends
                            if e <= self._committed_in_buffer[-1].end + 0.01]
            self._trim_to(segment_ends[-1] if segment_ends else self._committed_in_buffer[-1].end)
        return []

    def _force_commit_half(self) -> list[Caption]:
        """The passes keep disagreeing on a very long buffer: commit its older half as is."""
        cut = self.stream_time - self.config.max_buffer / 2
        older = [w for w in self._open if w.end <= cut]
        captions = self._commit(older)
        self._restart_buffer(cut)
        return captions

    def _skip_if_behind(self) -> float:
        lag = self.lag
        self.stats.max_lag = max(self.stats.max_lag, lag)
        if lag <= self.config.max_lag:
            return 0.0
        skip_to = self.stream_time - self.config.step
        skip_from = max(self._last_pass_end, self._buf_start)
        skipped = skip_to - skip_from
        self._gap = (skip_from, skip_to) if skipped > 0 else None
        log.warning("live captions fell %.1f s behind; skipping %.1f s", lag, skipped)
        self.stats.skipped_seconds += skipped
        self._pending_ends = [e for e in self._pending_ends if e > skip_to]
        self._restart_buffer(skip_to)
        self._last_pass_end = skip_to
        return skipped

    def _report(self, skipped: float) -> LagReport:
        gap, self._gap = (self._gap if skipped > 0 else None), None
        return LagReport(lag=self.lag, skipped=self.stats.skipped_seconds, gap=gap)

    def flush(self) -> list[Caption]:
        """End of the stream: commit whatever is still open, with one last pass."""
        captions: list[Caption] = []
        while self._pending_ends:
            end = self._pending_ends.pop(0)
            if end > self._buf_start:
                captions += self._close_utterance(end)
        if self._speech_in_buffer or self._tracker.in_speech:
            captions += self._close_utterance(self.stream_time)
        return captions
