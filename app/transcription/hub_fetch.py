"""The download worker: the only Candor code that opens a network connection, and it runs in a
child process of its own, started by `download.py` when the user asks for a model.

Why a child process: every Candor process sets `HF_HUB_OFFLINE` before the hub client is imported
(`offline.py`), so the hub library refuses the network everywhere else; this process is started
without it, for one repository, and ends when the files are on disk. Cancelling or withdrawing
`model_download` terminates it at once; the bytes already written stay in `FILE.part` and the next
run resumes from there.

What it uses of the hub client (huggingface_hub), and why not `hf_hub_download`: the listing
(`HfApi.model_info(files_metadata=True)`: the commit, and each file's LFS SHA-256 or git blob
id), the per-file metadata (`get_hf_file_metadata`: X-Repo-Commit, X-Linked-Etag, X-Linked-Size,
the redirect Location of LFS files) and the transfer itself (`file_download.http_get`: Range
requests, a server that ignores a range, retries that resume after a cut connection, progress).
`hf_hub_download` (2.4.0) downloads into a uniquely named temporary file and deletes it on any
failure, so an interrupted download always starts again from zero — measured against the local
hub server: a second run re-sent all 75.5 MB of model.bin; with our own `.part` file and
`http_get(resume_size=...)` it sends only the rest. It also checks only the size, not the
SHA-256: the parent process checks every file against what the hub declared.

Protocol: a JSON job on stdin; JSON lines on stdout (`listing`, `file`, `progress`, `done`, or
`error` with a kind and a message). Nothing is written outside the destination folder.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import os
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

# The files faster-whisper reads from a model repository (faster_whisper.utils.download_model).
ALLOW_PATTERNS = ("config.json", "preprocessor_config.json", "model.bin", "tokenizer.json",
                  "vocabulary.*")
# Finer than the library's 10 MiB so progress and cancellation feel immediate.
CHUNK_BYTES = 1 << 20
PROGRESS_EVERY = 0.1  # seconds between progress lines

ErrorKind = Literal["network", "not-found", "http", "disk", "refused", "other"]


@dataclass(frozen=True, slots=True)
class Job:
    endpoint: str
    repo: str
    revision: str
    dest: Path
    required: tuple[str, ...]


def _emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


class _Failure(Exception):
    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def check_endpoint(endpoint: str) -> None:
    """https anywhere; plain http only to this machine (a local mirror, the tests)."""
    parts = urllib.parse.urlsplit(endpoint)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        try:
            if parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname).is_loopback:
                return
        except ValueError:
            pass
    raise _Failure("refused", f"will not download from {endpoint!r}: only https addresses (or "
                              "http on this machine) are used")


class _Reporter:
    """What `http_get` takes as its progress bar: progress lines for the parent."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.name = name
        self.bytes = int(kwargs.get("initial") or 0)
        self.last = 0.0

    def __enter__(self) -> _Reporter:
        return self

    def __exit__(self, *exc: object) -> None:
        _emit("progress", file=self.name, bytes=self.bytes)

    def update(self, n: int) -> None:
        self.bytes += n
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            _emit("progress", file=self.name, bytes=self.bytes)


def _wanted(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in ALLOW_PATTERNS)


def _listing(job: Job) -> tuple[str, list[dict[str, Any]]]:
    from huggingface_hub import HfApi

    info = HfApi(endpoint=job.endpoint, token=False).model_info(
        job.repo, revision=job.revision, files_metadata=True, token=False)
    files = []
    for sibling in info.siblings or []:
        if "/" in sibling.rfilename or not _wanted(sibling.rfilename):
            continue
        lfs = sibling.lfs
        files.append({
            "name": sibling.rfilename,
            "size": lfs.size if lfs else sibling.size,
            "declared": lfs.sha256 if lfs else sibling.blob_id,
            "kind": "sha256" if lfs else "git-sha1",
        })
    missing = sorted(set(job.required) - {f["name"] for f in files})
    if missing:
        raise _Failure("not-found", f"{job.repo} at {job.revision} has no {', '.join(missing)}")
    if not info.sha:
        raise _Failure("http", f"the hub did not say which commit of {job.repo} it listed")
    return info.sha, files


