"""Nothing leaves the device and nothing is written outside the data directory, seen by the kernel.

Each command runs in its own process under real strace (app.privacy.os_probe), with HOME pointed
at an empty folder and CANDOR_HOME elsewhere: no AF_INET/AF_INET6 connect or send, no name
lookup, no file written outside CANDOR_HOME but for the named allowances, nothing left in HOME.
Before `app.offline_env` set ORT_DISABLE_TELEMETRY, `candor listen` here made 6 name lookups
(4 UDP connects to port 53, 2 to nscd) and left onnxruntime's `deviceid` and `onnxruntime.db`
(with 4 folders) under HOME/.cache/Microsoft/DeveloperTools; these tests then fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.privacy.os_probe import ProbeResult, run_traced, standard_allowances, strace_available
from app.textmetrics import normalise
from tests.conftest import IN_CI

CANDOR = Path(sys.executable).parent / "candor"
REPO = Path(__file__).resolve().parents[1]
# What the child processes inherit from the test run: the virtual microphone, the keyring
# backend conftest chose (none), Qt offscreen. Nothing else: a real user's HOME has no say.
PASSED_ON = ("PATH", "LANG", "PULSE_SERVER", "PULSE_CLIENTCONFIG", "XDG_RUNTIME_DIR",
             "PYTHON_KEYRING_BACKEND", "QT_QPA_PLATFORM", "CANDOR_TEST_DATA")


@pytest.fixture(autouse=True)
def needs_strace() -> None:
    if strace_available():
        return
    if IN_CI:
        pytest.fail("strace is missing in CI; the README's test command installs it")
    pytest.skip("strace is not installed (run ./bootstrap test once as root)")


@pytest.fixture
def empty_home(tmp_path: Path) -> Path:
    home = tmp_path / "empty-home"
    home.mkdir()
    return home


def child_env(candor_home: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in PASSED_ON}
    # Deliberately not the test run's offline switches (conftest sets HF_HUB_OFFLINE): Candor
    # must set its own.
    env.update({"HOME": str(home), "CANDOR_HOME": str(candor_home), "QT_QPA_PLATFORM": "offscreen"})
    return env


def grant(env: dict[str, str], *purposes: str) -> None:
    for purpose in purposes:
        done = subprocess.run([str(CANDOR), "consent", "grant", purpose, "--yes"], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr


def traced(env: dict[str, str], candor_home: Path, home: Path, argv: list[str],
           **kwargs: object) -> ProbeResult:
    result = run_traced(argv, env=env, allowed=standard_allowances(candor_home, home),
                        empty_home=home, cwd=REPO, **kwargs)  # type: ignore[arg-type]
    print(f"\n{argv[1:]}: {result.processes} processes/threads, {result.syscalls} traced calls, "
          f"{len(result.writes)} writes; internet {len(result.internet)}, name lookups "
          f"{len(result.dns)}, outside {len(result.outside)}, left in HOME "
          f"{len(result.left_in_home)}")
    return result


def assert_private(result: ProbeResult) -> None:
    assert result.processes > 0, "strace saw nothing: the probe is broken"
    assert result.syscalls > 0, "strace saw nothing: the probe is broken"
    assert result.internet == [], [a.describe() for a in result.internet]
    assert result.dns == [], [a.describe() for a in result.dns]
    assert result.outside == [], [w.describe() for w in result.outside]
    assert result.left_in_home == [], result.left_in_home
    assert "Traceback" not in result.stderr, result.stderr


def test_the_probe_sees_a_native_name_lookup_and_a_file_written_in_home(empty_home, tmp_path):
    """The probe itself: a lookup through glibc and a file under HOME are reported (were they
    not, the tests below would pass for nothing)."""
    script = ("import socket, pathlib, os\n"
              "try:\n    socket.getaddrinfo('example.invalid', 443)\nexcept OSError:\n    pass\n"
              "pathlib.Path(os.environ['HOME'], '.cache').mkdir()\n"
              "pathlib.Path(os.environ['HOME'], '.cache', 'x').write_text('x')\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(empty_home)}
    result = run_traced([sys.executable, "-c", script], env=env,
                        allowed=standard_allowances(tmp_path / "data", empty_home),
                        empty_home=empty_home, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.dns, "a name lookup went unseen"
    assert {w.path for w in result.outside} >= {empty_home / ".cache" / "x"}
    assert empty_home / ".cache" / "x" in result.left_in_home


@pytest.mark.model
def test_transcribe_reaches_no_network_and_writes_only_its_data_dir(
        candor_home, empty_home, shared_data):
    env = child_env(candor_home, empty_home)
    grant(env, "transcription")
    result = traced(env, candor_home, empty_home,
                    [str(CANDOR), "transcribe", str(shared_data / "speech" / "jfk.wav")])
    assert result.returncode == 0, result.stderr
    assert "ask not what your country can do for you" in normalise(result.stdout)
    assert_private(result)


@pytest.mark.audio
@pytest.mark.model
def test_listen_reaches_no_network_and_writes_only_its_data_dir(
        candor_home, empty_home, virtual_mic, shared_data):
    env = child_env(candor_home, empty_home)
    grant(env, "microphone", "transcription", "transcript_storage")
    players = []

    def speak_when_listening(line: str) -> None:
        if "listening" in line and not players:
            players.append(virtual_mic.play(shared_data / "speech" / "jfk.wav"))

    result = traced(env, candor_home, empty_home,
                    [str(CANDOR), "listen", "--seconds", "16"],
                    on_stderr_line=speak_when_listening)
    assert result.returncode == 0, result.stderr
    assert players, "listen never said it was listening"
    assert "ask not what your country can do for you" in normalise(result.stdout)
    assert "meeting saved as" in result.stderr
    assert_private(result)


@pytest.mark.audio
@pytest.mark.model
def test_a_window_meeting_with_captions_reaches_no_network_and_writes_only_its_data_dir(
        candor_home, empty_home, virtual_mic, shared_data):
    env = child_env(candor_home, empty_home)
    grant(env, "microphone", "transcription", "transcript_storage")
    played = empty_home.parent / "speech-played"
    players: list[threading.Thread] = []

    def speak() -> None:
        virtual_mic.play_and_wait(shared_data / "speech" / "jfk.wav")
        played.touch()

    def speak_when_captioning(line: str) -> None:
        if "captions on" in line and not players:
            players.append(threading.Thread(target=speak, daemon=True))
            players[0].start()

    result = traced(env, candor_home, empty_home,
                    [sys.executable, "-m", "tests.support.window_meeting", str(played)],
                    on_stderr_line=speak_when_captioning)
    assert result.returncode == 0, result.stderr
    assert "ask not what your country can do for you" in normalise(result.stdout)
    assert_private(result)


def run_python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


SHOW = ("import app, os; print(' '.join(f'{k}={os.environ.get(k)}' for k in ("
        "'ORT_DISABLE_TELEMETRY', 'HF_HUB_DISABLE_TELEMETRY', 'HF_XET_TELEMETRY_ENABLED', "
        "'DO_NOT_TRACK', 'HF_HUB_OFFLINE')))")


def test_every_candor_process_turns_telemetry_and_the_hub_off_even_against_the_shell():
    env = {"PATH": os.environ["PATH"], "DO_NOT_TRACK": "0", "ORT_DISABLE_TELEMETRY": "0"}
    assert run_python(SHOW, env) == ("ORT_DISABLE_TELEMETRY=1 HF_HUB_DISABLE_TELEMETRY=1 "
                                     "HF_XET_TELEMETRY_ENABLED=0 DO_NOT_TRACK=1 HF_HUB_OFFLINE=1")


def test_the_download_worker_may_reach_the_hub_but_keeps_telemetry_off(tmp_path):
    from app.transcription.download import _child_env

    env = _child_env(tmp_path / "hub", "http://127.0.0.1:9")
    assert "HF_HUB_OFFLINE" not in env
    assert run_python(SHOW, env) == (
        "ORT_DISABLE_TELEMETRY=1 HF_HUB_DISABLE_TELEMETRY=1 HF_XET_TELEMETRY_ENABLED=0 "
        "DO_NOT_TRACK=1 HF_HUB_OFFLINE=None")


@pytest.mark.model
def test_privacy_check_os_runs_the_speech_stack_under_strace_and_keeps_the_nine_checks(
        candor_home):
    done = subprocess.run([str(CANDOR), "privacy", "check", "--os", "--json"],
                          capture_output=True, text=True, timeout=300, env=os.environ.copy())
    report = json.loads(done.stdout)
    checks = {c["id"]: c for c in report["checks"]}
    assert len(checks) == 10
    deep = checks["no_network_os_level"]
    assert deep["status"] == "pass", deep
    evidence = "\n".join(deep["evidence"])
    assert "0 internet connection(s), 0 name lookup(s), 0 file(s) written outside" in evidence
    assert "voice activity detection: " in evidence
    plain = subprocess.run([str(CANDOR), "privacy", "check", "--json"], capture_output=True,
                           text=True, timeout=120, env=os.environ.copy())
    assert len(json.loads(plain.stdout)["checks"]) == 9, "without --os: the nine checks"


@pytest.mark.model
def test_a_model_download_talks_only_to_the_hub_it_was_pointed_at(candor_home, empty_home,
                                                                  tmp_path):
    """The one process allowed the network (the download worker) reaches the hub and nothing
    else: no name lookup, no telemetry endpoint, nothing written outside the data directory."""
    from app.transcription.manifest import load_manifest
    from tests.support.model_server import HubRepo, HubServer, copy_bundled_model

    spec = load_manifest().get("tiny.en")
    files = copy_bundled_model(tmp_path / "served")
    with HubServer([HubRepo(spec.repo, files, commit=spec.revision)]) as hub:
        env = {**child_env(candor_home, empty_home), "HF_ENDPOINT": hub.endpoint}
        grant(env, "model_download")
        result = traced(env, candor_home, empty_home,
                        [str(CANDOR), "models", "download", "tiny.en"])
        # the hub and the CDN it redirects large files to
        served = {("127.0.0.1", int(server.server_address[1])) for server in (hub.hub, hub.cdn)}
    assert result.returncode == 0, result.stderr
    assert "installed and verified" in result.stdout
    assert result.internet, "the download was not seen: the probe is broken"
    elsewhere = [a.describe() for a in result.internet if (a.address, a.port) not in served]
    assert elsewhere == []
    assert result.dns == [], [a.describe() for a in result.dns]
    assert result.outside == [], [w.describe() for w in result.outside]
    assert result.left_in_home == [], result.left_in_home
