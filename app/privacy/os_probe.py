"""What a process really does at the OS level: network attempts and files written, from strace.

Promise checked by the callers (the tests, `candor privacy check --os`): a Candor command opens no
internet connection, asks no name server, and writes no file outside its data directory. Python's
socket module cannot see what a native library does (onnxruntime's telemetry is C++), so this asks
the kernel: the command runs under `strace -f` (every thread and child process), with one trace
file per process (`-ff`, so no line is split by another thread's), and fd paths decorated (`-y`).

- Network: every `connect`, `sendto` and `sendmsg` with an AF_INET or AF_INET6 address, whatever
  its result (an attempt that fails offline still tried), and name lookups: UDP/TCP port 53, and
  the local resolver sockets glibc can ask instead (nscd, systemd-resolved).
- Files: every successful `open`/`openat`/`creat` for writing (O_WRONLY, O_RDWR or O_CREAT), and
  every `mkdir`, `rename`, `link` and `symlink` target. A path is allowed when it lies under one
  of the `Allowance`s given, each with its reason; a file under a temporary folder that no longer
  exists when the command has ended was a temporary file the process removed itself.

Linux only, and strace must be installed (`strace_available`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

NetworkKind = Literal["internet", "dns"]
TRACED = "connect,sendto,sendmsg,open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2," \
         "link,linkat,symlink,symlinkat"
DNS_PORT = 53
# Local resolver daemons glibc asks before (or instead of) a name server: a lookup all the same.
RESOLVER_SOCKETS = ("/var/run/nscd/socket", "/run/nscd/socket",
                    "/run/systemd/resolve/io.systemd.Resolve")
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT")

_LINE = re.compile(r"^(?P<call>\w+)\((?P<args>.*)\)\s+=\s+(?P<result>-?\d+|\?)")
_FAMILY = re.compile(r"sa_family=(?P<family>AF_\w+)")
_PORT = re.compile(r"sin6?_port=htons\((?P<port>\d+)\)")
_ADDR4 = re.compile(r'sin_addr=inet_addr\("(?P<addr>[^"]+)"\)')
_ADDR6 = re.compile(r'inet_pton\(AF_INET6, "(?P<addr>[^"]+)"')
_UNIX_PATH = re.compile(r'sun_path=(?:@)?"(?P<path>[^"]*)"')
# A path argument: an optional dirfd decorated by -y (`AT_FDCWD` or `5</some/dir>`), then the
# quoted path.
_PATH_ARG = re.compile(
    r'(?:(?:AT_FDCWD|\d+)(?:<(?P<dirpath>[^>]*)>)?,\s*)?"(?P<path>(?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class NetworkAttempt:
    pid: int
    syscall: str
    kind: NetworkKind
    family: str
    address: str
    port: int | None
    result: str

    def describe(self) -> str:
        where = f"{self.address}:{self.port}" if self.port is not None else self.address
        what = "name lookup" if self.kind == "dns" else "internet connection"
        return f"{what}: {self.syscall} {self.family} {where} (process {self.pid}, = {self.result})"


@dataclass(frozen=True)
class FileWrite:
    pid: int
    syscall: str
    path: Path

    def describe(self) -> str:
        return f"{self.syscall} {self.path} (process {self.pid})"


@dataclass(frozen=True)
class Allowance:
    """A place a Candor process may write, and why."""

    root: Path
    reason: str
    within: str | None = None  # only inside folders of this name under root (`__pycache__`)

    def covers(self, path: Path) -> bool:
        if not (path == self.root or self.root in path.parents):
            return False
        return self.within is None or self.within in path.relative_to(self.root).parts


@dataclass
class ProbeResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    processes: int  # processes and threads traced
    syscalls: int  # traced calls seen
    network: list[NetworkAttempt] = field(default_factory=list)
    writes: list[FileWrite] = field(default_factory=list)
    outside: list[FileWrite] = field(default_factory=list)  # writes no allowance covers
    left_in_home: list[Path] = field(default_factory=list)  # what an empty HOME holds afterwards

    @property
    def internet(self) -> list[NetworkAttempt]:
        return [a for a in self.network if a.kind == "internet"]

    @property
    def dns(self) -> list[NetworkAttempt]:
        return [a for a in self.network if a.kind == "dns"]

    @property
    def clean(self) -> bool:
        return not self.network and not self.outside and not self.left_in_home

    def problems(self) -> list[str]:
        return ([a.describe() for a in self.network]
                + [f"written outside the data directory: {w.describe()}" for w in self.outside]
                + [f"left in HOME: {p}" for p in self.left_in_home])


def strace_available() -> bool:
    return shutil.which("strace") is not None


def _unescape(text: str) -> str:
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape").encode(
        "latin-1", "replace").decode("utf-8", "replace")


def parse_network(pid: int, call: str, args: str, result: str) -> NetworkAttempt | None:
    family = _FAMILY.search(args)
    if family is None:
        return None
    fam = family.group("family")
    if fam == "AF_UNIX":
        unix = _UNIX_PATH.search(args)
        if unix and unix.group("path") in RESOLVER_SOCKETS:
            return NetworkAttempt(pid, call, "dns", fam, unix.group("path"), None, result)
        return None
    if fam not in ("AF_INET", "AF_INET6"):
        return None
    port_match = _PORT.search(args)
    port = int(port_match.group("port")) if port_match else None
    addr = _ADDR4.search(args) or _ADDR6.search(args)
    address = addr.group("addr") if addr else "?"
    kind: NetworkKind = "dns" if port == DNS_PORT else "internet"
    return NetworkAttempt(pid, call, kind, fam, address, port, result)


def _resolve(match: re.Match[str], cwd: Path) -> Path:
    path = _unescape(match.group("path"))
    if path.startswith("/"):
        return Path(os.path.normpath(path))
    base = Path(_unescape(match.group("dirpath"))) if match.group("dirpath") else cwd
    return Path(os.path.normpath(base / path))


def parse_write(pid: int, call: str, args: str, result: str, cwd: Path) -> FileWrite | None:
    if result == "?" or result.startswith("-"):
        return None  # failed or never returned: nothing was written
    paths = list(_PATH_ARG.finditer(args))
    if not paths:
        return None
    if call in ("open", "openat"):
        flags = args[paths[0].end():].lstrip(", ").split(",")[0].split("|")
        if not any(flag in flags for flag in WRITE_FLAGS):
            return None
        return FileWrite(pid, call, _resolve(paths[0], cwd))
    if call in ("creat", "mkdir", "mkdirat"):
        return FileWrite(pid, call, _resolve(paths[0], cwd))
    # rename/link/symlink: the last path is the one created
    return FileWrite(pid, call, _resolve(paths[-1], cwd))


def parse_trace_file(path: Path, pid: int, cwd: Path) -> tuple[int, list[NetworkAttempt],
                                                               list[FileWrite]]:
    network: list[NetworkAttempt] = []
    writes: list[FileWrite] = []
    calls = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        found = _LINE.match(line)
        if found is None:
            continue
        calls += 1
        call, args, result = found.group("call"), found.group("args"), found.group("result")
        if call in ("connect", "sendto", "sendmsg"):
            attempt = parse_network(pid, call, args, result)
            if attempt is not None:
                network.append(attempt)
        else:
            write = parse_write(pid, call, args, result, cwd)
            if write is not None:
                writes.append(write)
    return calls, network, writes


def _allowed(path: Path, allowed: Sequence[Allowance], *, folder: bool) -> bool:
    """Covered by an allowance; a folder also when it only leads to an allowed place."""
    return any(a.covers(path) or (folder and path in a.root.parents) for a in allowed)


def _is_temporary(path: Path, temp_roots: Sequence[Path]) -> bool:
    """A file in a temporary folder that is gone now: the process removed it before exit."""
    return any(r in path.parents for r in temp_roots) and not os.path.lexists(path)


def run_traced(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    allowed: Sequence[Allowance],
    empty_home: Path | None = None,
    cwd: Path | None = None,
    timeout: float = 300.0,
    stdin: str | None = None,
    on_stderr_line: Callable[[str], None] | None = None,
) -> ProbeResult:
    """Run `argv` under strace and report its network attempts and writes outside `allowed`.

    `empty_home`, when given, must be the (empty) HOME of `env`: whatever is in it afterwards is
    reported too, which catches writes by any means strace was not asked about.
    `on_stderr_line` sees each line the command writes to stderr as it comes (to act when it
    says it is ready); after `timeout` seconds the command is killed."""
    if not strace_available():
        raise FileNotFoundError("strace is not installed (Debian: apt-get install strace)")
    workdir = Path(cwd or os.getcwd()).resolve()
    temp_roots = [Path(tempfile.gettempdir()).resolve(), Path("/tmp"), Path("/var/tmp"),
                  Path("/dev/shm")]
    with tempfile.TemporaryDirectory(prefix="candor-strace-") as trace_dir:
        prefix = Path(trace_dir) / "trace"
        command = ["strace", "-f", "-ff", "-qq", "-y", "-s", "512", "-e", f"trace={TRACED}",
                   "-o", str(prefix), "--", *argv]
        proc = subprocess.Popen(command, env=dict(env), cwd=workdir, text=True,
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out: list[str] = []

        def read_out() -> None:
            assert proc.stdout is not None
            if stdin is not None and proc.stdin is not None:
                proc.stdin.write(stdin)
                proc.stdin.close()
            out.append(proc.stdout.read())

        reader = threading.Thread(target=read_out, daemon=True)
        reader.start()
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        err: list[str] = []
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                err.append(line)
                if on_stderr_line is not None:
                    on_stderr_line(line.rstrip("\n"))
            returncode = proc.wait()
        finally:
            killer.cancel()
            reader.join(timeout=30)
        result = ProbeResult(tuple(argv), returncode, "".join(out), "".join(err), 0, 0)
        for trace in sorted(Path(trace_dir).glob("trace.*")):
            pid = int(trace.suffix.lstrip("."))
            calls, network, writes = parse_trace_file(trace, pid, workdir)
            result.processes += 1
            result.syscalls += calls
            result.network.extend(network)
            result.writes.extend(writes)
    trace_root = Path(trace_dir)
    for write in result.writes:
        if trace_root == write.path or trace_root in write.path.parents:
            continue
        if _allowed(write.path, allowed, folder=write.syscall in ("mkdir", "mkdirat")):
            continue
        if _is_temporary(write.path, temp_roots):
            continue
        result.outside.append(write)
    if empty_home is not None and empty_home.is_dir():
        result.left_in_home = [p for p in sorted(empty_home.rglob("*"))
                               if not _allowed(p, allowed, folder=p.is_dir())]
    return result


def standard_allowances(candor_home: Path, home: Path | None = None) -> list[Allowance]:
    """Where a Candor process may write, each with its reason; `home` is the process's HOME."""
    code = Path(__file__).resolve().parents[2]  # the folder holding the `app` package
    in_home = [] if home is None else [
        Allowance(home.resolve() / ".config" / "pulse" / "cookie",
                  "PulseAudio's client library creates its authentication cookie when there is "
                  "none (a random key for the sound server; no audio, no data of the user's)"),
    ]
    return [*in_home,
        Allowance(candor_home.resolve(), "the data directory: everything Candor keeps"),
        Allowance(Path(sys.prefix).resolve(), "Python's bytecode cache of the installed "
                  "libraries (compiled code, no data)", within="__pycache__"),
        Allowance(code, "Python's bytecode cache of Candor's own code (compiled code, no data)",
                  within="__pycache__"),
        Allowance(Path("/dev/null"), "output thrown away (the kernel keeps nothing)"),
        Allowance(Path("/dev/snd"), "ALSA sound devices: the microphone path"),
        Allowance(Path("/dev/shm"), "PulseAudio's shared memory for audio blocks (removed "
                  "by the sound server; holds audio only while it is played)"),
        Allowance(Path("/dev/tty"), "the terminal"),
        Allowance(Path("/dev/pts"), "the terminal"),
        Allowance(Path("/proc/self"), "the process's own kernel settings (thread names)"),
    ]
