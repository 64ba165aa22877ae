"""The models page's data, for the command line now and the window later: every catalogue model
and every folder the user added, with what is installed, what it is used for and whether it fits
in memory — typed entries, computed without hashing or loading anything. Also deleting a
downloaded model.

Promise: the page only displays these entries and forwards the user's actions (download:
`download.download_model`, choose: `model_choice.choose`, delete: `delete_model` here, test
speed: `bench.run_bench`); no decision about models is taken in the window.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from app.transcription.manifest import AccuracyClass, AccuracyFigure, SpeedClass, load_manifest
from app.transcription.memory import AvailableMemory, memory_fit
from app.transcription.model_choice import Use, forget, uses_of
from app.transcription.model_errors import ModelError
from app.transcription.models import (
    ModelLocation,
    Origin,
    VerificationState,
    locate_model,
    user_models_dir,
    verification_state,
)


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    name: str
    description: str
    language: str  # "en" or "multilingual"
    download_bytes: int | None  # None: a folder the user added
    memory_mb: int
    fits_memory: bool
    speed_class: SpeedClass | None
    accuracy_class: AccuracyClass | None
    accuracy: tuple[AccuracyFigure, ...]
    accuracy_note: str
    headline_accuracy: AccuracyFigure | None  # on the benchmark every model is compared on
    license: str
    repo: str | None
    revision: str | None
    default: bool
    installed: Origin | None  # None: not on this device
    path: Path | None
    verification: VerificationState | None
    used_for: frozenset[Use]
    partial_download: bool  # a download was started and can be resumed


def _entry(name: str, location: ModelLocation | None, *, default: bool,
           available: AvailableMemory | None, partial: bool) -> CatalogueEntry:
    manifest = load_manifest()
    spec = manifest.get(name) if location is None else location.spec
    fit = memory_fit(spec, location.path if location else None, available=available)
    return CatalogueEntry(
        name=name,
        description=spec.description if spec else "a model folder you added",
        language=spec.language if spec else "",
        download_bytes=spec.size if spec else None,
        memory_mb=fit.needed_mb,
        fits_memory=fit.fits,
        speed_class=spec.speed_class if spec else None,
        accuracy_class=spec.accuracy_class if spec else None,
        accuracy=spec.accuracy if spec else (),
        accuracy_note=spec.accuracy_note if spec else "",
        headline_accuracy=spec.headline_accuracy if spec else None,
        license=spec.license if spec else "",
        repo=spec.repo if spec else None,
        revision=spec.revision if spec else None,
        default=default,
        installed=location.origin if location else None,
        path=location.path if location else None,
        verification=verification_state(location) if location else None,
        used_for=uses_of(location) if location else frozenset(),
        partial_download=partial,
    )


def list_catalogue(*, available: AvailableMemory | None = None) -> list[CatalogueEntry]:
    """Catalogue models in catalogue order, then folders added under the data directory."""
    manifest = load_manifest()
    models = user_models_dir()
    entries = []
    for name in manifest.models:
        try:
            location: ModelLocation | None = locate_model(name, manifest=manifest)
        except ModelError:
            location = None
        entries.append(_entry(name, location, default=name == manifest.default,
                              available=available,
                              partial=(models / f".{name}.partial").is_dir()))
    for folder in sorted(p for p in models.iterdir() if p.is_dir()):
        if folder.name.startswith(".") or folder.name in manifest.models:
            continue
        location = locate_model(str(folder), manifest=manifest)
        entries.append(_entry(folder.name, location, default=False, available=available,
                              partial=False))
    return entries


@dataclass(frozen=True, slots=True)
class Deleted:
    name: str
    path: Path | None
    reset: tuple[Use, ...]  # choices that named it and went back to their defaults
    partial_removed: bool


def delete_model(name: str) -> Deleted:
    """Delete a downloaded model (and any unfinished download of it). Raises ModelError for a
    model that is bundled with Candor or not downloaded."""
    if not name or "/" in name or name.startswith("."):
        raise ModelError(f"{name!r} is not a model name; see `candor models list`")
    manifest = load_manifest()
    models = user_models_dir()
    folder = models / name
    partial = models / f".{name}.partial"
    if not folder.is_dir() and not partial.is_dir():
        spec = manifest.get(name)
        if spec is not None and spec.bundled_package:
            raise ModelError(f"{name} is bundled with Candor and cannot be deleted (it is the "
                             "model that works without any download)")
        raise ModelError(f"model {name!r} is not downloaded; `candor models list` shows what is")
    reset: list[Use] = []
    had_folder, had_partial = folder.is_dir(), partial.is_dir()
    if had_folder:
        reset = forget(name, folder.resolve())
        shutil.rmtree(folder)
    if had_partial:
        shutil.rmtree(partial)
    return Deleted(name, folder if had_folder else None, tuple(reset), had_partial)
