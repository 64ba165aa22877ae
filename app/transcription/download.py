"""Downloading a model the user asked for: resumable, verified, only with `model_download`.

The only network access Candor makes, and only when the user starts it. Files are fetched into
`models/.NAME.partial/` (each as `FILE.part` until complete); an interrupted download resumes
with an HTTP Range request; every file must match the manifest's size and SHA-256 before the
folder is renamed to `models/NAME`, so a model folder is either complete and verified or absent.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from app.consent import ConsentRequired, Gate
from app.consent.purposes import MODEL_DOWNLOAD
from app.transcription.manifest import FileSpec, ModelSpec
from app.transcription.models import VerificationCache, user_models_dir

log = logging.getLogger(__name__)

CHUNK = 1 << 20
TIMEOUT = 30.0

Progress = Callable[[int, int, str], None]  # (bytes done, bytes total, file being fetched)


class DownloadError(RuntimeError):
    """The download did not complete; the message says why and what to do."""


class DownloadCancelled(DownloadError):
    pass


def _url(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + urllib.parse.quote(name)


def _check_scheme(base: str) -> None:
    scheme = urllib.parse.urlsplit(base).scheme
    if scheme not in ("http", "https"):
        raise DownloadError(f"cannot download from {base!r}: only http(s) addresses are used")


def _hash_existing(path: Path) -> tuple[hashlib._Hash, int]:
    digest = hashlib.sha256()
    size = 0
    if path.exists():
        with path.open("rb") as handle:
            while block := handle.read(CHUNK):
                digest.update(block)
                size += len(block)
    return digest, size


class _Fetcher:
    def __init__(self, gate: Gate, base: str, total: int, on_progress: Progress | None,
                 cancel: threading.Event | None) -> None:
        self.gate = gate
        self.base = base
        self.total = total
        self.on_progress = on_progress
        self.cancel = cancel
        self.done = 0  # bytes of all files present so far
        self.transferred = 0  # bytes actually received over the network in this run

    def _report(self, name: str) -> None:
        if self.on_progress is not None:
            self.on_progress(self.done, self.total, name)

    def _check_allowed(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise DownloadCancelled("download cancelled; run it again to resume")
        if not self.gate.allowed(MODEL_DOWNLOAD):
            raise ConsentRequired(MODEL_DOWNLOAD, "it was withdrawn during the download")

    def fetch(self, spec: FileSpec, folder: Path) -> None:
        final = folder / spec.name
        part = folder / (spec.name + ".part")
        if final.exists() and final.stat().st_size == spec.size:
            self.done += spec.size
            self._report(spec.name)
            return
        digest, have = _hash_existing(part)
        if have > spec.size:
            part.unlink()
            digest, have = hashlib.sha256(), 0
        self.done += have
        self._report(spec.name)
        if have < spec.size:
            digest, have = self._transfer(spec, part, digest, have)
        if have != spec.size or digest.hexdigest() != spec.sha256:
            part.unlink(missing_ok=True)
            raise DownloadError(
                f"{spec.name} from {self.base} does not match the manifest (expected "
                f"{spec.size} bytes, SHA-256 {spec.sha256[:12]}…; got {have} bytes, "
                f"{digest.hexdigest()[:12]}…); the bad file was deleted - try again, or check "
                "the download address"
            )
        os.replace(part, final)

    def _transfer(self, spec: FileSpec, part: Path, digest: hashlib._Hash,
                  have: int) -> tuple[hashlib._Hash, int]:
        self._check_allowed()
        request = urllib.request.Request(_url(self.base, spec.name))
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            response = urllib.request.urlopen(request, timeout=TIMEOUT)  # http(s) only
        except urllib.error.HTTPError as err:
            if err.code == 416 and have == spec.size:
                return digest, have
            raise DownloadError(
                f"the server refused {spec.name} (HTTP {err.code} {err.reason}); check the "
                "download address and try again"
            ) from err
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise DownloadError(
                f"cannot reach {self.base} ({reason}); check the network and run the download "
                "again - it resumes where it stopped"
            ) from err
        with response:
            if have and response.status != 206:
                # the server ignored the range: start this file again
                self.done -= have
                digest, have = hashlib.sha256(), 0
                mode = "wb"
            else:
                mode = "ab" if have else "wb"
            with part.open(mode) as out:
                try:
                    while True:
                        self._check_allowed()
                        block = response.read(CHUNK)
                        if not block:
                            break
                        out.write(block)
                        digest.update(block)
                        have += len(block)
                        self.done += len(block)
                        self.transferred += len(block)
                        self._report(spec.name)
                except (OSError, urllib.error.URLError) as err:
                    raise DownloadError(
                        f"the download of {spec.name} was interrupted ({err}); run it again to "
                        "resume where it stopped"
                    ) from err
                except _incomplete_read() as err:
                    raise DownloadError(
                        f"the download of {spec.name} was interrupted after {have} of "
                        f"{spec.size} bytes; run it again to resume where it stopped"
                    ) from err
        if have < spec.size:
            raise DownloadError(
                f"the download of {spec.name} stopped after {have} of {spec.size} bytes; run "
                "it again to resume where it stopped"
            )
        return digest, have


def _incomplete_read() -> type[BaseException]:
    import http.client

    return http.client.IncompleteRead


def download_model(
    spec: ModelSpec,
    *,
    gate: Gate,
    url_base: str | None = None,
    on_progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> tuple[Path, int]:
    """Fetch, verify and install `spec` into the data directory's models folder.

    Returns (model folder, bytes transferred over the network in this run). The single-use
    `model_download` grant is expired once the model is installed.
    """
    gate.require(MODEL_DOWNLOAD)
    base = url_base or spec.download_url_base
    if not base:
        raise DownloadError(f"model {spec.name!r} has no download address; give --url-base")
    _check_scheme(base)
    root = user_models_dir()
    staging = root / f".{spec.name}.partial"
    staging.mkdir(parents=True, exist_ok=True, mode=0o700)
    fetcher = _Fetcher(gate, base, spec.size, on_progress, cancel)
    for file in spec.files:
        fetcher.fetch(file, staging)
    target = root / spec.name
    if target.exists():
        # a damaged earlier copy: replaced only now that a verified one is complete
        shutil.rmtree(target)
    os.replace(staging, target)
    cache = VerificationCache()
    for file in spec.files:
        cache.remember(target / file.name, file.sha256)
    log.info("model %s installed (%d bytes transferred)", spec.name, fetcher.transferred)
    expire = getattr(gate, "expire", None)
    if expire is not None:
        expire(MODEL_DOWNLOAD)
    return target, fetcher.transferred
