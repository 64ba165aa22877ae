"""Downloading a model the user asked for: resumable, verified against what the hub declares,
recorded, and only with `model_download` (single-use: expired once the model is installed).

Promise: the network is reached only here, only after the user started a download, and only by
the child process `hub_fetch.py` (every Candor process keeps the hub client offline). Files land
in `models/.NAME.partial/` (each as `FILE.part` until complete, so a cancelled, cut or withdrawn
download resumes where it stopped); each file must then match the SHA-256 the hub declared for it
(its LFS object id; for a small file kept in git, its git blob id), and the catalogue's checksum
where there is one. A file that does not is deleted and named. Only then are the revision and the
checksums recorded (signed, `model_record.py`) and the folder renamed to `models/NAME`, so a
model folder is either complete and verified or absent. Cancelling or withdrawing the consent
stops the transfer within a poll interval (0.1 s).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from app import offline_env
from app.consent import ConsentRequired, Gate
from app.consent.purposes import MODEL_DOWNLOAD
from app.transcription.manifest import ModelSpec
from app.transcription.model_record import (
    DeclaredKind,
    DownloadRecord,
    RecordedFile,
    write_record,
)
from app.transcription.models import user_models_dir

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
POLL_SECONDS = 0.1
HASH_CHUNK = 1 << 20

Phase = Literal["listing", "downloading", "verifying", "installing"]


@dataclass(frozen=True, slots=True)
class DownloadProgress:
    phase: Phase
    done: int  # bytes of the whole model present (or hashed, while verifying)
    total: int  # bytes of the whole model (0 until the hub has listed it)
    file: str | None = None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


Progress = Callable[[DownloadProgress], None]


@dataclass(frozen=True, slots=True)
class DownloadResult:
    path: Path
    record: DownloadRecord
    transferred: int  # bytes received over the network in this run


class DownloadError(RuntimeError):
    """The download did not complete; the message says why and what to do."""


class DownloadCancelled(DownloadError):
    pass


class ChecksumMismatch(DownloadError):
    def __init__(self, message: str, files: tuple[str, ...]) -> None:
        super().__init__(message)
        self.files = files


class DownloadGate(Gate, Protocol):
    """The gate a download needs: the usual questions, plus ending a single-use grant."""

    def refresh(self) -> None: ...

    def expire(self, purpose: str) -> object: ...


def default_endpoint() -> str:
    """The hub's address; `HF_ENDPOINT` (the hub client's own variable) names a mirror."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def staging_dir(name: str) -> Path:
    return user_models_dir() / f".{name}.partial"


