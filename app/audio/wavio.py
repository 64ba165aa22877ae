"""Reading and writing PCM WAV files in blocks, with messages a user can act on.

Streaming: `WavReader.blocks()` yields a block at a time and `WavWriter` writes a block at a
time, so an hour of audio costs a few blocks of memory, not the whole file (measured in
benchmarks/denoise_memory.py).

Safety: only a regular file is read (a FIFO would block for ever, a device never end); an
output is written to a private staging file beside it, fsynced and renamed over the target only
when whole, so a failure or a withdrawal leaves no partial file. An existing output must be a
regular file: a symbolic link is refused rather than followed or replaced, because replacing it
turns the link itself into a file (what the link pointed to stays old) and following it writes
somewhere the user did not name; the message names where it points so the user can give that
path. Devices (`/dev/full`, `/dev/null`), FIFOs and folders are refused too.

Errors: WavError is bad input (exit 2); WavReadError (a WavError) is a read that failed on a
readable-looking file - an I/O error, no permission - a fault, not bad input (exit 1);
WavWriteError is an output that could not be written (`disk_full` set when the disk is full).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np


class WavError(ValueError):
    """The file is missing or not a WAV file Candor can read; the message says what to do."""


class WavReadError(WavError):
    """Reading the file failed (an I/O error, no permission): a fault, not bad input."""


class WavWriteError(OSError):
    """The output could not be written; nothing was left behind."""

    def __init__(self, message: str, *, disk_full: bool = False) -> None:
        super().__init__(message)
        self.disk_full = disk_full

    def __str__(self) -> str:
        return str(self.args[0])


_WIDTHS = {1: "u1", 2: "<i2", 4: "<i4"}
_FULL = (errno.ENOSPC, errno.EDQUOT)
_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
    stat.S_IFLNK: "a symbolic link",
}


def _io_reason(err: OSError) -> str:
    if err.errno == errno.EIO:
        return ("an input/output error (the disk or the file is damaged, or the medium was "
                "removed); copy what can be read to another disk and try again")
    if err.errno == errno.EACCES:
        return "permission denied; check who may read it"
    return err.strerror or str(err)


@dataclass(frozen=True)
class WavInfo:
    channels: int
    width: int  # bytes per sample
    rate: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


class WavReader:
    """An open PCM WAV file read in blocks of float32 (frames, channels) in [-1, 1]."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            info = path.stat()
        except FileNotFoundError as err:
            raise WavError(f"{path} does not exist") from err
        except OSError as err:
            raise WavReadError(f"{path} cannot be read: {_io_reason(err)}") from err
        kind = stat.S_IFMT(info.st_mode)
        if kind == stat.S_IFDIR:
            raise WavError(f"{path} is a folder, not a WAV file")
        if kind != stat.S_IFREG:
            raise WavError(
                f"{path} is {_KINDS.get(kind, 'not a regular file')}, not a WAV file: Candor "
                "denoises a recording saved in a file (it reads it twice: once to learn the "
                "room's noise, once to remove it); save the audio to a file first"
            )
        try:
            self._wav = wave.open(str(path), "rb")  # noqa: SIM115 (closed by close())
        except OSError as err:
            raise WavReadError(f"{path} cannot be read: {_io_reason(err)}") from err
        except (wave.Error, EOFError) as err:
            reason = str(err) or "it is too short to hold a WAV header"
            raise WavError(
                f"{path} is not a PCM WAV file Candor can read ({reason}). Convert it to 16-bit "
                "PCM WAV, e.g. `ffmpeg -i INPUT -c:a pcm_s16le OUTPUT.wav`"
            ) from err
        try:
            self.info = WavInfo(self._wav.getnchannels(), self._wav.getsampwidth(),
                                self._wav.getframerate(), self._wav.getnframes())
            self._check()
        except BaseException:
            self._wav.close()
            raise

    def _check(self) -> None:
        info = self.info
        if info.width not in _WIDTHS:
            raise WavError(
                f"{self.path} uses {8 * info.width}-bit samples; Candor reads 8, 16 or 32-bit "
                "PCM WAV. Convert it to 16-bit PCM WAV"
            )
        if info.rate < 8000:
            raise WavError(
                f"{self.path} has a sample rate of {info.rate} Hz; at least 8000 Hz is needed")
        if info.frames == 0 or info.channels == 0:
            raise WavError(f"{self.path} holds no audio")

    def blocks(self, frames: int) -> Iterator[np.ndarray]:
        """The file from its start, `frames` frames at a time (the last block may be shorter).
        A file shorter than its header says simply ends early."""
        self._wav.rewind()
        info = self.info
        while True:
            try:
                raw = self._wav.readframes(frames)
            except OSError as err:
                raise WavReadError(f"{self.path} cannot be read: {_io_reason(err)}") from err
            except (wave.Error, EOFError) as err:
                raise WavError(f"{self.path} is damaged part-way ({err})") from err
            count = len(raw) // (info.width * info.channels)
            if count == 0:
                return
            data = np.frombuffer(raw[: count * info.width * info.channels],
                                 dtype=_WIDTHS[info.width]).astype(np.float32)
            # 8-bit WAV is unsigned around 128; wider samples are signed.
            if info.width == 1:
                data = (data - 128.0) / 128.0
            else:
                data /= float(2 ** (8 * info.width - 1))
            yield data.reshape(count, info.channels)

    def close(self) -> None:
        self._wav.close()

    def __enter__(self) -> WavReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def check_output_path(path: Path) -> None:
    """Refuse an output that is not a new path or an existing regular file (see the module
    docstring for why symbolic links are refused). Raises WavError."""
    if not path.parent.is_dir():
        raise WavError(f"cannot write {path}: give a file name in an existing folder")
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    kind = stat.S_IFMT(info.st_mode)
    if kind == stat.S_IFREG:
        return
    if kind == stat.S_IFLNK:
        target = os.readlink(path)
        raise WavError(
            f"{path} is a symbolic link (to {target}); Candor does not write through links. "
            "Give the real path of the file to write, or a new file name"
        )
    raise WavError(
        f"{path} is {_KINDS.get(kind, 'not a regular file')}; Candor writes the result to a "
        "file only. Give a new file name, or an existing WAV file to replace"
    )


