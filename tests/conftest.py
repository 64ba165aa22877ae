"""Test infrastructure: Qt offscreen, a private CANDOR_HOME per test, no network, and a real
virtual microphone (PulseAudio null sink) for audio tests."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

# Before anything can import Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No OS keyring in tests: the code under test must take its documented 0600-key-file path unless a
# test installs a keyring backend of its own.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
os.environ["HF_HUB_OFFLINE"] = "1"

import pytest

from tests.support.data import SHARED_DATA
from tests.support.virtual_mic import VirtualMic, pulseaudio_available

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def candor_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data directory: never the user's real data or settings."""
    home = tmp_path / "candor-home"
    monkeypatch.setenv("CANDOR_HOME", str(home))
    return home


_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)


# A modal dialog nobody answers blocks Qt's event loop in C++, where no Python timeout can reach
# it: the suite would hang until CI kills it. Tests answer dialogs within milliseconds
# (tests/ui/dialogs.py), so one still open after this long was unexpected.
UNANSWERED_DIALOG_SECONDS = 15.0


@pytest.fixture(autouse=True)
def unanswered_dialogs(request: pytest.FixtureRequest) -> Iterator[None]:
    """Closes, and fails the test for, any modal dialog left waiting for an answer."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("qapp")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialog

    first_seen: dict[int, float] = {}
    stuck: list[str] = []

    def look() -> None:
        widget = QApplication.activeModalWidget()
        if widget is None:
            return
        since = first_seen.setdefault(id(widget), time.monotonic())
        if time.monotonic() - since < UNANSWERED_DIALOG_SECONDS:
            return
        text = getattr(widget, "text", lambda: "")()
        stuck.append(f"{type(widget).__name__} {widget.windowTitle()!r} {text!r}")
        if isinstance(widget, QDialog):
            widget.reject()
        else:
            widget.close()

    timer = QTimer()
    timer.setInterval(250)
    timer.timeout.connect(look)
    timer.start()
    yield
    timer.stop()
    if stuck:
        pytest.fail("a modal dialog waited for an answer no one gave: " + "; ".join(stuck))


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Candor promises that nothing leaves the device: any connection off loopback fails a test."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


def _require(condition: bool, what: str) -> None:
    """Skip locally when a system part is missing; in CI a missing part is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing in CI; the README's test command installs it")
    pytest.skip(f"{what} is not installed (run ./bootstrap test once as root)")


@pytest.fixture
def virtual_mic() -> Iterator[VirtualMic]:
    """A private PulseAudio server whose null-sink monitor is the default microphone."""
    _require(pulseaudio_available(), "PulseAudio (pulseaudio, pactl, paplay)")
    mic = VirtualMic().start()
    try:
        yield mic
    finally:
        mic.stop()


@pytest.fixture
def gate(candor_home: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    """The real consent gate of this test's CANDOR_HOME (the one gate fixture of the suite).

    Every purpose starts not given, unless the test or its module is marked
    `@pytest.mark.grant("transcript_storage", ...)`: those are given before the test starts,
    recorded in the ledger as a user's grants are."""
    from app.consent import open_gate

    gate = open_gate()
    for marker in request.node.iter_markers("grant"):
        for purpose in marker.args:
            gate.grant(purpose, via="test")
    yield gate
    gate.close()


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A hub-like server on 127.0.0.1 serving tiny.en and - built from the same files, since no
    other model can be fetched here - a base.en repository, each at the revision the catalogue
    pins; HF_ENDPOINT points at it."""
    from app.transcription.manifest import load_manifest
    from tests.support.model_server import HubRepo, HubServer, copy_bundled_model

    manifest = load_manifest()
    files = copy_bundled_model(tmp_path / "served")
    repos = [HubRepo(manifest.get(n).repo, files, commit=manifest.get(n).revision)
             for n in ("tiny.en", "base.en")]
    with HubServer(repos) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        yield server


@pytest.fixture(scope="session")
def shared_data() -> Path:
    _require((SHARED_DATA / "speech" / "jfk.wav").is_file(), f"test data at {SHARED_DATA}")
    return SHARED_DATA
