"""The purposes Candor may process data for, and which features need which purposes."""

from __future__ import annotations

MICROPHONE = "microphone"
NOISE_SUPPRESSION = "noise_suppression"
TRANSCRIPTION = "transcription"
TRANSCRIPT_STORAGE = "transcript_storage"
RECORDING_STORAGE = "recording_storage"
VOCABULARY_LEARNING = "vocabulary_learning"
MODEL_DOWNLOAD = "model_download"

PURPOSES: tuple[str, ...] = (
    MICROPHONE,
    NOISE_SUPPRESSION,
    TRANSCRIPTION,
    TRANSCRIPT_STORAGE,
    RECORDING_STORAGE,
    VOCABULARY_LEARNING,
    MODEL_DOWNLOAD,
)

# A feature may need several purposes; each is still asked for and recorded separately.
FEATURE_NEEDS: dict[str, tuple[str, ...]] = {
    "microphone": (MICROPHONE,),
    "noise_suppression": (MICROPHONE, NOISE_SUPPRESSION),
    "live_captions": (MICROPHONE, TRANSCRIPTION),
    "file_transcription": (TRANSCRIPTION,),
    "save_transcripts": (TRANSCRIPT_STORAGE,),
    "save_recordings": (RECORDING_STORAGE,),
    "model_download": (MODEL_DOWNLOAD,),
}

# Purposes whose grant covers one use and then ends (DESIGN.md §3: "asked each time").
SINGLE_USE: frozenset[str] = frozenset({MODEL_DOWNLOAD})


def check_purpose(purpose: str) -> str:
    from app.consent.errors import UnknownPurpose

    if purpose not in PURPOSES:
        raise UnknownPurpose(purpose)
    return purpose