def _child_env(hub_home: Path, endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")}
    env.update({
        # the one process allowed the network: `app.offline_env` then leaves HF_HUB_OFFLINE
        # unset in it, and keeps every telemetry switch on
        offline_env.DOWNLOAD_WORKER_ENV: "1",
        "HF_ENDPOINT": endpoint,
        # whatever the hub library keeps (it should keep nothing here) stays in the staging folder
        "HF_HOME": str(hub_home),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",  # never send a token the user keeps for other tools
        "HF_HUB_DISABLE_XET": "1",  # plain HTTPS with Range: the path verified and tested here
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _git_blob_sha1(path: Path) -> str:
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as handle:
        while block := handle.read(HASH_CHUNK):
            digest.update(block)
    return digest.hexdigest()


class _Worker:
    """The child process and the lines it writes."""

    def __init__(self, job: dict[str, Any], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.transcription.hub_fetch"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            text=True, start_new_session=True,
        )
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.stderr: list[str] = []
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(job))
        self.proc.stdin.close()
        threading.Thread(target=self._read_out, daemon=True, name="model-download-out").start()
        threading.Thread(target=self._read_err, daemon=True, name="model-download-err").start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError):
                self.events.put(json.loads(line))
        self.events.put(None)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr = [*self.stderr[-20:], line.rstrip()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def last_error_line(self) -> str:
        lines = [line for line in self.stderr if line.strip()]
        return lines[-1] if lines else "no message"


_ADVICE = {
    "network": "check the network and run the download again; it resumes where it stopped",
    "not-found": "the catalogue's repository or revision is not on the hub (any more); "
                 "update Candor",
    "http": "try again later; the download resumes where it stopped",
    "disk": "free some disk space and run the download again; it resumes where it stopped",
    "refused": "give an https address",
    "other": "run the download again; it resumes where it stopped",
}


class _Transfer:
    """Follows the worker's events: progress, consent, cancellation."""

    def __init__(self, spec: ModelSpec, gate: DownloadGate, worker: _Worker,
                 on_progress: Progress | None, cancel: threading.Event | None) -> None:
        self.spec = spec
        self.gate = gate
        self.worker = worker
        self.on_progress = on_progress
        self.cancel = cancel
        self.commit = ""
        self.files: list[dict[str, Any]] = []
        self.total = 0
        self.completed = 0  # bytes of files before the current one
        self.current: dict[str, Any] | None = None
        self.transferred = 0

    def report(self, phase: Phase, done: int, file: str | None) -> None:
        if self.on_progress is not None:
            self.on_progress(DownloadProgress(phase, done, self.total, file))

    def _check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            self.worker.stop()
            raise DownloadCancelled("download cancelled; run it again to resume where it stopped")
        self.gate.refresh()
        if not self.gate.allowed(MODEL_DOWNLOAD):
            self.worker.stop()
            raise ConsentRequired(MODEL_DOWNLOAD, "it was withdrawn during the download")

    def _finish_file(self) -> None:
        if self.current is not None:
            self.completed += int(self.current["size"])
            self.current = None

    def run(self) -> None:
        self.report("listing", 0, None)
        while True:
            self._check()
            try:
                event = self.worker.events.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if event is None:
                break
            kind = event.get("event")
            if kind == "listing":
                self.commit = str(event["commit"])
                self.files = list(event["files"])
                self.total = sum(int(f["size"]) for f in self.files)
            elif kind == "file":
                self._finish_file()
                self.current = {**event, "bytes": int(event["have"])}
                self.report("downloading", self.completed + int(event["have"]), event["name"])
            elif kind == "progress" and self.current is not None:
                grown = int(event["bytes"]) - int(self.current["bytes"])
                self.transferred += max(0, grown)
                self.current["bytes"] = int(event["bytes"])
                self.report("downloading", self.completed + int(event["bytes"]), event["file"])
            elif kind == "done":
                self._finish_file()
            elif kind == "error":
                self.worker.stop()
                advice = _ADVICE.get(str(event.get("kind")), _ADVICE["other"])
                raise DownloadError(f"the download of {self.spec.name} from {self.spec.repo} "
                                    f"failed: {event.get('message')}; {advice}")
        code = self.worker.proc.wait()
        if code != 0 or not self.files:
            raise DownloadError(f"the download of {self.spec.name} stopped unexpectedly (exit "
                                f"{code}: {self.worker.last_error_line()}); run it again to "
                                "resume where it stopped")


def _verify(spec: ModelSpec, transfer: _Transfer, folder: Path) -> tuple[RecordedFile, ...]:
    """Every file against the hub's declaration (and the catalogue); bad ones are deleted."""
    recorded: list[RecordedFile] = []
    bad: list[str] = []
    done = 0
    for listed in transfer.files:
        name = str(listed["name"])
        path = folder / name
        sha256 = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(HASH_CHUNK):
                sha256.update(block)
                done += len(block)
                transfer.report("verifying", done, name)
        digest = sha256.hexdigest()
        declared = str(listed["declared"]).lower()
        kind: DeclaredKind = "sha256" if listed["kind"] == "sha256" else "git-sha1"
        got = digest if kind == "sha256" else _git_blob_sha1(path)
        catalogue = spec.file(name)
        if got != declared:
            bad.append(f"{name} (the hub declared {kind} {declared[:12]}…, got {got[:12]}…)")
        elif catalogue is not None and catalogue.sha256 and catalogue.sha256 != digest:
            bad.append(f"{name} (matches the hub but not the checksum Candor ships for it)")
        else:
            recorded.append(RecordedFile(name, path.stat().st_size, digest, declared, kind))
            continue
        path.unlink(missing_ok=True)
    if bad:
        raise ChecksumMismatch(
            f"the download of {spec.name} was refused: {'; '.join(bad)}. The bad "
            f"{'file was' if len(bad) == 1 else 'files were'} deleted; run the download again "
            "(the good files are kept), and if it happens again the server or the network is "
            "changing the data", tuple(b.split(" ", 1)[0] for b in bad))
    return tuple(recorded)


def download_model(
    spec: ModelSpec,
    *,
    gate: DownloadGate,
    endpoint: str | None = None,
    on_progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> DownloadResult:
    """Fetch, verify, record and install `spec` into the data directory's models folder.

    Raises ConsentRequired (not given, or withdrawn meanwhile), DownloadCancelled,
    ChecksumMismatch, DownloadError. The single-use grant is expired once the model is installed.
    """
    gate.require(MODEL_DOWNLOAD)
    if not spec.repo or not spec.revision:
        raise DownloadError(f"model {spec.name!r} has no hub repository to download from")
    endpoint = (endpoint or default_endpoint()).rstrip("/")
    staging = staging_dir(spec.name)
    staging.mkdir(parents=True, exist_ok=True, mode=0o700)
    hub_home = staging / ".hub"
    job = {"endpoint": endpoint, "repo": spec.repo, "revision": spec.revision,
           "dest": str(staging), "required": list(spec.file_names)}
    worker = _Worker(job, _child_env(hub_home, endpoint))
    transfer = _Transfer(spec, gate, worker, on_progress, cancel)
    try:
        transfer.run()
    finally:
        worker.stop()
    files = _verify(spec, transfer, staging)
    shutil.rmtree(hub_home, ignore_errors=True)
    record = DownloadRecord(
        name=spec.name, repo=spec.repo, revision=transfer.commit, endpoint=endpoint,
        downloaded_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        files=files)
    write_record(staging, record)
    transfer.report("installing", transfer.total, None)
    target = user_models_dir() / spec.name
    with gate.guard(MODEL_DOWNLOAD):
        if target.exists():
            # a damaged earlier copy: replaced only now that a verified one is complete
            shutil.rmtree(target)
        os.replace(staging, target)
    log.info("model %s installed from %s@%s (%d bytes transferred)", spec.name, spec.repo,
             transfer.commit, transfer.transferred)
    gate.expire(MODEL_DOWNLOAD)
    return DownloadResult(target, record, transfer.transferred)
