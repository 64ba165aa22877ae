"""`candor transcribe FILE --keep`: the transcript stored as a meeting, only with
transcript_storage; without --keep nothing is stored; a full disk loses no transcript."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.textmetrics import normalise
from tests.support.full_disk import can_mount, mounted_tmpfs

pytestmark = pytest.mark.model

CANDOR = Path(sys.executable).parent / "candor"


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CANDOR), *args], capture_output=True, text=True, timeout=300,
                          env=os.environ.copy())


@pytest.fixture
def jfk(shared_data) -> Path:
    return shared_data / "speech" / "jfk.wav"


def test_keep_without_transcript_storage_exits_3_naming_it(gate, jfk, candor_home):
    gate.grant("transcription", via="test")
    result = candor("transcribe", str(jfk), "--keep")
    assert result.returncode == 3
    assert "transcript_storage" in result.stderr
    assert "candor consent grant transcript_storage" in result.stderr
    assert result.stdout == ""
    assert not (candor_home / "candor.db").exists()


def test_keep_stores_it_as_a_meeting_and_json_names_it(gate, jfk, candor_home):
    gate.grant("transcription", via="test")
    gate.grant("transcript_storage", via="test")
    result = candor("transcribe", str(jfk), "--keep", "--format", "json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    meeting_id = body["meeting_id"]
    assert len(meeting_id) == 12
    assert f"transcript kept as meeting {meeting_id}" in result.stderr
    listed = json.loads(candor("meetings", "list", "--json").stdout)
    assert [(m["id"], m["title"], m["source"], m["interrupted"]) for m in listed] == [
        (meeting_id, "jfk", "file", False)]
    assert listed[0]["ended"] is not None
    assert set(listed[0]["consent_records"]) == {"transcript_storage", "transcription"}
    shown = candor("meetings", "show", meeting_id)
    assert "ask not what your country can do for you" in normalise(shown.stdout)
    assert [s["text"] for s in body["segments"]] == [
        line.split("] ", 1)[1] for line in shown.stdout.splitlines() if line.startswith("[")]


def test_without_keep_nothing_is_stored_and_json_has_no_meeting(gate, jfk, candor_home):
    gate.grant("transcription", via="test")
    gate.grant("transcript_storage", via="test")
    result = candor("transcribe", str(jfk), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "meeting_id" not in json.loads(result.stdout)
    assert not (candor_home / "candor.db").exists()


def test_keep_on_a_full_disk_prints_the_transcript_and_says_it_was_not_kept(
        gate, jfk, tmp_path, monkeypatch):
    if not can_mount():
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    try:
        context = mounted_tmpfs(tmp_path / "disk")
        disk = context.__enter__()
    except PermissionError as err:
        pytest.skip(str(err))
    try:
        home = disk.mountpoint / "candor-home"
        monkeypatch.setenv("CANDOR_HOME", str(home))
        for purpose in ("transcription", "transcript_storage"):
            assert candor("consent", "grant", purpose, "--yes").returncode == 0
        disk.fill()
        result = candor("transcribe", str(jfk), "--keep")
        assert result.returncode == 1
        assert "ask not what your country can do for you" in normalise(result.stdout)
        assert "the transcript above was not kept: the disk is full" in result.stderr
        assert str(home) in result.stderr
        assert "Traceback" not in result.stderr
        disk.free()
        assert json.loads(candor("meetings", "list", "--json").stdout) == []
    finally:
        context.__exit__(None, None, None)