class WavWriter:
    """16-bit PCM written block by block to a private staging file beside `path`; `commit()`
    makes it `path` (fsync, rename), `abort()` - or leaving the `with` on an error - removes
    it, so there is never a partial output."""

    def __init__(self, path: Path, *, channels: int, rate: int) -> None:
        check_output_path(path)
        self.path = path
        self.staging = path.with_name(f".{path.name}.part")
        self.frames = 0
        try:
            self.staging.unlink(missing_ok=True)  # a stale one from a crash
            fd = os.open(self.staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         0o600)
            self._file = os.fdopen(fd, "wb")
            self._wav = wave.open(self._file, "wb")  # noqa: SIM115 (commit or abort closes it)
            self._wav.setnchannels(channels)
            self._wav.setsampwidth(2)
            self._wav.setframerate(rate)
        except OSError as err:
            self._cleanup()
            raise self._error(err) from err
        self._open = True

    def _error(self, err: OSError) -> WavWriteError:
        if err.errno in _FULL:
            return WavWriteError(f"cannot write {self.path}: the disk is full. Free some space "
                                 "or write to another disk", disk_full=True)
        return WavWriteError(f"cannot write {self.path}: {err.strerror or err}")

    def write(self, samples: np.ndarray) -> None:
        data = np.asarray(samples, dtype=np.float32)
        if data.ndim == 1:
            data = data[:, np.newaxis]
        pcm = (np.clip(data, -1.0, 1.0) * 32767.0).round().astype("<i2")
        try:
            self._wav.writeframesraw(pcm.tobytes())
        except OSError as err:
            self.abort()
            raise self._error(err) from err
        self.frames += len(pcm)

    def commit(self) -> None:
        try:
            self._wav.close()  # writes the final header sizes
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self.staging, self.path)
        except OSError as err:
            self.abort()
            raise self._error(err) from err
        self._open = False

    def abort(self) -> None:
        if self._open:
            self._open = False
            self._cleanup()

    def _cleanup(self) -> None:
        for close in (getattr(self, "_wav", None), getattr(self, "_file", None)):
            if close is not None:
                with contextlib.suppress(OSError, wave.Error):
                    close.close()
        with contextlib.suppress(OSError):
            self.staging.unlink(missing_ok=True)

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.abort()


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """The whole file: (float32 samples of shape (frames, channels) in [-1, 1], sample rate)."""
    with WavReader(path) as reader:
        blocks = list(reader.blocks(1 << 16))
        rate = reader.info.rate
    if not blocks:
        raise WavError(f"{path} holds no audio")
    return np.concatenate(blocks), rate


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """16-bit PCM, whole; written to a staging file first, so a failure never leaves half a
    file."""
    data = np.asarray(samples)
    with WavWriter(path, channels=1 if data.ndim == 1 else data.shape[1], rate=rate) as writer:
        writer.write(data)
        writer.commit()
