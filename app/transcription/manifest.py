"""The model manifest (`models/manifest.json`): every model Candor knows and its file checksums."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from app.paths import models_manifest_path


@dataclass(frozen=True, slots=True)
class FileSpec:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    description: str
    language: str
    files: tuple[FileSpec, ...]
    bundled_package: str | None = None
    upstream: str | None = None
    download_url_base: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True, slots=True)
class Manifest:
    default: str
    models: dict[str, ModelSpec]

    def get(self, name: str) -> ModelSpec | None:
        return self.models.get(name)


class ManifestError(RuntimeError):
    pass


def load_manifest(path: Path | None = None) -> Manifest:
    path = path or models_manifest_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ManifestError(
            f"the model manifest {path} cannot be read ({err}); reinstall Candor"
        ) from err
    models: dict[str, ModelSpec] = {}
    for name, entry in raw.get("models", {}).items():
        source = entry.get("source", {})
        files = tuple(
            FileSpec(file_name, int(info["size"]), str(info["sha256"]).lower())
            for file_name, info in sorted(entry.get("files", {}).items())
        )
        url_base = source.get("download_url_base")
        if url_base is None and source.get("upstream", "").startswith("https://huggingface.co/"):
            # The Hub serves each file of a repository at <repo>/resolve/<revision>/<file>.
            url_base = source["upstream"].rstrip("/") + "/resolve/main"
        models[name] = ModelSpec(
            name=name,
            description=str(entry.get("description", "")),
            language=str(entry.get("language", "")),
            files=files,
            bundled_package=source.get("bundled_package"),
            upstream=source.get("upstream"),
            download_url_base=url_base,
        )
    default = str(raw.get("default", ""))
    if default not in models:
        raise ManifestError(f"the model manifest {path} names no valid default model")
    return Manifest(default=default, models=models)
