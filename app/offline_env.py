"""Telemetry off, network off: the environment every Candor process runs in.

Promise: no library Candor loads reports anything about this machine, and only the model
download worker may reach the network. Several of Candor's dependencies read their switches from
the environment once, when they are first imported or loaded, so this module is imported first
by `app/__init__.py`: every command, the window and every child process (they inherit the
environment) get the switches before anything can load those libraries.

Which library reads which switch (checked in the installed binaries and sources):
- onnxruntime (Silero VAD, loaded through faster-whisper): `ORT_DISABLE_TELEMETRY`. Measured:
  without it a `candor listen` resolved `mobile.events.data.microsoft.com` and wrote a device id
  and an event queue under `~/.cache/Microsoft/DeveloperTools/.onnxruntime/`; its
  `disable_telemetry_events()` called after import did not stop those files.
- huggingface_hub: `HF_HUB_DISABLE_TELEMETRY`, `HF_HUB_DISABLE_IMPLICIT_TOKEN`, and
  `HF_HUB_OFFLINE` (no hub lookup at run time; models load from a local folder).
- hf_xet (the hub's transfer library): `HF_XET_TELEMETRY_ENABLED`, and it honours
  `HF_HUB_DISABLE_TELEMETRY` and `DO_NOT_TRACK`.
- `DO_NOT_TRACK`: the cross-tool convention, for anything else that honours it.

The download worker (`app.transcription.hub_fetch`, started by `download.py` when the user asks
for a model) is the one process that needs the network: its parent marks it with
`DOWNLOAD_WORKER_ENV`, and then only the network switches are left off; telemetry stays off.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Final

TELEMETRY_OFF: Final[dict[str, str]] = {
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_XET_TELEMETRY_ENABLED": "0",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
}
NETWORK_OFF: Final[dict[str, str]] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
}
# Set by the parent of the model download worker, and only there.
DOWNLOAD_WORKER_ENV: Final = "CANDOR_DOWNLOAD_WORKER"


def apply(environ: MutableMapping[str, str] | None = None) -> None:
    """Set the switches in `environ` (the process environment by default). Values the user set
    are overridden: a `DO_NOT_TRACK=0` in the shell must not turn Candor's telemetry on."""
    env = os.environ if environ is None else environ
    env.update(TELEMETRY_OFF)
    if env.get(DOWNLOAD_WORKER_ENV) == "1":
        for key in NETWORK_OFF:
            env.pop(key, None)
    else:
        env.update(NETWORK_OFF)


apply()
