"""The recogniser: one faster-whisper model, loaded lazily from a verified local folder.

Two ways to run it: `transcribe_window` for one streaming pass over a short buffer (greedy, word
timestamps, no temperature fallback so a pass has a bounded cost), and `transcribe_audio` for a
whole recording (what faster-whisper does for a file, with progress and cancellation).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from app.segments import Segment
from app.transcription.agreement import Word
from app.transcription.heap import release_freed_memory
from app.transcription.lean_whisper import releasing_before_encodes
from app.transcription.models import ModelLocation, load_whisper, locate_model
from app.transcription.speech_regions import (
    SpeechRegion,
    over_speech,
    speech_regions,
    unheard_spans,
)
from app.vocabulary.bias import Decoded, VocabularyBias

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000

# Guards against text from silence and runaway decoding (values from Whisper's own heuristics).
NO_SPEECH_PROB = 0.6
LOG_PROB_FLOOR = -1.0
MAX_COMPRESSION_RATIO = 2.4


class AudioSamples(Protocol):
    """A float32 or int16 array, or anything sliced like one (the live meeting's store)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: slice) -> np.ndarray: ...


class TranscriptionCancelled(Exception):
    """The caller asked to stop; nothing partial is returned."""


class AnyEvent(threading.Event):
    """Set when any of the given events is (cancel button or consent withdrawn)."""

    def __init__(self, *events: threading.Event | None) -> None:
        super().__init__()
        self._events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self._events)


@dataclass(slots=True)
class PassResult:
    words: list[Word]
    segment_ends: list[float]  # stream times where the recogniser ended a segment
    seconds: float  # wall time the pass took
    dropped_segments: int = 0  # segments rejected as silence or repetition


@dataclass(slots=True)
class EngineStats:
    passes: int = 0
    pass_seconds: list[float] = field(default_factory=list)


def _is_hallucination(segment: Any) -> bool:
    """Text Whisper writes over silence or noise, or a decoding stuck in a loop."""
    return _rejected(segment.compression_ratio, segment.no_speech_prob, segment.avg_logprob)


