"""`candor consent …` from a fresh CANDOR_HOME, as a user runs it."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time

from app.consent import PURPOSES, open_gate

HEAVY = ("PySide6", "faster_whisper", "ctranslate2", "noisereduce", "onnxruntime", "av")


def candor(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


def test_list_json_gives_every_purpose_not_given():
    result = candor("consent", "list", "--json")
    assert result.returncode == 0
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == list(PURPOSES)
    for row in rows:
        assert row["state"] == "not_given"
        assert row["granted"] is False
        assert row["title"]
        assert len(row["summary"].split(" · ")) == 3, "what · where · how long"


def test_grant_revoke_history_round_trip():
    assert candor("consent", "grant", "transcription", "--yes").returncode == 0
    rows = {r["id"]: r for r in json.loads(candor("consent", "list", "--json").stdout)}
    assert rows["transcription"]["state"] == "given"
    assert rows["transcription"]["granted"] is True
    assert rows["microphone"]["granted"] is False
    revoked = candor("consent", "revoke", "transcription")
    assert revoked.returncode == 0
    assert "Withdrawn: transcription" in revoked.stdout
    history = json.loads(candor("consent", "history", "--json").stdout)
    assert [(h["purpose"], h["state"], h["collection_method"]) for h in history] == [
        ("transcription", "given", "cli"),
        ("transcription", "withdrawn", "cli"),
    ]
    assert candor("consent", "verify").returncode == 0


def test_grant_without_yes_and_without_a_terminal_refuses():
    result = candor("consent", "grant", "microphone", stdin="y\n")
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert open_gate().ledger.records() == []


def _grant_on_a_terminal(answer: str) -> tuple[int, str]:
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "consent", "grant", "microphone"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + 30
    while b"[y/N]" not in output and time.monotonic() < deadline:
        output += os.read(master, 4096)
    os.write(master, answer.encode() + b"\n")
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            output += os.read(master, 4096)
        except OSError:
            break
    proc.wait(10)
    os.close(master)
    return proc.returncode, output.decode(errors="replace")


def test_grant_on_a_terminal_shows_the_notice_and_asks():
    code, shown = _grant_on_a_terminal("n")
    assert code == 0
    assert "Where it is processed" in shown
    assert "Not given" in shown
    assert open_gate().ledger.records() == []
    code, shown = _grant_on_a_terminal("y")
    assert code == 0
    assert "Given: microphone" in shown
    assert [r.purpose for r in open_gate().ledger.records()] == ["microphone"]


def test_unknown_purpose_exits_2_listing_valid_ones():
    for args in (("grant", "telemetry", "--yes"), ("revoke", "telemetry"), ("receipt", "x")):
        result = candor("consent", *args)
        assert result.returncode == 2
        for purpose in PURPOSES:
            assert purpose in result.stderr


def test_receipt_is_kantara_shaped_json_with_the_ledger_head():
    candor("consent", "grant", "microphone", "--yes")
    candor("consent", "revoke", "microphone")
    receipt = json.loads(candor("consent", "receipt", "microphone").stdout)
    assert set(receipt) >= {"schema_version", "record", "pii_processing", "ledger"}
    [purpose] = receipt["pii_processing"]["purposes"]
    assert purpose["purpose"] == "microphone"
    assert purpose["processing_locations"] == ["this device"]
    assert purpose["lawful_basis"] == "consent"
    assert "candor consent revoke microphone" in purpose["withdrawal_method"]
    assert [e["state"] for e in purpose["event"]] == ["given", "withdrawn"]
    assert purpose["notice"]["sha256"] == purpose["event"][0]["notice_sha256"]
    gate = open_gate()
    assert receipt["ledger"]["head_hash"] == gate.ledger.records()[-1].record_hash
    assert receipt["ledger"]["verified"] is True
    everything = json.loads(candor("consent", "receipt").stdout)
    assert len(everything["pii_processing"]["purposes"]) == len(PURPOSES)


def test_consent_core_and_cli_import_no_qt_and_no_ai():
    probe = (
        "import sys\n"
        "import app.consent\n"
        "from app.cli import main\n"
        "code = main(['consent', 'list'])\n"
        f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules], code)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "HEAVY [] 0" in result.stdout, result.stdout + result.stderr
