"""`candor data erase --yes` in another process stops every running Candor at once, as a
withdrawal does: the reason ("all data was erased by another Candor") on stderr, exit 3, nothing
of the transcript printed after it, nothing stored, no "meeting saved", no traceback, and no
blame on the microphone.

Real processes throughout: `listen` captions speech from the virtual microphone with the real
model, `transcribe` and `denoise` work on a 9-minute recording, and the erase runs in a second
process. "After the erase" is measured from the moment the erase process has exited: lines the
running command printed are timestamped as they arrive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.data import read_wav, write_wav
from tests.test_withdrawal_reach import PERCENT, Running, candor

CANDOR = Path(sys.executable).parent / "candor"
ERASED = "all data was erased by another Candor (`candor data erase`)"
# A line already in the pipe when the erase exits arrives within milliseconds; one printed
# after it comes later than this.
PIPE_GRACE_S = 0.5


def erase() -> float:
    done = candor("data", "erase", "--yes")
    assert done.returncode == 0, done.stderr
    assert "now holds only the record that everything was erased" in done.stdout
    return time.monotonic()


def nothing_left(candor_home: Path) -> None:
    listed = candor("meetings", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "[]", "nothing stored after the erase"
    history = candor("consent", "history", "--json")
    assert history.returncode == 0, history.stderr
    records = json.loads(history.stdout)
    assert [r["state"] for r in records] == ["data_erased"], "only the erase is recorded"
    verified = candor("consent", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.fixture(scope="module")
def nine_minutes(shared_data, tmp_path_factory) -> Path:
    speech = [read_wav(shared_data / "speech" / name)[0]
              for name in ("real_concat.wav", "harvard9_concat.wav", "jfk.wav")]
    one = np.concatenate(speech)
    samples = np.tile(one, int(np.ceil(9 * 60 * 16000 / len(one))))[: 9 * 60 * 16000]
    return write_wav(tmp_path_factory.mktemp("long") / "nine-minutes.wav", samples)


class Listener:
    """`candor listen --json` in the background, each stdout and stderr line timestamped."""

    def __init__(self, virtual_mic) -> None:
        self.proc = subprocess.Popen([str(CANDOR), "listen", "--json"], env=virtual_mic.env(),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out: list[tuple[float, dict]] = []
        self.err: list[tuple[float, str]] = []
        self.listening = threading.Event()
        self.captioned = threading.Event()
        self._readers = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            record = json.loads(line)
            self.out.append((time.monotonic(), record))
            if record["type"] == "final":
                self.captioned.set()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append((time.monotonic(), line.rstrip("\n")))
            if "listening" in line:
                self.listening.set()

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        code = self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=10)
        return code, "\n".join(line for _, line in self.err)


@pytest.mark.audio
@pytest.mark.model
@pytest.mark.grant("microphone", "transcription", "transcript_storage")
def test_listen_stops_at_once_when_everything_is_erased_elsewhere(gate, virtual_mic,
                                                                  shared_data, candor_home):
    gate.close()  # this test's own gate would keep the old ledger open: the erase replaces it
    listener = Listener(virtual_mic)
    assert listener.listening.wait(90), "\n".join(line for _, line in listener.err)
    player = virtual_mic.play(shared_data / "speech" / "real_concat.wav")
    assert listener.captioned.wait(60), "no caption before the erase"
    erased_at = erase()
    code, err = listener.finish()
    player.kill()
    stopped = next((t for t, line in listener.err if ERASED in line), float("nan"))
    print(f"\nlisten: reason printed {stopped - erased_at:+.2f} s after the erase process had "
          f"exited (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    assert code == 3, err
    assert ERASED in err
    assert "meeting saved" not in err
    assert "Traceback" not in err
    assert "microphone" not in err.split(ERASED, 1)[1], "the microphone was blamed"
    late = [r for t, r in listener.out if t > erased_at + PIPE_GRACE_S]
    assert late == [], "printed after the erase"
    assert not any(r["type"] == "transcript" for _, r in listener.out), "a final pass ran"
    nothing_left(candor_home)


@pytest.mark.model
@pytest.mark.parametrize("keep", [False, True])
def test_transcribe_stops_at_once_when_everything_is_erased_elsewhere(gate, nine_minutes, keep,
                                                                      candor_home):
    gate.grant("transcription", via="test")
    gate.grant("transcript_storage", via="test")
    gate.close()
    running = Running("transcribe", str(nine_minutes), *(["--keep"] if keep else []))
    running.wait_for_progress(1)
    before = len(running.err_lines)
    erase()
    running.proc.wait(timeout=120)
    running._out_reader.join(timeout=30)
    while running._next(timeout=30) is not None:
        pass
    err = "\n".join(running.err_lines[before:])
    assert running.proc.returncode == 3, running.err_lines
    assert f"{ERASED}, so the transcription stopped at once; nothing was printed or stored" in err
    assert "".join(running._out) == ""
    index = next(i for i, line in enumerate(running.err_lines) if ERASED in line)
    assert not [line for line in running.err_lines[index:] if PERCENT.match(line.strip())]
    assert "Traceback" not in err
    nothing_left(candor_home)


def test_denoise_stops_at_once_when_everything_is_erased_elsewhere(gate, nine_minutes, tmp_path,
                                                                  candor_home):
    gate.grant("noise_suppression", via="test")
    gate.close()
    (tmp_path / "out").mkdir()
    out_file = tmp_path / "out" / "clean.wav"
    running = Running("denoise", str(nine_minutes), str(out_file))
    running.wait_for_progress(10)
    erase()
    running.proc.wait(timeout=120)
    while running._next(timeout=30) is not None:
        pass
    err = "\n".join(running.err_lines)
    assert running.proc.returncode == 3, err
    assert f"{ERASED}, so denoising stopped at once; {out_file} was not written" in err
    assert "Traceback" not in err
    assert not out_file.exists()
    assert list(out_file.parent.iterdir()) == [], "no staging file left behind"
    nothing_left(candor_home)
