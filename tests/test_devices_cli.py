"""`candor devices`: what the user sees with and without a microphone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def candor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.audio
def test_devices_json_lists_the_virtual_microphone_as_default(virtual_mic):
    result = candor("devices", "--json", env=virtual_mic.env())
    assert result.returncode == 0, result.stderr
    devices = [d for d in json.loads(result.stdout) if d["kind"] == "microphone"]
    defaults = [d for d in devices if d["is_default"]]
    assert len(defaults) == 1
    default = defaults[0]
    assert default["name"] == "default"
    assert default["channels"] >= 1
    assert default["default_rate"] > 0
    assert {"index", "host_api"} <= default.keys()


@pytest.mark.audio
def test_devices_table_marks_the_default(virtual_mic):
    result = candor("devices", env=virtual_mic.env())
    assert result.returncode == 0, result.stderr
    microphones = result.stdout.split("\nSystem audio")[0]
    starred = [line for line in microphones.splitlines() if line.startswith("*")]
    assert len(starred) == 1
    assert "default" in starred[0]


@pytest.mark.audio
def test_devices_lists_system_audio_with_the_default_output_marked(virtual_mic):
    listed = json.loads(candor("devices", "--json", env=virtual_mic.env()).stdout)
    system = [d for d in listed if d["kind"] == "system"]
    assert [d["id"] for d in system if d["is_default"]] == ["speakers.monitor"]
    assert "vsink.monitor" in [d["id"] for d in system]
    table = candor("devices", env=virtual_mic.env()).stdout
    section = table.split("System audio", 1)[1]
    [default] = [line for line in section.splitlines() if line.startswith("*")]
    assert "speakers.monitor" in default


def test_devices_without_any_microphone_says_what_to_do(tmp_path):
    import os

    conf = tmp_path / "client.conf"
    conf.write_text("autospawn = no\n")
    env = {
        **os.environ,
        "PULSE_SERVER": f"unix:{tmp_path / 'none'}",
        "PULSE_CLIENTCONFIG": str(conf),
    }
    result = candor("devices", "--json", env=env)
    assert result.returncode == 1
    assert json.loads(result.stdout) == []
    assert "No microphone was found" in result.stderr
