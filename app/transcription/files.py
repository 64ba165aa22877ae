"""Transcribing a recording: any common audio format, with progress and cancellation.

Used by `candor transcribe` and by the window's "Transcribe a file". Consent: `transcription`
is required before the model is touched, and checked again before the result is handed over, so
a withdrawal during a long file yields nothing. The personal vocabulary is used only while
`vocabulary_learning` is given; withdrawn before the result is handed over, the result is
exactly the unbiased transcript.
"""

from __future__ import annotations

import errno
import stat
import threading
from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np

from app.consent import ConsentRequired, Gate
from app.consent.purposes import TRANSCRIPTION, VOCABULARY_LEARNING
from app.segments import Segment
from app.transcription.denoising import denoise_recording
from app.transcription.engine import (
    SAMPLE_RATE,
    AnyEvent,
    TranscriptionCancelled,
    WhisperEngine,
)
from app.transcription.model_choice import model_for
from app.vocabulary.bias import VocabularyBias
from app.vocabulary.use import load_bias

__all__ = [
    "AudioFileError",
    "AudioReadError",
    "TranscriptionCancelled",
    "check_regular_file",
    "load_audio_file",
    "transcribe_file",
]


class AudioFileError(ValueError):
    """The file cannot be read as audio; the message names it and says what to do."""


class AudioReadError(AudioFileError):
    """The file is there but reading it failed (an I/O error, no permission): a fault of the
    disk or the system, not bad input."""


_NOT_A_FILE = {
    stat.S_IFIFO: "a named pipe (FIFO), not a file: Candor reads a recording from a file, as "
                  "it needs the whole of it; save the audio to a file first",
    stat.S_IFCHR: "a device, not a recording; give the path of an audio file",
    stat.S_IFBLK: "a device, not a recording; give the path of an audio file",
    stat.S_IFSOCK: "a socket, not a recording; give the path of an audio file",
}


def check_regular_file(file: Path) -> int:
    """Refuse what is not a regular file before opening it (a FIFO would block the read for
    ever, a device never end); returns its size. Raises AudioFileError / AudioReadError."""
    try:
        info = file.stat()
    except FileNotFoundError as err:
        raise AudioFileError(f"{file} does not exist; give the path of an audio file") from err
    except OSError as err:
        raise AudioReadError(f"{file} cannot be read: {_os_reason(err)}") from err
    kind = stat.S_IFMT(info.st_mode)
    if kind == stat.S_IFDIR:
        raise AudioFileError(f"{file} is a folder; give the path of an audio file")
    if kind in _NOT_A_FILE:
        raise AudioFileError(f"{file} is {_NOT_A_FILE[kind]}")
    return info.st_size


def _os_reason(err: OSError) -> str:
    if err.errno == errno.EIO:
        return ("an input/output error (the disk or the file is damaged, or the medium was "
                "removed); copy what can be read to another disk and try again")
    if err.errno == errno.EACCES:
        return "permission denied; check who may read it"
    return err.strerror or str(err)


def load_audio_file(path: str | PathLike[str]) -> np.ndarray:
    """16 kHz mono float32 samples of any format FFmpeg (PyAV) reads."""
    file = Path(path)
    if check_regular_file(file) == 0:
        raise AudioFileError(f"{file} is empty (0 bytes); give a recording with sound in it")
    from app.transcription.offline import import_faster_whisper

    faster_whisper = import_faster_whisper()
    import av

    try:
        audio = faster_whisper.decode_audio(str(file), sampling_rate=SAMPLE_RATE)
    except OSError as err:
        # Before FFmpegError: PyAV's OSError is both, and an I/O error is not "not audio".
        if isinstance(err, av.error.FFmpegError) and err.errno in (None, errno.EINVAL):
            raise AudioFileError(_not_audio(file, err)) from err
        raise AudioReadError(f"{file} cannot be read: {_os_reason(err)}") from err
    except (av.error.FFmpegError, IndexError) as err:
        raise AudioFileError(_not_audio(file, err)) from err
    if len(audio) == 0:
        raise AudioFileError(f"{file} holds no audio (its sound track is empty)")
    return audio


def _not_audio(file: Path, err: BaseException) -> str:
    return (f"{file} is not an audio file Candor can read ({_reason(err)}); give a recording "
            "such as WAV, MP3, M4A, OGG, FLAC or a video with a sound track")


def _reason(err: BaseException) -> str:
    if isinstance(err, IndexError):
        return "it has no sound track"
    text = str(err)
    return "FFmpeg found no audio data in it" if "Invalid data" in text else text


def transcribe_file(
    path: str | PathLike[str],
    *,
    gate: Gate,
    model: str | None = None,
    language: str | None = None,
    denoise: bool = False,
    on_progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    engine: WhisperEngine | None = None,
    vocabulary: VocabularyBias | Literal["load"] | None = "load",
) -> list[Segment]:
    """The recording's transcript as segments (seconds from the start of the file).

    `on_progress(fraction)` is called from this thread with 0.0 .. 1.0 of the audio done;
    setting `cancel` stops at the next segment with TranscriptionCancelled. `vocabulary`:
    "load" uses the data directory's vocabulary when `vocabulary_learning` is given; None never
    uses one. Raises ConsentRequired, AudioFileError, ModelError, DenoiseUnavailable.
    """
    gate.require(TRANSCRIPTION)
    audio = load_audio_file(path)
    if denoise:
        audio = denoise_recording(audio, gate)
    engine = engine or WhisperEngine(model or model_for("final"), language=language)
    bias = load_bias(gate) if vocabulary == "load" else vocabulary
    engine_default = engine.vocabulary
    if bias is not None:
        engine.vocabulary = bias
    withdrawn = threading.Event()
    unsubscribe = gate.on_withdrawn(lambda p: withdrawn.set() if p == TRANSCRIPTION else None)
    stop = AnyEvent(cancel, withdrawn)
    try:
        segments = engine.transcribe_audio(audio, on_progress=on_progress, cancel=stop)
    except TranscriptionCancelled:
        if withdrawn.is_set():
            raise ConsentRequired(TRANSCRIPTION, "it was withdrawn during the transcription") \
                from None
        raise
    finally:
        unsubscribe()
        engine.vocabulary = engine_default
    # Handed over only while `transcription` is still given: a withdrawal recorded meanwhile
    # means the result is dropped, not returned.
    with gate.guard(TRANSCRIPTION):
        if bias is not None and not gate.allowed(VOCABULARY_LEARNING):
            return bias.unbiased(segments)
        return segments