class WhisperEngine:
    """Holds the model; `release()` drops it (the memory goes once a running pass ends)."""

    def __init__(self, model: str | ModelLocation | None = None, *, language: str | None = "en",
                 cpu_threads: int | None = None,
                 vocabulary: VocabularyBias | None = None) -> None:
        self.location = model if isinstance(model, ModelLocation) else locate_model(model)
        self.language = language
        self.cpu_threads = cpu_threads
        # Used by whole-recording transcription (files, the meeting's final pass) only while
        # its permission is given, segment by segment (app/vocabulary/bias.py).
        self.vocabulary = vocabulary
        self._model: Any = None
        self._lock = threading.Lock()
        self.stats = EngineStats()
        self.piece_seconds = PIECE_SECONDS  # longest audio given to faster-whisper at once
        self.window_seconds = WINDOW_SECONDS  # a live pass's encoder input, padded (see there)
        self.window_headroom = WINDOW_HEADROOM

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = load_whisper(self.location, cpu_threads=self.cpu_threads)
                if not self._model.model.is_multilingual and self.language not in (None, "en"):
                    raise ValueError(
                        f"model {self.location.name!r} only knows English; choose a multilingual "
                        f"model for language {self.language!r}"
                    )
            return self._model

    def release(self) -> None:
        with self._lock:
            self._model = None

    def _language(self, model: Any) -> str | None:
        if self.language is None and not model.model.is_multilingual:
            return "en"
        return self.language

    def transcribe_window(self, audio: np.ndarray, *, offset: float, prompt: str = "",
                          max_new_tokens: int | None = None) -> PassResult:
        """One streaming pass over `audio` (at most 30 s), which starts at stream time `offset`.

        Exactly one encoder run, one greedy decode and one alignment. faster-whisper's
        `transcribe()` would, with word timestamps, decode the tail after the last word again
        (a second 30 s encoder run) whenever the window ends mid-segment - in streaming, nearly
        always - so the pass is assembled from its public building blocks instead.
        """
        model = self.load()
        began = time.perf_counter()
        words, dropped = _decode_window(model, np.asarray(audio, dtype=np.float32),
                                        self._window_language(model, audio), prompt,
                                        max_new_tokens, self.window_seconds,
                                        self.window_headroom)
        words = [Word(offset + w.start, offset + w.end, w.text, w.probability) for w in words]
        seconds = time.perf_counter() - began
        self.stats.passes += 1
        self.stats.pass_seconds.append(seconds)
        ends = [words[-1].end] if words else []
        return PassResult(words, ends, seconds, dropped)

    def _window_language(self, model: Any, audio: np.ndarray) -> str:
        language = self._language(model)
        if language is None:
            # a multilingual model with no language given: detect it once and keep it, so
            # captions do not flip language between passes
            language, _, _ = model.detect_language(audio=audio)
            self.language = language
        return language

    def transcribe_audio(self, audio: AudioSamples, *, on_progress: Callable[[float], None] | None
                         = None, cancel: threading.Event | None = None,
                         vad_filter: bool = False) -> list[Segment]:
        """A whole recording, as faster-whisper transcribes a file (greedy, beam 1)."""
        return list(self.iter_audio(audio, on_progress=on_progress, cancel=cancel,
                                    vad_filter=vad_filter))

    def iter_audio(self, audio: AudioSamples, *, on_progress: Callable[[float], None] | None = None,
                   cancel: threading.Event | None = None,
                   vad_filter: bool = False) -> Iterator[Segment]:
        """Segments of a recording (float32, or int16 as the live path keeps a meeting).

        Up to PIECE_SECONDS it is one faster-whisper call, exactly as for a file. Longer audio
        is transcribed in pieces cut at the quietest moment before each limit: faster-whisper
        built a piece's whole spectrogram at once (measured: a 600 s piece took 500 MB more,
        a 120 s piece about 100 MB; the model Candor loads now computes it 10 s at a time,
        log_mel.py, and the VAD scores 10 s at a time). Pieces are not prompted with the text
        before them: measured, a prompt that matches what is said next makes Whisper skip it
        (20 % of the words were lost on a recording with repeated sentences).

        No text from silence or noise (speech_regions.py): a piece without speech is not
        decoded, and a segment outside every speech region is dropped.
        """
        # freed memory goes back to the system before each 30 s encode (lean_whisper.py)
        with releasing_before_encodes():
            yield from self._iter_pieces(audio, on_progress, cancel, vad_filter)

    def _iter_pieces(self, audio: AudioSamples, on_progress: Callable[[float], None] | None,
                     cancel: threading.Event | None, vad_filter: bool) -> Iterator[Segment]:
        model = self.load()
        duration = len(audio) / SAMPLE_RATE
        if on_progress:
            on_progress(0.0)
        if duration == 0:
            return
        cuts = piece_bounds(audio, self.piece_seconds)
        for lo, hi in itertools.pairwise(cuts):
            if cancel is not None and cancel.is_set():
                raise TranscriptionCancelled()
            piece = audio[lo:hi]
            if piece.dtype != np.float32:
                piece = piece.astype(np.float32) / 32768.0
            offset = lo / SAMPLE_RATE
            regions = speech_regions(piece)
            release_freed_memory()  # the VAD's batch buffers, before the decode needs more
            if not regions:
                log.info("no speech in %.0f s of audio at %.0f s: not decoded",
                         (hi - lo) / SAMPLE_RATE, offset)
                if on_progress:
                    on_progress(min(1.0, hi / SAMPLE_RATE / duration))
                continue
            segments, _ = model.transcribe(
                piece,
                language=self._language(model),
                beam_size=1,
                vad_filter=vad_filter,
            )
            heard_until = 0.0  # in the piece: where the last segment kept ended
            for seg in segments:
                if cancel is not None and cancel.is_set():
                    raise TranscriptionCancelled()
                result = None
                text = seg.text.strip()
                kept = bool(text) and not _is_hallucination(seg) and over_speech(
                    seg.start, seg.end, regions)
                if text and not kept:  # timings and scores only: logs never hold what was said
                    log.info("dropped a segment at %.1f-%.1f s (%d words; no speech %.2f, "
                             "log-prob %.2f, compression %.2f, over speech %s)",
                             offset + seg.start, offset + seg.end, len(text.split()),
                             seg.no_speech_prob, seg.avg_logprob, seg.compression_ratio,
                             over_speech(seg.start, seg.end, regions))
                if kept:
                    yield from self._unheard(model, piece, regions, heard_until,
                                             float(seg.start), offset, cancel)
                    heard_until = max(heard_until, float(seg.end))
                    # Whisper's last end can lie past the audio (by 0.8 s on an 11 s clip):
                    # no segment ends after what was heard.
                    end = min(float(seg.end), len(piece) / SAMPLE_RATE)
                    result = Segment(start=offset + min(float(seg.start), end),
                                     end=offset + end, text=text)
                    if self.vocabulary is not None:
                        result = self.vocabulary.apply(
                            result,
                            Decoded(text, float(seg.avg_logprob), float(seg.compression_ratio)),
                            self._redecoder(model, piece, float(seg.start), float(seg.end)),
                        )
                # Progress counts a segment once all its work is done (its biased pass too):
                # 100 % before the last segment's vocabulary pass would be a lie.
                if on_progress:
                    on_progress(min(1.0, (offset + seg.end) / duration))
                if result is not None:
                    yield result
            yield from self._unheard(model, piece, regions, heard_until,
                                     len(piece) / SAMPLE_RATE, offset, cancel)
            del piece
            release_freed_memory()  # the piece's spectrogram and decoder buffers
        if cancel is not None and cancel.is_set():
            raise TranscriptionCancelled()
        if on_progress:
            on_progress(1.0)


    def _unheard(self, model: Any, piece: np.ndarray, regions: list[SpeechRegion],
                 since: float, until: float, offset: float,
                 cancel: threading.Event | None) -> Iterator[Segment]:
        """Speech between `since` and `until` (in the piece) that no kept segment covers,
        decoded on its own. Whisper sometimes jumps over a whole sentence (seen in 3 of 17
        final passes of one recording: "she had your dark suit in greasy wash water all year"
        gone, while the live captions had it), or a real sentence scores like noise and is
        dropped; the voice-activity regions say speech was there. A stretch shorter than
        UNHEARD_SECONDS is left: Whisper's segment ends drift by up to a second, and decoding
        such a tail again would repeat its words."""
        for lo, hi in unheard_spans(regions, since, until, UNHEARD_SECONDS):
            if cancel is not None and cancel.is_set():  # a withdrawal stops it before a decode
                raise TranscriptionCancelled()
            start = max(0.0, lo - REDECODE_MARGIN_S)
            audio = piece[int(start * SAMPLE_RATE):int((hi + REDECODE_MARGIN_S) * SAMPLE_RATE)]
            found, _ = model.transcribe(audio, language=self._language(model), beam_size=1,
                                        condition_on_previous_text=False)
            kept = [s for s in found if s.text.strip() and not _is_hallucination(s)]
            log.info("decoded again %.1f s of speech at %.1f s that no segment covered: "
                     "%d segment(s) found", hi - lo, offset + lo, len(kept))
            heard = len(audio) / SAMPLE_RATE
            for seg in kept:
                end = min(float(seg.end), heard)
                text = seg.text.strip()
                result = Segment(start=offset + start + min(float(seg.start), end),
                                 end=offset + start + end, text=text)
                if self.vocabulary is not None:  # the same vocabulary as every other segment
                    result = self.vocabulary.apply(
                        result,
                        Decoded(text, float(seg.avg_logprob), float(seg.compression_ratio)),
                        self._redecoder(model, audio, float(seg.start), float(seg.end)),
                    )
                yield result

    def _redecoder(self, model: Any, piece: np.ndarray, start: float,
                   end: float) -> Callable[[str], Decoded]:
        """Decode one segment's audio again with a prompt (for the vocabulary): greedy, no
        temperature fallback, so a biased pass costs one bounded decode."""
        margin = int(REDECODE_MARGIN_S * SAMPLE_RATE)
        lo = max(0, int(start * SAMPLE_RATE) - margin)
        hi = min(len(piece), int(end * SAMPLE_RATE) + margin)
        audio = piece[lo:hi]

        def redecode(prompt: str) -> Decoded:
            segments, _ = model.transcribe(
                audio, language=self._language(model), beam_size=1, temperature=0.0,
                initial_prompt=prompt, condition_on_previous_text=False,
            )
            found = [s for s in segments if not _is_hallucination(s)]
            if not found:
                return Decoded("", LOG_PROB_FLOOR * 2, 0.0)
            words = sum(max(1, len(s.text.split())) for s in found)
            logprob = sum(s.avg_logprob * max(1, len(s.text.split())) for s in found) / words
            return Decoded(" ".join(s.text.strip() for s in found), float(logprob),
                           max(float(s.compression_ratio) for s in found))

        return redecode


