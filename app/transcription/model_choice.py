"""Which model does what: one for live captions, one for saved transcripts (the end-of-meeting
final pass and file transcription). A slower, more accurate final-pass model is how a 2-core
laptop gets both fast captions and a good transcript.

Promise: the rest of Candor asks `model_for("live")` or `model_for("final")` and nothing else;
the answer is the user's recorded choice (settings.json in the data directory), tiny.en for live
captions by default, and for saved transcripts the live model unless the user chose another. A
chosen model that has gone missing is an error naming the choice and how to change it — never a
silent fall-back to another model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.settings import Settings
from app.transcription.manifest import load_manifest
from app.transcription.model_errors import ModelError
from app.transcription.models import ModelLocation, locate_model, verify_model

Use = Literal["live", "final"]
USES: tuple[Use, ...] = ("live", "final")
USE_TITLES: dict[Use, str] = {"live": "live captions", "final": "saved transcripts"}
_KEYS: dict[Use, str] = {"live": "models.live", "final": "models.final"}


@dataclass(frozen=True, slots=True)
class Choice:
    use: Use
    model: str  # a catalogue name, or the absolute path of a model folder
    chosen: bool  # False: the default (nothing recorded for this use)


def chosen(use: Use, settings: Settings | None = None) -> Choice:
    settings = settings or Settings()
    value = settings.get(_KEYS[use])
    if isinstance(value, str) and value:
        return Choice(use, value, True)
    if use == "final":
        live = chosen("live", settings)
        return Choice("final", live.model, False)
    return Choice("live", load_manifest().default, False)


def model_for(use: Use, settings: Settings | None = None) -> ModelLocation:
    """The model to run for `use`. Cheap (no hashing): loading it verifies it."""
    choice = chosen(use, settings)
    try:
        return locate_model(choice.model)
    except ModelError as err:
        if not choice.chosen:
            raise
        raise ModelError(
            f"the model chosen for {USE_TITLES[use]} ({choice.model}) cannot be used: {err}; "
            f"or choose another with `candor models use NAME --for {use}`"
        ) from err


def _stored_value(location: ModelLocation) -> str:
    manifest = load_manifest()
    if location.spec is not None and location.name in manifest.models and \
            location.origin != "folder":
        return location.name
    return str(location.path)


def choose(name_or_path: str, uses: tuple[Use, ...] = USES, *,
           settings: Settings | None = None, check_memory: bool = True) -> ModelLocation:
    """Record `name_or_path` as the model for `uses`, after checking it is installed, is a
    Whisper model, matches its checksums and fits in memory. Raises ModelError."""
    from app.transcription.memory import check_fits

    location = locate_model(name_or_path)
    verify_model(location)
    if check_memory:
        check_fits(location.name, location.spec, location.path)
    settings = settings or Settings()
    value = _stored_value(location)
    for use in uses:
        settings.set(_KEYS[use], value)
    return location


def uses_of(location: ModelLocation, settings: Settings | None = None) -> frozenset[Use]:
    """What this installed model is used for now."""
    settings = settings or Settings()
    found: set[Use] = set()
    for use in USES:
        choice = chosen(use, settings)
        if choice.model == location.name or Path(choice.model) == location.path:
            found.add(use)
    return frozenset(found)


def forget(name: str, path: Path, settings: Settings | None = None) -> list[Use]:
    """A model was deleted: choices naming it go back to their defaults. Returns those uses."""
    settings = settings or Settings()
    reset: list[Use] = []
    for use in USES:
        value = settings.get(_KEYS[use])
        if isinstance(value, str) and (value == name or Path(value) == path):
            settings.set(_KEYS[use], None)
            reset.append(use)
    return reset
