"""Switches that keep the recogniser's libraries off the network and quiet.

faster-whisper pulls in huggingface_hub, which can look models up on the Hub, and onnxruntime
(its Silero VAD), which has telemetry. Candor only ever loads models from a local folder. The
environment switches are set for the whole process by `app.offline_env` when `app` is first
imported; `force_offline` sets them again (cheap, and right even when a caller changed the
environment since) and turns onnxruntime's telemetry off through its own API too, belt and
braces: the environment switch is what measurably stops it (see `app.offline_env`).
"""

from __future__ import annotations

import logging
from types import ModuleType

from app import offline_env

log = logging.getLogger(__name__)


def force_offline() -> None:
    offline_env.apply()
    disable_onnxruntime_telemetry()
    # Every import of faster_whisper (the VAD's too) loads CTranslate2, whose MKL reads its
    # allocator switch then: set here, before any of those imports (lean_whisper.py says why).
    from app.transcription.lean_whisper import configure_native_allocators

    configure_native_allocators()


def disable_onnxruntime_telemetry() -> None:
    try:
        import onnxruntime
    except ImportError:  # faster-whisper without its VAD: nothing to switch off
        return
    disable = getattr(onnxruntime, "disable_telemetry_events", None)
    if disable is not None:
        disable()
    else:
        log.info("this onnxruntime has no disable_telemetry_events(); ORT_DISABLE_TELEMETRY=%s",
                 offline_env.TELEMETRY_OFF["ORT_DISABLE_TELEMETRY"])


def import_faster_whisper() -> ModuleType:
    """Import faster_whisper with the network switches set first."""
    force_offline()
    import faster_whisper

    return faster_whisper