# Audio kept either side of a segment when it is decoded again: its first and last words are
# often cut a little early or late by Whisper's timestamps.
REDECODE_MARGIN_S = 0.3
PIECE_SECONDS = 120.0
# Speech at least this long that no segment covers is decoded again on its own (`_unheard`).
UNHEARD_SECONDS = 2.0
CUT_SEARCH_SECONDS = 30.0
# A live pass's window goes to the encoder padded with silence to WINDOW_SECONDS, and to at
# least WINDOW_HEADROOM seconds more than its audio, instead of Whisper's 30 s: the encoder's
# cost grows with its input (tiny.en here: 0.35-0.45 s CPU for 30 s, 0.02 s for 6 s unpadded),
# and it is most of a pass. Unpadded short windows loop ("ask not to ask not to ...": the model
# never sees the silence that ends speech), hence the padding. Measured with
# benchmarks/encoder_window.py (policy at its 0.5 s step, CPU per second of audio, live WER):
#   30 s (Whisper's):  shared speech 1.09 CPU, WER 3.5 %; espeak meeting turns 0.93, 19.5 %
#   15 s / 5 s:        shared speech 0.55 CPU, WER 4.7 %; espeak meeting turns 0.49, 16.7 %
#   10 s / 5 s:        shared speech 0.46 CPU, WER 4.7 %; espeak meeting turns 0.41, 18.1 %
# Half the CPU for as many errors in all (+3 words of 254 on the one set, -12 of ~450 on the
# other); caption delay unchanged. The final pass and files keep Whisper's 30 s (transcribe()).
WINDOW_SECONDS = 15.0
WINDOW_HEADROOM = 5.0


