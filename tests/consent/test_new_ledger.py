"""`candor consent new-ledger --yes` starts over knowingly: from a damaged, emptied or tampered
ledger, keeping the old one as evidence, and says so in the new ledger's first record."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.consent import open_gate


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          timeout=120)


def _ledger_with_records(home: Path) -> None:
    gate = open_gate(home)
    gate.grant("microphone", via="test")
    gate.grant("transcription", via="test")
    gate.close()


def test_new_ledger_recovers_a_truncated_ledger(candor_home):
    _ledger_with_records(candor_home)
    path = candor_home / "consent-ledger.sqlite3"
    damaged = path.read_bytes()[:1500]  # cut mid-page: SQLite cannot read it
    path.write_bytes(damaged)
    assert candor("consent", "verify").returncode == 1

    result = candor("consent", "new-ledger", "--yes")
    assert result.returncode == 0, result.stderr
    kept = sorted(candor_home.glob("consent-ledger.sqlite3.untrusted-*"))
    assert len(kept) == 1
    assert kept[0].read_bytes() == damaged, "the damaged ledger is kept, byte for byte"
    assert str(kept[0]) in result.stdout

    verify = candor("consent", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    history = candor("consent", "history")
    assert "ledger_replaced" in history.stdout, "starting over is recorded"
    assert candor("consent", "grant", "microphone", "--yes").returncode == 0


def test_new_ledger_recovers_an_unreadable_file(candor_home):
    candor_home.mkdir(parents=True)
    (candor_home / "consent-ledger.sqlite3").write_bytes(b"")
    (candor_home / "consent-ledger.sqlite3").chmod(0o000)
    result = candor("consent", "new-ledger", "--yes")
    assert result.returncode == 0, result.stderr
    assert candor("consent", "verify").returncode == 0


def test_new_ledger_refuses_a_ledger_that_verifies(candor_home):
    _ledger_with_records(candor_home)
    result = candor("consent", "new-ledger", "--yes")
    assert result.returncode == 2
    assert "verifies" in result.stderr
    assert not list(candor_home.glob("*.untrusted-*"))
