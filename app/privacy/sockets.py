"""Which Candor processes hold which network sockets, read from /proc (Linux).

Promise kept by the caller (`app.privacy.checks`): "no Candor process holds an internet
socket". This module only reports facts: for every process of this user that is Candor — its
command line runs Candor, or it has a file open inside Candor's data directory (every Candor
process opens the consent ledger there) — the sockets it holds, by inode from /proc/<pid>/fd,
resolved through that process's own /proc/<pid>/net/{tcp,tcp6,udp,udp6,unix}. Native libraries'
sockets are seen too, because the kernel is asked, not Python's socket module. Each process's
parent and whether it is a model download's worker are reported too: the check allows that
worker's sockets while the download's single-use permission is given.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Protocol = Literal["tcp", "tcp6", "udp", "udp6"]
INET_TABLES: tuple[Protocol, ...] = ("tcp", "tcp6", "udp", "udp6")
# /proc/net/tcp's state column (include/net/tcp_states.h)
TCP_STATES = {
    "01": "established", "02": "syn_sent", "03": "syn_recv", "04": "fin_wait1",
    "05": "fin_wait2", "06": "time_wait", "07": "close", "08": "close_wait", "09": "last_ack",
    "0A": "listen", "0B": "closing",
}


@dataclass(frozen=True)
class InetSocket:
    protocol: Protocol
    local: str  # "address:port"
    remote: str
    state: str
    loopback: bool  # both ends on this machine's loopback (or unconnected on loopback)

    def describe(self) -> str:
        return f"{self.protocol} {self.local} -> {self.remote} ({self.state})"


@dataclass(frozen=True)
class ProcessSockets:
    pid: int
    command: str
    inet: tuple[InetSocket, ...]
    other_sockets: int  # unix-domain and netlink sockets: never leave the machine
    parent: int = 0  # its parent's pid (/proc/<pid>/stat), 0 when unknown
    download_worker: bool = False  # see `is_download_worker`

    @property
    def internet(self) -> tuple[InetSocket, ...]:
        return tuple(s for s in self.inet if not s.loopback)


def _decode_address(text: str, protocol: Protocol) -> tuple[str, bool, bool]:
    """'0100007F:1F90' → ('127.0.0.1:8080', loopback, unspecified)."""
    host_hex, port_hex = text.split(":")
    raw = bytes.fromhex(host_hex)
    if protocol.endswith("6"):
        # Four 32-bit words, each in the kernel's (little-endian) byte order.
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        v6 = ipaddress.IPv6Address(raw)
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = v6.ipv4_mapped or v6
    else:
        address = ipaddress.IPv4Address(raw[::-1])
    port = int(port_hex, 16)
    shown = f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
    return shown, address.is_loopback, address.is_unspecified


def _inet_table(pid: int, protocol: Protocol) -> dict[int, InetSocket]:
    try:
        lines = Path(f"/proc/{pid}/net/{protocol}").read_text().splitlines()[1:]
    except OSError:
        return {}
    table = {}
    for line in lines:
        fields = line.split()
        if len(fields) < 10:
            continue
        local, local_loop, _ = _decode_address(fields[1], protocol)
        remote, remote_loop, remote_none = _decode_address(fields[2], protocol)
        state = TCP_STATES.get(fields[3], fields[3]) if protocol.startswith("tcp") else "udp"
        # A socket stays on the machine when it is bound to loopback and talks to loopback
        # (or to nobody yet). Bound to 0.0.0.0 or a real interface, it can reach the network.
        loopback = local_loop and (remote_loop or remote_none)
        table[int(fields[9])] = InetSocket(protocol, local, remote, state, loopback)
    return table


def _socket_inodes(pid: int) -> list[int]:
    inodes = []
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return []
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.append(int(target[len("socket:[") : -1]))
    return inodes


def _argv(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def _command(pid: int) -> str:
    return " ".join(_argv(pid))


def runs_candor(argv: list[str]) -> bool:
    """`candor …`, `python -m app …` (the module Candor's entry point runs)."""
    if any(os.path.basename(a) == "candor" for a in argv[:2]):
        return True
    return any(a == "-m" and b == "app" for a, b in itertools.pairwise(argv))


DOWNLOAD_WORKER_MODULE = "app.transcription.hub_fetch"


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    # "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.decode("utf-8", "replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def is_download_worker(argv: list[str], environ: dict[str, str]) -> bool:
    """The child a user-started model download runs (`app.transcription.download._Worker`):
    `python -m app.transcription.hub_fetch` with the download worker's switch in its environment.
    Whether its parent is Candor, and holds the download's permission, the caller decides."""
    from app.offline_env import DOWNLOAD_WORKER_ENV

    module = any(a == "-m" and b == DOWNLOAD_WORKER_MODULE for a, b in itertools.pairwise(argv))
    return module and environ.get(DOWNLOAD_WORKER_ENV) == "1"


def _has_file_under(pid: int, home: str) -> bool:
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    prefix = home.rstrip("/") + "/"
    for name in names:
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}").startswith(prefix):
                return True
        except OSError:
            continue
    return False


def _home_of(pid: int) -> str | None:
    """The data directory a Candor process uses: its CANDOR_HOME, else the platform default."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    for item in raw.split(b"\0"):
        if item.startswith(b"CANDOR_HOME="):
            value = item[len(b"CANDOR_HOME=") :].decode("utf-8", "replace")
            return str(Path(value).expanduser().resolve())
    from platformdirs import user_data_path

    return str(user_data_path("Candor", appauthor=False).resolve())


def candor_processes(home: Path) -> list[int]:
    """Pids of this user's Candor processes for this data directory (this process included):
    Candor's command running on this data directory, or anything with a file open in it."""
    uid = os.getuid()
    root = str(home.resolve())
    found = {os.getpid()}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
        except OSError:
            continue
        if (runs_candor(_argv(pid)) and _home_of(pid) == root) or _has_file_under(pid, root):
            found.add(pid)
    return sorted(found)


def process_sockets(pid: int) -> ProcessSockets:
    inodes = _socket_inodes(pid)
    tables: dict[int, InetSocket] = {}
    for protocol in INET_TABLES:
        tables.update(_inet_table(pid, protocol))
    inet = tuple(tables[i] for i in inodes if i in tables)
    return ProcessSockets(pid, _command(pid), inet, len(inodes) - len(inet), _parent(pid),
                          is_download_worker(_argv(pid), _environ(pid)))


def candor_sockets(home: Path) -> list[ProcessSockets]:
    return [process_sockets(pid) for pid in candor_processes(home)]