def piece_bounds(audio: AudioSamples, piece_seconds: float = PIECE_SECONDS) -> list[int]:
    """Sample indices cutting `audio` into pieces of at most `piece_seconds`, each cut at the
    quietest 100 ms in the last CUT_SEARCH_SECONDS before the limit."""
    limit = int(piece_seconds * SAMPLE_RATE)
    search = min(int(CUT_SEARCH_SECONDS * SAMPLE_RATE), limit // 2)
    frame = SAMPLE_RATE // 10
    cuts = [0]
    while len(audio) - cuts[-1] > limit:
        lo = cuts[-1] + limit - search
        window = audio[lo : lo + search].astype(np.float32)
        frames = window[: len(window) // frame * frame].reshape(-1, frame)
        quietest = int(np.argmin(np.mean(frames * frames, axis=1)))
        cuts.append(lo + quietest * frame + frame // 2)
    cuts.append(len(audio))
    return cuts


def _padded(features: np.ndarray, num_frames: int, window: float, headroom: float,
            most: int) -> np.ndarray:
    """The first `num_frames` of `features`, with silence after them up to `window` seconds and
    at least `headroom` seconds (at most `most` frames: Whisper's 30 s)."""
    frames = features[:, :num_frames]
    target = min(most, max(int(window * 100), num_frames + int(headroom * 100)))
    target += target % 2  # the encoder's convolution halves the frames
    return np.pad(frames, ((0, 0), (0, max(0, target - num_frames))))


def _decode_window(model: Any, audio: np.ndarray, language: str, prompt: str,
                   max_new_tokens: int | None, window: float = 30.0,
                   headroom: float = 30.0) -> tuple[list[Word], int]:
    """Greedy decode of one window with word timings relative to its start; guards applied."""
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import (
        get_compression_ratio,
        get_suppressed_tokens,
        merge_punctuations,
    )

    if len(audio) < SAMPLE_RATE // 10:
        return [], 0
    features = model.feature_extractor(audio)
    num_frames = min(features.shape[-1] - 1, model.feature_extractor.nb_max_frames)
    encoder_output = model.encode(_padded(features, num_frames, window, headroom,
                                          model.feature_extractor.nb_max_frames))
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                          task="transcribe", language=language)
    previous = tokenizer.encode(" " + prompt.strip()) if prompt.strip() else []
    request = model.get_prompt(tokenizer, previous, without_timestamps=True)
    limit = model.max_length if max_new_tokens is None else len(request) + max_new_tokens
    result = model.model.generate(
        encoder_output,
        [request],
        beam_size=1,
        max_length=min(limit, model.max_length),
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
    )[0]
    tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
    if not tokens:
        return [], 0
    text = tokenizer.decode(tokens)
    if _window_rejected(get_compression_ratio(text.strip()), result.no_speech_prob):
        return [], 1
    alignment = model.find_alignment(tokenizer, [tokens], encoder_output, num_frames)[0]
    merge_punctuations(alignment, "\"'“¿([{-", "\"'.。,，!！?？:：”)]}、")
    words = [
        Word(float(w["start"]), float(w["end"]), w["word"], float(w["probability"]))
        for w in alignment
        if w["word"].strip()
    ]
    return words, 0


def _window_rejected(compression_ratio: float, no_speech_prob: float) -> bool:
    """Stricter than for a whole file: a live window the model itself thinks is more likely
    silence than speech is dropped even when the words look confident ("Thank you." over a
    door slam is the classic). Measured: speech windows stay below 0.5 in clean audio; the few
    above 0.6 in loud noise are the first half-second of an utterance, which the next pass,
    with more speech in it, transcribes anyway."""
    return compression_ratio > MAX_COMPRESSION_RATIO or no_speech_prob > NO_SPEECH_PROB


def _rejected(compression_ratio: float, no_speech_prob: float, avg_logprob: float) -> bool:
    if compression_ratio > MAX_COMPRESSION_RATIO:
        return True
    if no_speech_prob > NO_SPEECH_PROB and avg_logprob < LOG_PROB_FLOOR:
        return True
    return no_speech_prob > 0.9
