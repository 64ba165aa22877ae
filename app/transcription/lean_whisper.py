"""faster-whisper's WhisperModel with less memory held at the final pass's peak; same output.

Measured in one process with tiny.en over 4 minutes of real speech in 120 s pieces (RSS, the
model alone 215 MB): faster-whisper as it is peaked at 401 MB in the decode. Three causes,
each removed here without changing the transcript (final-pass segments identical to plain
faster-whisper's on clean and babble-mixed speech; the features differ by one float32 rounding
in one value of 960,080 for a 120 s piece):

- The log-mel spectrogram of a whole piece at once (117 MB of working memory for a 120 s piece,
  tracemalloc): computed 10 s at a time instead (app/transcription/log_mel.py). 401 -> 373 MB.
- Intel MKL's own memory manager (linked into CTranslate2) keeps the buffers of every matrix
  product for reuse: MKL_DISABLE_FAST_MM=1 hands them back to malloc. 373 -> 348 MB.
- The encoder runs on CTranslate2's worker thread, whose malloc arena cannot reuse what the
  calling thread just freed (the piece's features, the VAD's buffers); the 30 s encoder's
  attention alone needs ~54 MB (6 heads x 1500 x 1500 float32). Returning the freed pages to
  the system just before each encode of a whole-recording pass lets the encoder take them
  again: 348 -> 326 MB. Only while `releasing_before_encodes()` is active (the final pass and
  files, one encode per 30 s of audio): live passes trim on their own timer (heap.py).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from app.transcription.heap import release_freed_memory
from app.transcription.log_mel import chunked_extractor

# Read by MKL when CTranslate2's library is loaded: set before faster_whisper is imported.
NATIVE_ALLOCATOR_ENV = {"MKL_DISABLE_FAST_MM": "1"}

_releasing = threading.local()


def configure_native_allocators() -> None:
    """Set the allocator switches for the native libraries (a value the user set is kept)."""
    for key, value in NATIVE_ALLOCATOR_ENV.items():
        os.environ.setdefault(key, value)


@contextlib.contextmanager
def releasing_before_encodes() -> Iterator[None]:
    """Within this block, on this thread, freed memory is returned before each encode."""
    before = getattr(_releasing, "active", False)
    _releasing.active = True
    try:
        yield
    finally:
        _releasing.active = before


def lean_model_class(faster_whisper: Any) -> type:
    """A subclass of `faster_whisper.WhisperModel` with the changes above."""

    class LeanWhisperModel(faster_whisper.WhisperModel):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # set by faster-whisper's __init__ (read through vars: its class is untyped)
            self.feature_extractor = chunked_extractor(vars(self)["feature_extractor"])

        def encode(self, features: Any) -> Any:
            if getattr(_releasing, "active", False):
                release_freed_memory()
            return super().encode(features)

    return LeanWhisperModel
