"""Switches that keep the recogniser's libraries off the network.

faster-whisper pulls in huggingface_hub, which can look models up on the Hub. Candor only ever
loads models from a local folder, and these switches make any accidental lookup fail fast instead
of reaching the network. They must be set before faster_whisper is first imported.
"""

from __future__ import annotations

import os
from types import ModuleType

_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
}


def force_offline() -> None:
    for key, value in _OFFLINE_ENV.items():
        os.environ[key] = value


def import_faster_whisper() -> ModuleType:
    """Import faster_whisper with the network switches set first."""
    force_offline()
    import faster_whisper

    return faster_whisper
