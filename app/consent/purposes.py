"""The purposes Candor may process data for, and which features need which purposes.

The one table of purposes: every module names a purpose through these constants (or the
`Purpose` type), never by re-typing its string, so a purpose cannot be added, renamed or
misspelled in one place only.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Purpose = Literal[
    "microphone",
    "noise_suppression",
    "transcription",
    "transcript_storage",
    "recording_storage",
    "vocabulary_learning",
    "model_download",
    "system_audio",
    "contribution",
]

MICROPHONE: Final = "microphone"
NOISE_SUPPRESSION: Final = "noise_suppression"
TRANSCRIPTION: Final = "transcription"
TRANSCRIPT_STORAGE: Final = "transcript_storage"
RECORDING_STORAGE: Final = "recording_storage"
VOCABULARY_LEARNING: Final = "vocabulary_learning"
MODEL_DOWNLOAD: Final = "model_download"
# Caption the other participants of a call from what the computer plays (DESIGN.md §3).
SYSTEM_AUDIO: Final = "system_audio"
# Write an anonymised, aggregated, differentially private file of correction statistics.
CONTRIBUTION: Final = "contribution"

PURPOSES: tuple[Purpose, ...] = get_args(Purpose)

# A feature may need several purposes; each is still asked for and recorded separately.
FEATURE_NEEDS: dict[str, tuple[Purpose, ...]] = {
    "microphone": (MICROPHONE,),
    "noise_suppression": (MICROPHONE, NOISE_SUPPRESSION),
    "live_captions": (MICROPHONE, TRANSCRIPTION),
    "system_audio": (SYSTEM_AUDIO, TRANSCRIPTION),
    "file_transcription": (TRANSCRIPTION,),
    "save_transcript": (TRANSCRIPT_STORAGE,),
    "save_recordings": (RECORDING_STORAGE,),
    "vocabulary_learning": (VOCABULARY_LEARNING,),
    "model_download": (MODEL_DOWNLOAD,),
    "contribution": (CONTRIBUTION,),
}

# Purposes whose grant covers one use and then ends (DESIGN.md §3: "asked each time").
SINGLE_USE: frozenset[Purpose] = frozenset({MODEL_DOWNLOAD, CONTRIBUTION})


def is_purpose(value: str) -> bool:
    return value in PURPOSES


def check_purpose(purpose: str) -> Purpose:
    from app.consent.errors import UnknownPurpose

    if purpose not in PURPOSES:
        raise UnknownPurpose(purpose)
    return purpose
