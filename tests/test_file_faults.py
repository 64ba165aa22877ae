"""`candor denoise` and `candor transcribe` on bad paths and failing disks, as a user meets them:
an output that is a link, a device or a FIFO; an input that is a FIFO or a device; a read that
fails with a real EIO; a full disk under the output. Every case: one clear line, the right exit
code, nothing replaced, nothing half-written, never a hang or a traceback."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import IN_CI
from tests.support.damaged_media import can_build, fifo, unreadable_copy
from tests.support.data import read_wav, write_wav
from tests.support.full_disk import can_mount, mounted_tmpfs

CANDOR = Path(sys.executable).parent / "candor"


def candor(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CANDOR), *args], capture_output=True, text=True,
                          timeout=timeout, env=os.environ.copy())


def clean_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.fixture
def noise_given(gate):
    gate.grant("noise_suppression", via="test")
    gate.grant("transcription", via="test")
    return gate


@pytest.fixture
def speech_wav(shared_data) -> Path:
    return shared_data / "speech" / "jfk.wav"


# -- outputs denoise must not replace ------------------------------------------------------


def test_an_output_that_is_a_symlink_is_refused_and_left_as_it_is(noise_given, speech_wav,
                                                                   tmp_path):
    target = tmp_path / "elsewhere.wav"
    target.write_bytes(b"the user's other file")
    link = tmp_path / "out.wav"
    link.symlink_to(target)
    err = clean_error(candor("denoise", str(speech_wav), str(link)), 2)
    assert f"{link} is a symbolic link (to {target})" in err
    assert link.is_symlink()
    assert target.read_bytes() == b"the user's other file"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(("name", "minor"), [("full", 7), ("null", 3)])
def test_a_device_as_output_is_refused_and_stays_a_device(noise_given, speech_wav, tmp_path,
                                                          name, minor):
    """Private copies of /dev/full and /dev/null (same device numbers): were the refusal ever
    to break, only these would be replaced, never the system's own."""
    device = tmp_path / name
    try:
        os.mknod(device, 0o600 | stat.S_IFCHR, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("creating a device node needs root (CI runs as root)")
    err = clean_error(candor("denoise", str(speech_wav), str(device)), 2)
    assert f"{device} is a device" in err
    after = device.lstat()
    assert stat.S_ISCHR(after.st_mode)
    assert after.st_rdev == os.makedev(1, minor)


def test_a_fifo_as_output_is_refused_without_blocking(noise_given, speech_wav, tmp_path):
    pipe = fifo(tmp_path / "out.wav")
    err = clean_error(candor("denoise", str(speech_wav), str(pipe)), 2)
    assert "is a named pipe (FIFO)" in err
    assert stat.S_ISFIFO(pipe.lstat().st_mode)


def test_a_folder_or_missing_folder_as_output_is_refused(noise_given, speech_wav, tmp_path):
    assert "a folder" in clean_error(candor("denoise", str(speech_wav), str(tmp_path)), 2)
    missing = tmp_path / "no-such-folder" / "out.wav"
    assert "existing folder" in clean_error(candor("denoise", str(speech_wav), str(missing)), 2)


def test_an_existing_regular_file_is_replaced_whole_and_private(noise_given, speech_wav,
                                                                tmp_path):
    out = tmp_path / "out.wav"
    out.write_bytes(b"old")
    out.chmod(0o644)
    result = candor("denoise", str(speech_wav), str(out))
    assert result.returncode == 0, result.stderr
    with wave.open(str(out)) as wav:
        assert wav.getnframes() == 176000  # jfk.wav's length, written whole
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


# -- inputs that are not files ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["denoise", "transcribe"])
def test_a_fifo_as_input_is_refused_at_once_not_a_hang(noise_given, tmp_path, command):
    pipe = fifo(tmp_path / "in.wav")
    extra = [str(tmp_path / "out.wav")] if command == "denoise" else []
    err = clean_error(candor(command, str(pipe), *extra, timeout=60), 2)
    assert f"{pipe} is a named pipe (FIFO)" in err
    assert "empty (0 bytes)" not in err
    assert "save the audio to a file first" in err
    assert not (tmp_path / "out.wav").exists()


@pytest.mark.parametrize("command", ["denoise", "transcribe"])
def test_a_device_as_input_is_refused(noise_given, tmp_path, command):
    extra = [str(tmp_path / "out.wav")] if command == "denoise" else []
    err = clean_error(candor(command, "/dev/zero", *extra, timeout=60), 2)
    assert "/dev/zero is a device" in err


# -- a read that fails: a real EIO -----------------------------------------------------------


@pytest.fixture
def eio_wav(tmp_path, shared_data):
    """A 66 s WAV on a damaged squashfs: its header reads, its middle fails with EIO."""
    if not can_build():
        if IN_CI:
            pytest.fail("squashfs-tools is missing in CI; ./bootstrap test installs it")
        pytest.skip("squashfs-tools is not installed (run ./bootstrap test once as root)")
    if not can_mount():
        pytest.skip("loop-mounting needs root (CI runs as root)")
    speech, _ = read_wav(shared_data / "speech" / "jfk.wav")
    source = write_wav(tmp_path / "long.wav", np.tile(speech, 6))
    try:
        with unreadable_copy(source, tmp_path) as damaged:
            with pytest.raises(OSError, match="Input/output error") as caught:
                damaged.read_bytes()
            assert caught.value.errno == 5  # the kernel's EIO, for real
            yield damaged
    except PermissionError as err:
        pytest.skip(str(err))


def test_denoise_reports_an_io_error_as_such_and_writes_nothing(noise_given, eio_wav,
                                                                tmp_path):
    out = tmp_path / "out.wav"
    err = clean_error(candor("denoise", str(eio_wav), str(out)), 1)
    assert f"{eio_wav} cannot be read: an input/output error" in err
    assert f"{out} was not written" in err
    assert not out.exists()
    assert not list(tmp_path.glob(".out.wav*"))


@pytest.mark.model
def test_transcribe_reports_an_io_error_not_not_an_audio_file(noise_given, eio_wav):
    result = candor("transcribe", str(eio_wav))
    err = clean_error(result, 1)
    assert f"{eio_wav} cannot be read: an input/output error" in err
    assert "not an audio file" not in err
    assert result.stdout == ""


# -- a full disk under the output ------------------------------------------------------------


def test_denoise_onto_a_full_disk_says_so_and_leaves_nothing(noise_given, speech_wav,
                                                             tmp_path):
    if not can_mount():
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    try:
        context = mounted_tmpfs(tmp_path / "disk", size="256k")
        disk = context.__enter__()
    except PermissionError as err:
        pytest.skip(str(err))
    try:
        out = disk.mountpoint / "out.wav"  # jfk.wav denoised is 352 kB: it cannot fit
        err = clean_error(candor("denoise", str(speech_wav), str(out)), 1)
        assert f"cannot write {out}: the disk is full" in err
        assert list(disk.mountpoint.iterdir()) == []
    finally:
        context.__exit__(None, None, None)
