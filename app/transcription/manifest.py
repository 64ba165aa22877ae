"""The model catalogue (`models/manifest.json`): every model Candor knows, where the hub keeps it,
what it costs and how accurate it is said to be — as typed, immutable records.

Promise: a catalogue entry names one pinned revision of one hub repository, and the only
checksums it carries are real ones (the bundled model's files). Every model either has a published
figure on the catalogue's one common accuracy benchmark (`accuracy_benchmark`, so models can be
compared) or says `"accuracy": "none"`, shown as "no published figure" — never a neighbour's
figure. A manifest that is malformed is refused as a whole with a message naming the model and
field, never half-read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

from app.paths import models_manifest_path

SpeedClass = Literal["fastest", "fast", "medium", "slow"]
AccuracyClass = Literal["lowest", "low", "medium", "high"]
MULTILINGUAL = "multilingual"
HUB = "https://huggingface.co"

NO_PUBLISHED_FIGURE = "no published figure"
_NONE = "none"  # the manifest's explicit marker for a model with no figure on the benchmark

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_REPO = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True, slots=True)
class FileSpec:
    name: str
    size: int | None  # as the hub lists it for the pinned revision (None: unknown)
    sha256: str | None  # only where Candor knows the bytes (the bundled model)


@dataclass(frozen=True, slots=True)
class AccuracyFigure:
    metric: str
    dataset: str
    value: float
    source: str
    url: str
    note: str = ""


def figure_text(figure: AccuracyFigure | None) -> str:
    """A figure as the catalogue states it ("WER %" figures are percentages already), or the
    explicit marker where there is none."""
    if figure is None:
        return NO_PUBLISHED_FIGURE
    if figure.metric.endswith("%"):
        return f"{figure.metric[:-1].strip()} {figure.value:g} %"
    return f"{figure.metric} {figure.value:g}"


@dataclass(frozen=True, slots=True)
class AccuracyBenchmark:
    """The figure every model is compared on (its metric and data set)."""

    metric: str
    dataset: str

    def matches(self, figure: AccuracyFigure) -> bool:
        return figure.metric == self.metric and figure.dataset == self.dataset


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    description: str
    language: str  # "en", or "multilingual"
    files: tuple[FileSpec, ...]
    repo: str | None = None
    revision: str | None = None
    bundled_package: str | None = None
    license: str = ""
    parameters_millions: int | None = None
    memory_mb: int | None = None
    speed_class: SpeedClass | None = None
    accuracy_class: AccuracyClass | None = None
    accuracy: tuple[AccuracyFigure, ...] = ()
    accuracy_note: str = ""
    headline_accuracy: AccuracyFigure | None = None  # on the catalogue's common benchmark

    @property
    def size(self) -> int:
        """Bytes to download (the files whose size is known)."""
        return sum(f.size or 0 for f in self.files)

    @property
    def file_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.files)

    @property
    def upstream(self) -> str | None:
        return f"{HUB}/{self.repo}" if self.repo else None

    @property
    def multilingual(self) -> bool:
        return self.language == MULTILINGUAL

    def file(self, name: str) -> FileSpec | None:
        return next((f for f in self.files if f.name == name), None)


@dataclass(frozen=True, slots=True)
class Manifest:
    default: str
    models: dict[str, ModelSpec]
    accuracy_benchmark: AccuracyBenchmark | None = None

    def get(self, name: str) -> ModelSpec | None:
        return self.models.get(name)


class ManifestError(RuntimeError):
    pass


def _fail(path: Path, name: str, what: str) -> ManifestError:
    return ManifestError(f"the model manifest {path} is damaged (model {name!r}: {what}); "
                         "reinstall Candor")


def _file_spec(path: Path, model: str, file_name: str, info: Any) -> FileSpec:
    if not isinstance(info, dict):
        raise _fail(path, model, f"file {file_name!r} is not an object")
    size = info.get("size")
    digest = info.get("sha256")
    if size is not None and (not isinstance(size, int) or size < 0):
        raise _fail(path, model, f"file {file_name!r} has no valid size")
    if digest is not None and (not isinstance(digest, str) or not _SHA256.match(digest.lower())):
        raise _fail(path, model, f"file {file_name!r} has no valid SHA-256")
    return FileSpec(file_name, size, digest.lower() if isinstance(digest, str) else None)


def _figure(path: Path, model: str, raw: Any) -> AccuracyFigure:
    try:
        return AccuracyFigure(str(raw["metric"]), str(raw["dataset"]), float(raw["value"]),
                              str(raw["source"]), str(raw["url"]), str(raw.get("note", "")))
    except (KeyError, TypeError, ValueError) as err:
        raise _fail(path, model, f"an accuracy figure lacks {err}") from err


def _choice(path: Path, model: str, field: str, value: Any, allowed: tuple[str, ...]) -> Any:
    if value is None or value in allowed:
        return value
    raise _fail(path, model, f"{field} {value!r} is not one of {', '.join(allowed)}")


def _benchmark(path: Path, raw: Any) -> AccuracyBenchmark | None:
    if raw is None:
        return None
    try:
        return AccuracyBenchmark(str(raw["metric"]), str(raw["dataset"]))
    except (KeyError, TypeError) as err:
        raise ManifestError(f"the model manifest {path} is damaged (accuracy_benchmark lacks "
                            f"{err}); reinstall Candor") from err


def _accuracy(path: Path, name: str, raw: Any, benchmark: AccuracyBenchmark | None
              ) -> tuple[tuple[AccuracyFigure, ...], AccuracyFigure | None]:
    """The figures and the one on the common benchmark; "none" says there is none."""
    if raw == _NONE:
        return (), None
    if not isinstance(raw, list):
        raise _fail(path, name, 'accuracy is neither a list of figures nor "none"')
    figures = tuple(_figure(path, name, a) for a in raw)
    if benchmark is None:
        return figures, None
    headline = next((f for f in figures if benchmark.matches(f)), None)
    if headline is None:
        raise _fail(path, name, f"no {benchmark.metric} figure on {benchmark.dataset}, the "
                                'benchmark every model is compared on (give one, or "none")')
    return figures, headline


def _spec(path: Path, name: str, entry: Any,
          benchmark: AccuracyBenchmark | None = None) -> ModelSpec:
    if not isinstance(entry, dict):
        raise _fail(path, name, "not an object")
    files_raw = entry.get("files")
    if not isinstance(files_raw, dict) or not files_raw:
        raise _fail(path, name, "no files")
    files = tuple(_file_spec(path, name, f, info) for f, info in sorted(files_raw.items()))
    repo = entry.get("repo")
    revision = entry.get("revision")
    if repo is not None and not (isinstance(repo, str) and _REPO.match(repo)):
        raise _fail(path, name, f"repo {repo!r} is not owner/name")
    if revision is not None and not (isinstance(revision, str) and _COMMIT.match(revision)):
        raise _fail(path, name, "revision is not a 40-hex commit id")
    bundled = entry.get("bundled_package")
    if repo is None and bundled is None:
        raise _fail(path, name, "neither a hub repository nor a bundled package")
    if bundled is not None and any(f.sha256 is None or f.size is None for f in files):
        raise _fail(path, name, "a bundled model needs the size and SHA-256 of every file")
    accuracy, headline = _accuracy(path, name, entry.get("accuracy", []), benchmark)
    return ModelSpec(
        name=name,
        description=str(entry.get("description", "")),
        language=str(entry.get("language", "en")),
        files=files,
        repo=repo,
        revision=revision,
        bundled_package=bundled,
        license=str(entry.get("license", "")),
        parameters_millions=entry.get("parameters_millions"),
        memory_mb=entry.get("memory_mb"),
        speed_class=cast(SpeedClass | None, _choice(path, name, "speed_class",
                                                    entry.get("speed_class"),
                                                    get_args(SpeedClass))),
        accuracy_class=cast(AccuracyClass | None, _choice(path, name, "accuracy_class",
                                                          entry.get("accuracy_class"),
                                                          get_args(AccuracyClass))),
        accuracy=accuracy,
        accuracy_note=str(entry.get("accuracy_note", "")),
        headline_accuracy=headline,
    )


def load_manifest(path: Path | None = None) -> Manifest:
    path = path or models_manifest_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ManifestError(
            f"the model manifest {path} cannot be read ({err}); reinstall Candor"
        ) from err
    if not isinstance(raw, dict) or not isinstance(raw.get("models"), dict):
        raise ManifestError(f"the model manifest {path} lists no models; reinstall Candor")
    benchmark = _benchmark(path, raw.get("accuracy_benchmark"))
    models = {name: _spec(path, name, entry, benchmark)
              for name, entry in raw["models"].items()}
    default = str(raw.get("default", ""))
    if default not in models:
        raise ManifestError(f"the model manifest {path} names no valid default model")
    return Manifest(default=default, models=models, accuracy_benchmark=benchmark)
