"""Whether the speech model in use is, byte for byte, the one the manifest names.

For `candor privacy check`: every file is hashed afresh (SHA-256), never taken from the
verification cache, because the cache trusts size and modification time, which a changed file
can keep. Hashing tiny.en's 78 MB costs about 0.3 s of CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.transcription.manifest import ManifestError
from app.transcription.models import ModelError, locate_model, sha256_file


@dataclass(frozen=True)
class ModelFilesOutcome:
    evidence: tuple[str, ...]
    problems: tuple[str, ...]
    remedy: str


def verify_model_files(model: str | None = None) -> ModelFilesOutcome:
    try:
        location = locate_model(model)
    except (ModelError, ManifestError) as err:
        return ModelFilesOutcome(
            (f"no speech model is installed, so none is in use ({err})",), (), ""
        )
    where = f"model {location.name!r} ({location.origin}) in {location.path}"
    if location.spec is None:
        return ModelFilesOutcome(
            (where,),
            ("it is a folder the manifest does not know, so its files cannot be checked",),
            "use a model Candor knows (`candor models list`) if you want it verified",
        )
    problems = []
    for spec in location.spec.files:
        path = location.path / spec.name
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        size = path.stat().st_size
        digest = sha256_file(path)
        if size != spec.size or digest != spec.sha256:
            problems.append(f"{path}: SHA-256 {digest[:16]}…, {size} bytes; the manifest says "
                            f"{spec.sha256[:16]}…, {spec.size} bytes")
    evidence = (f"{where}: hashed {len(location.spec.files)} files against models/manifest.json",)
    remedy = (f"reinstall Candor, or delete {location.path} and run "
              f"`candor models download {location.name}`")
    return ModelFilesOutcome(evidence, tuple(problems), remedy)
