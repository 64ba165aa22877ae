"""On-device speech recognition: model locating and verification, file transcription, and the
streaming policy behind live captions.

Nothing here imports faster-whisper at module import time: the window imports this package, and
a fresh profile without `transcription` consent must never load the recogniser.
"""
