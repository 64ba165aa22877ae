"""A withdrawal recorded by another process stops `candor transcribe` and `candor denoise` at
once: the reason on stderr, exit 3, nothing printed, stored or written after it.

Real processes throughout: the command works on a 9-minute recording made of the shared speech,
and `candor consent revoke` runs in a second process. The reaction time (from the revoke
process having recorded and exited to the command having exited) is printed for the record;
what is asserted is the condition: the command ended long before its work could have, with
nothing after the withdrawal."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.data import read_wav, write_wav

CANDOR = Path(sys.executable).parent / "candor"
MINUTES = 9
PERCENT = re.compile(r"^(transcribing [^:]+|denoising): (\d+)%$")


@pytest.fixture(scope="module")
def nine_minutes(shared_data, tmp_path_factory) -> Path:
    speech = [read_wav(shared_data / "speech" / name)[0]
              for name in ("real_concat.wav", "harvard9_concat.wav", "jfk.wav")]
    one = np.concatenate(speech)
    samples = np.tile(one, int(np.ceil(MINUTES * 60 * 16000 / len(one))))[: MINUTES * 60 * 16000]
    return write_wav(tmp_path_factory.mktemp("long") / "nine-minutes.wav", samples)


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CANDOR), *args], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())


class Running:
    """A command in its own process; its stderr lines are read as they come, with the moment
    each arrived."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([str(CANDOR), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.err_lines: list[str] = []
        self.arrived: list[float] = []
        self._out: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._out_reader = threading.Thread(target=self._read_out, daemon=True)
        self._out_reader.start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        self._out.append(self.proc.stdout.read())

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put((time.monotonic(), line.rstrip("\n")))
        self.lines.put((time.monotonic(), ""))  # end of stream

    def _next(self, timeout: float) -> str | None:
        moment, line = self.lines.get(timeout=timeout)
        if line == "" and self.proc.poll() is not None and self.lines.empty():
            return None
        self.err_lines.append(line)
        self.arrived.append(moment)
        return line

    def wait_for_progress(self, at_least: int) -> int:
        """Block until the command reports `at_least` percent done (it is really working)."""
        while (line := self._next(timeout=120)) is not None:
            found = PERCENT.match(line.strip())
            if found and int(found.group(2)) >= at_least:
                return int(found.group(2))
        raise AssertionError(f"ended before any progress: {self.err_lines}")

    def revoke(self, purpose: str) -> tuple[str, str, str]:
        """Revoke in a second process; returns (stdout, stderr after the revoke, timings)."""
        before = len(self.err_lines)
        revoked = candor("consent", "revoke", purpose)
        assert revoked.returncode == 0, revoked.stderr
        recorded = time.monotonic()  # the revoke process has recorded and exited
        self.proc.wait(timeout=120)
        exited = time.monotonic()
        self._out_reader.join(timeout=30)
        out = "".join(self._out)
        while self._next(timeout=30) is not None:
            pass
        said = next((t for t, line in zip(self.arrived[before:], self.err_lines[before:],
                                          strict=True) if "withdrawn" in line), float("nan"))
        timings = (f"reason printed {said - recorded:+.2f} s, process exited "
                   f"{exited - recorded:+.2f} s after the revoke process had recorded and "
                   f"exited (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        return out, "\n".join(self.err_lines[before:]), timings


def percents_after(lines: list[str], marker: str) -> list[int]:
    index = next(i for i, line in enumerate(lines) if marker in line)
    return [int(m.group(2)) for line in lines[index:] if (m := PERCENT.match(line.strip()))]


@pytest.mark.model
@pytest.mark.parametrize("keep", [False, True])
def test_transcribe_stops_when_transcription_is_revoked_elsewhere(gate, nine_minutes, keep,
                                                                   candor_home):
    gate.grant("transcription", via="test")
    gate.grant("transcript_storage", via="test")
    running = Running("transcribe", str(nine_minutes), *(["--keep"] if keep else []))
    started_at = running.wait_for_progress(1)
    out, err, timings = running.revoke("transcription")
    print(f"\ntranscribe (keep={keep}), revoked at {started_at} %: {timings}")
    assert running.proc.returncode == 3, running.err_lines
    assert "transcription was withdrawn" in err
    assert "stopped at once; nothing was printed or stored" in err
    assert out == ""
    shown = [int(m.group(2)) for line in running.err_lines if (m := PERCENT.match(line))]
    assert max(shown) < 100, "it did not run on to the end"
    assert percents_after(running.err_lines, "was withdrawn") == [], "no progress after why"
    assert "Traceback" not in err
    listed = candor("meetings", "list", "--json")
    assert listed.stdout.strip() == "[]", "nothing stored"


def test_denoise_stops_when_noise_suppression_is_revoked_elsewhere(gate, nine_minutes,
                                                                  tmp_path):
    gate.grant("noise_suppression", via="test")
    (tmp_path / "out").mkdir()
    out_file = tmp_path / "out" / "clean.wav"
    running = Running("denoise", str(nine_minutes), str(out_file))
    started_at = running.wait_for_progress(10)
    out, err, timings = running.revoke("noise_suppression")
    print(f"\ndenoise, revoked at {started_at} %: {timings}")
    assert running.proc.returncode == 3, running.err_lines
    assert "noise_suppression was withdrawn, so denoising stopped at once" in err
    assert f"{out_file} was not written" in err
    assert out == ""
    shown = [int(m.group(2)) for line in running.err_lines if (m := PERCENT.match(line))]
    assert max(shown) < 100
    assert not out_file.exists()
    assert list(out_file.parent.iterdir()) == [], "no staging file left behind"
