"""A private PulseAudio server with two null sinks: the room and the speakers.

What is played into the first sink (`play`) is what a microphone in the room hears: its monitor
is the default source, which PortAudio's ALSA `default`/`pulse` devices capture through the
sound server in real time. The second sink, "speakers", is the default output: what is played
into it (`play_system`) is what the computer plays - the other participants of a call - and its
monitor is the system audio. Recipe and pitfalls: ../shared/scripts/virtual-mic.md.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

SINK = "vsink"
SPEAKERS = "speakers"


class VirtualMicError(RuntimeError):
    pass


def pulseaudio_available() -> bool:
    return all(shutil.which(tool) for tool in ("pulseaudio", "pactl", "paplay"))


class VirtualMic:
    def __init__(self, sink: str = SINK) -> None:
        self.sink = sink
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="candor-pulse-"))
        self.runtime_dir.chmod(0o700)
        self.socket = self.runtime_dir / "native"
        self.process: subprocess.Popen[bytes] | None = None
        self._saved_env: dict[str, str | None] = {}
        self._players: list[subprocess.Popen[bytes]] = []
        client_conf = self.runtime_dir / "client.conf"
        client_conf.write_text("autospawn = no\n")
        self.client_env = {
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_CLIENTCONFIG": str(client_conf),
        }

    @property
    def pid(self) -> int:
        if self.process is None:
            raise VirtualMicError("the virtual microphone is not running")
        return self.process.pid

    def env(self) -> dict[str, str]:
        """Environment for a child process that should use this virtual microphone."""
        return {**os.environ, **self.client_env}

    def start(self, timeout: float = 10.0) -> VirtualMic:
        server_env = {**self.env(), "HOME": str(self.runtime_dir)}
        log = open(self.runtime_dir / "pulseaudio.log", "wb")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.process = subprocess.Popen(
            [
                "pulseaudio",
                "--daemonize=no",
                "-n",
                "--exit-idle-time=-1",
                "--system=no",
                "--use-pid-file=no",
                "--log-target=stderr",
                f"--load=module-native-protocol-unix socket={self.socket} auth-anonymous=1",
                f"--load=module-null-sink sink_name={self.sink} rate=48000",
                f"--load=module-null-sink sink_name={SPEAKERS} rate=48000",
            ],
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while self.pactl("info", check=False).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise VirtualMicError(
                    "PulseAudio did not start: "
                    + (self.runtime_dir / "pulseaudio.log").read_text(errors="replace")[-2000:]
                )
            time.sleep(0.05)
        self.pactl("set-default-source", f"{self.sink}.monitor")
        self.pactl("set-default-sink", SPEAKERS)
        for key, value in self.client_env.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        rescan_portaudio()
        return self

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["pactl", *args], env=self.env(), capture_output=True, text=True, timeout=10
        )
        if check and result.returncode != 0:
            raise VirtualMicError(f"pactl {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def play(self, wav: Path | str, *, sink: str | None = None,
             volume_db: float = 0.0) -> subprocess.Popen[bytes]:
        """Start playing a WAV file into the room (or `sink`); returns the player process.
        `volume_db` below 0 plays it quieter (paplay's linear volume, 65536 = 0 dB)."""
        volume = round(65536 * 10 ** (volume_db / 20))
        player = subprocess.Popen(
            ["paplay", f"--device={sink or self.sink}", f"--volume={volume}", str(wav)],
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._players.append(player)
        return player

    def play_system(self, wav: Path | str, *, volume_db: float = 0.0) -> subprocess.Popen[bytes]:
        """Play a WAV file as the computer plays a call (into the speakers)."""
        return self.play(wav, sink=SPEAKERS, volume_db=volume_db)

    def play_and_wait(self, wav: Path | str, timeout: float = 120.0) -> None:
        player = self.play(wav)
        _, err = player.communicate(timeout=timeout)
        if player.returncode != 0:
            raise VirtualMicError(f"paplay failed: {err.decode(errors='replace').strip()}")

    def unload_sink(self) -> None:
        """Remove the room's null sink, and with it the microphone: a device lost mid-meeting."""
        self._unload(self.sink)

    def unload_speakers(self) -> None:
        """Remove the speakers, and with them the system audio: an output lost mid-meeting."""
        self._unload(SPEAKERS)

    def _unload(self, sink: str) -> None:
        for line in self.pactl("list", "short", "modules").stdout.splitlines():
            fields = line.split("\t")
            if len(fields) > 2 and fields[1] == "module-null-sink" and \
                    f"sink_name={sink}" in fields[2].split():
                self.pactl("unload-module", fields[0])
                return
        raise VirtualMicError(f"no null sink {sink!r} to unload")

    def stop(self) -> None:
        for player in self._players:
            if player.poll() is None:
                player.kill()
                player.wait()
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        log = getattr(self, "_log", None)
        if log is not None:
            log.close()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def __enter__(self) -> VirtualMic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def rescan_portaudio() -> None:
    """PortAudio lists devices only when initialised: re-initialise it if it is loaded."""
    import sys

    sd = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()
        sd._initialize()
