"""Whether the speech models in use are, byte for byte, the ones Candor knows.

For `candor privacy check`: the models chosen for live captions and for saved transcripts
(`app.transcription.model_choice`) are verified by the models module itself — every file hashed
(SHA-256) against the catalogue or the model's signed download record. A check runs in its own
process, so nothing is taken from an earlier hash. Hashing tiny.en's 78 MB costs about 0.07 s of
CPU (benchmarks/models.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.transcription.manifest import ManifestError
from app.transcription.model_choice import USE_TITLES, model_for
from app.transcription.models import ModelError, ModelLocation, locate_model, remedy, verify_model


@dataclass(frozen=True)
class ModelFilesOutcome:
    evidence: tuple[str, ...]
    problems: tuple[str, ...]
    remedy: str


def _in_use(model: str | None) -> list[tuple[str, ModelLocation]]:
    if model is not None:
        return [("the model asked for", locate_model(model))]
    found: list[tuple[str, ModelLocation]] = []
    for use in ("live", "final"):
        location = model_for(use)
        if all(other.path != location.path for _, other in found):
            found.append((USE_TITLES[use], location))
    return found


def verify_model_files(model: str | None = None) -> ModelFilesOutcome:
    try:
        in_use = _in_use(model)
    except (ModelError, ManifestError) as err:
        return ModelFilesOutcome(
            (), (f"the model in use cannot be found: {err}",),
            "install one with `candor models download NAME`, or choose one with "
            "`candor models use NAME`",
        )
    evidence: list[str] = []
    problems: list[str] = []
    fixes: list[str] = []
    for use, location in in_use:
        where = f"model {location.name!r} ({location.origin}, for {use}) in {location.path}"
        try:
            verified = verify_model(location)
        except ModelError as err:
            problems.append(str(err))
            fixes.append(remedy(location))
            continue
        if verified:
            evidence.append(f"{where}: every file matches its published checksum")
        else:
            problems.append(f"{where} is a folder Candor does not know, so its files cannot be "
                            "checked")
            fixes.append("use a model Candor knows (`candor models list`) if you want it verified")
    return ModelFilesOutcome(tuple(evidence), tuple(problems), "; ".join(dict.fromkeys(fixes)))
