"""The speech stack on synthetic sound, for `candor privacy check --os` to watch under strace.

Run as `python -m app.privacy.os_selftest [MODEL]` in a throwaway data directory. It loads what a
meeting loads — onnxruntime's Silero VAD, noisereduce, the Whisper model (verified, from its
local folder) — and runs each once on a tone and silence it makes itself, so no audio of the
user's is touched and no permission is needed or recorded. Prints one line per step.
"""

from __future__ import annotations

import sys

import numpy as np

RATE = 16000


def main(argv: list[str]) -> int:
    from app.transcription.engine import WhisperEngine
    from app.transcription.models import locate_model
    from app.transcription.vad import StreamingVadScorer

    seconds = np.arange(RATE * 2) / RATE
    sound = np.concatenate([np.zeros(RATE, dtype=np.float32),
                            (0.1 * np.sin(2 * np.pi * 220 * seconds)).astype(np.float32)])
    scores = StreamingVadScorer().score(sound)
    print(f"voice activity detection: {len(scores)} windows scored")
    import noisereduce

    cleaned = noisereduce.reduce_noise(y=sound, sr=RATE)
    print(f"noise suppression: {len(cleaned)} samples")
    engine = WhisperEngine(locate_model(argv[0] if argv else None))
    engine.load()
    result = engine.transcribe_window(sound, offset=0.0)
    print(f"speech model {engine.location.name}: one pass, {len(result.words)} word(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