def _fetch(job: Job, commit: str, listed: dict[str, Any]) -> None:
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get

    name = listed["name"]
    meta = get_hf_file_metadata(hf_hub_url(job.repo, name, revision=commit,
                                           endpoint=job.endpoint),
                                token=False, endpoint=job.endpoint, retry_on_errors=True)
    if meta.commit_hash and meta.commit_hash != commit:
        raise _Failure("http", f"{name} was served from commit {meta.commit_hash}, not {commit}")
    if meta.etag != listed["declared"] or (meta.size is not None and meta.size != listed["size"]):
        raise _Failure("http", f"the hub's listing and its headers disagree about {name} "
                               f"(listed {listed['declared']}, {listed['size']} bytes; headers "
                               f"{meta.etag}, {meta.size} bytes); try again later")
    size = int(listed["size"])
    final = job.dest / name
    part = job.dest / (name + ".part")
    if final.is_file() and final.stat().st_size == size:
        _emit("file", name=name, size=size, have=size)
        return
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    _emit("file", name=name, size=size, have=have)
    with part.open("ab") as out:
        http_get(meta.location, out, resume_size=have, headers={"user-agent": "candor"},
                 expected_size=size, displayed_filename=name,
                 tqdm_class=lambda **kw: _Reporter(name, **kw))  # type: ignore[arg-type]
        out.flush()
        os.fsync(out.fileno())
    os.replace(part, final)


def _check_space(job: Job, files: list[dict[str, Any]]) -> None:
    import shutil

    needed = 0
    for f in files:
        final, part = job.dest / f["name"], job.dest / (f["name"] + ".part")
        if final.is_file() and final.stat().st_size == f["size"]:
            continue
        needed += int(f["size"]) - (part.stat().st_size if part.exists() else 0)
    free = shutil.disk_usage(job.dest).free
    if needed > free:
        raise _Failure("disk", f"not enough disk space in {job.dest}: the download needs "
                               f"{needed / 1e6:.0f} MB more and {free / 1e6:.0f} MB is free")


def run(job: Job) -> None:
    check_endpoint(job.endpoint)
    from huggingface_hub import constants

    constants.DOWNLOAD_CHUNK_SIZE = CHUNK_BYTES
    commit, files = _listing(job)
    _emit("listing", commit=commit, files=files)
    _check_space(job, files)
    for listed in files:
        _fetch(job, commit, listed)
    _emit("done")


def _classify(err: BaseException) -> tuple[ErrorKind, str]:
    from huggingface_hub import errors

    if isinstance(err, _Failure):
        return err.kind, str(err)
    if isinstance(err, errors.RepositoryNotFoundError | errors.RevisionNotFoundError |
                  errors.EntryNotFoundError):
        return "not-found", str(err).splitlines()[0]
    if isinstance(err, errors.HfHubHTTPError):
        return "http", str(err).splitlines()[0]
    if type(err).__module__.split(".")[0].startswith("httpx") or \
            isinstance(err, ConnectionError | TimeoutError):
        return "network", f"{type(err).__name__}: {err}"  # the hub client's transport failed
    if isinstance(err, OSError):
        if "Consistency check failed" in str(err):
            return "network", str(err).splitlines()[0]
        return "disk", str(err)
    return "other", f"{type(err).__name__}: {err}"


def main() -> int:
    raw = json.loads(sys.stdin.read())
    job = Job(endpoint=raw["endpoint"].rstrip("/"), repo=raw["repo"], revision=raw["revision"],
              dest=Path(raw["dest"]), required=tuple(raw["required"]))
    try:
        run(job)
    except Exception as err:  # every failure becomes one line the parent can show
        kind, message = _classify(err)
        _emit("error", kind=kind, message=message)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
