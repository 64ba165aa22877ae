"""The ledger's anchor (record count and last hash, kept with the key) catches what the key
alone cannot: a withdrawal deleted and the ledger re-signed by someone holding the ledger key, a
ledger rolled back, and a ledger deleted with its head. Each fails closed: `verify` exits 1 and
transcription refuses (exit 3), until `consent new-ledger --yes` starts over knowingly."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import keyvault
from app.consent import open_gate
from app.consent.ledger import GENESIS_HASH, KEY_NAME, LedgerRecord
from app.key_protection import set_passphrase
from app.keyvault import KdfCost

PASSPHRASE = "correct horse battery staple"
CHEAP = KdfCost(n=2**10, r=8, p=1)  # the default costs 0.4 s a derivation; tests need many
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def forget_unwrapped_keys() -> Iterator[None]:
    yield
    keyvault.forget()


def candor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def _history_with_a_withdrawal(home: Path) -> None:
    gate = open_gate(home)
    gate.grant("microphone", via="test")
    gate.grant("transcription", via="test")
    gate.withdraw("transcription", via="test")
    assert not gate.allowed("transcription")
    gate.close()


def _mac(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def resign_without(home: Path, key: bytes, drop_seq: int, forge_extra: bool = False) -> None:
    """What a forger holding the ledger key does: remove one record, rebuild the chain with
    correct keyed hashes (optionally padding with a forged grant so the count is unchanged),
    and sign a new head."""
    conn = sqlite3.connect(home / "consent-ledger.sqlite3", isolation_level=None)
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute("DROP TRIGGER records_no_delete")
    cols = [r[1] for r in conn.execute("PRAGMA table_info(records)")]
    rows = [dict(zip(cols, r, strict=True)) for r in conn.execute(
        f"SELECT {', '.join(cols)} FROM records ORDER BY seq")]
    kept = [r for r in rows if r["seq"] != drop_seq]
    if forge_extra:
        kept.append({**kept[-1], "record_id": "forged", "purpose": "microphone"})
    conn.execute("DELETE FROM records")
    prev = GENESIS_HASH
    for seq, row in enumerate(kept, start=1):
        fields = {**row, "seq": seq, "prev_hash": prev, "record_hash": ""}
        fields["delete_data_requested"] = (None if row["delete_data_requested"] is None
                                           else bool(row["delete_data_requested"]))
        record = LedgerRecord(**fields)
        fields["record_hash"] = prev = _mac(key, record.signed_payload())
        conn.execute(f"INSERT INTO records ({', '.join(fields)}) VALUES "
                     f"({', '.join('?' * len(fields))})", tuple(fields.values()))
    conn.close()
    seq = len(kept)
    (home / "consent-ledger.head").write_text(json.dumps(
        {"seq": seq, "record_hash": prev, "mac": _mac(key, f"{seq}:{prev}".encode())}))


def _assert_fails_closed(home: Path, shared_data: Path, why: str,
                         env: dict[str, str] | None = None) -> None:
    verify = candor("consent", "verify", env=env)
    assert verify.returncode == 1, verify.stdout + verify.stderr
    assert why in verify.stdout
    run = candor("transcribe", str(shared_data / "speech" / "jfk.wav"), env=env)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "failed verification" in run.stderr
    assert run.stdout == "", "nothing may be transcribed under an untrusted ledger"


def _assert_new_ledger_recovers(env: dict[str, str] | None = None) -> None:
    fresh = candor("consent", "new-ledger", "--yes", env=env)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    verify = candor("consent", "verify", env=env)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "ledger_replaced" in candor("consent", "history", env=env).stdout


def test_with_a_passphrase_a_withdrawal_deleted_and_resigned_is_caught(candor_home, shared_data):
    _history_with_a_withdrawal(candor_home)
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
    assert not (candor_home / "keys" / f"{KEY_NAME}.key").exists()
    env = {"CANDOR_PASSPHRASE": PASSPHRASE}
    assert candor("consent", "verify", env=env).returncode == 0
    # The forger got the ledger key somehow (an old copy, a look over the shoulder) — but not
    # the anchor, which only the passphrase can rewrite.
    key = keyvault.unlock(candor_home.resolve(), PASSPHRASE)[KEY_NAME]
    resign_without(candor_home, key, drop_seq=3)
    _assert_fails_closed(candor_home, shared_data, "rolled back", env)
    _assert_new_ledger_recovers(env)


def test_a_resigned_ledger_padded_to_the_same_length_is_caught(candor_home, shared_data):
    _history_with_a_withdrawal(candor_home)
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
    env = {"CANDOR_PASSPHRASE": PASSPHRASE}
    key = keyvault.unlock(candor_home.resolve(), PASSPHRASE)[KEY_NAME]
    resign_without(candor_home, key, drop_seq=3, forge_extra=True)
    _assert_fails_closed(candor_home, shared_data, "is not the one anchored", env)


def test_with_a_keyring_a_resigned_ledger_is_caught(candor_home, shared_data, tmp_path):
    env = {"PYTHON_KEYRING_BACKEND": "tests.support.memory_keyring.FileKeyring",
           "FILE_KEYRING_PATH": str(tmp_path / "os-keyring.json"),
           "PYTHONPATH": str(ROOT)}
    for args in (("grant", "microphone"), ("grant", "transcription")):
        assert candor("consent", *args, "--yes", env=env).returncode == 0
    assert candor("consent", "revoke", "transcription", env=env).returncode == 0
    assert not (candor_home / "keys" / "consent-ledger-anchor.key").exists()
    entries = json.loads((tmp_path / "os-keyring.json").read_text())
    (key_entry,) = [v for k, v in entries.items() if k.startswith(f"Candor\x00{KEY_NAME} [")]
    resign_without(candor_home, base64.b64decode(key_entry), drop_seq=3)
    _assert_fails_closed(candor_home, shared_data, "rolled back", env)


def test_ledger_and_head_deleted_together_fail_closed(candor_home, shared_data):
    _history_with_a_withdrawal(candor_home)
    (candor_home / "consent-ledger.sqlite3").unlink()
    (candor_home / "consent-ledger.head").unlink()
    check = candor("privacy", "check", "--json")
    ledger_check = next(c for c in json.loads(check.stdout)["checks"]
                        if c["id"] == "ledger_verifies")
    assert ledger_check["status"] == "fail", ledger_check
    _assert_fails_closed(candor_home, shared_data, "missing although one existed")
    grant = candor("consent", "grant", "transcription", "--yes")
    assert grant.returncode == 1, "nothing can be recorded in a ledger that replaced a lost one"
    _assert_new_ledger_recovers()
    assert candor("consent", "grant", "microphone", "--yes").returncode == 0


def test_a_ledger_from_before_anchors_deleted_with_its_head_is_noticed(candor_home, shared_data):
    """Profiles made before anchors existed have only the key as a trace of their ledger."""
    _history_with_a_withdrawal(candor_home)
    (candor_home / "keys" / "consent-ledger-anchor.key").unlink()
    (candor_home / "consent-ledger.sqlite3").unlink()
    (candor_home / "consent-ledger.head").unlink()
    _assert_fails_closed(candor_home, shared_data, "missing although one existed")


def test_a_ledger_from_before_anchors_is_anchored_when_it_verifies(candor_home):
    _history_with_a_withdrawal(candor_home)
    anchor = candor_home / "keys" / "consent-ledger-anchor.key"
    anchor.unlink()
    assert candor("consent", "verify").returncode == 0
    assert anchor.exists()
    held = json.loads(base64.b64decode(anchor.read_text()))
    assert held["seq"] == 3


def test_a_fresh_ledger_verifies_with_no_records(candor_home):
    result = candor("consent", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "intact: 0 records" in result.stdout
    assert candor("consent", "verify").returncode == 0


@pytest.mark.parametrize("protection", ["none", "passphrase"])
def test_an_older_copy_of_the_ledger_put_back_is_caught(candor_home, shared_data, protection):
    """No key needed: the ledger and head from before a withdrawal are validly signed."""
    gate = open_gate(candor_home)
    gate.grant("microphone", via="test")
    gate.grant("transcription", via="test")
    gate.close()
    env = None
    if protection == "passphrase":
        set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
        env = {"CANDOR_PASSPHRASE": PASSPHRASE}
    saved = candor_home.parent / "saved"
    saved.mkdir()
    for name in ("consent-ledger.sqlite3", "consent-ledger.head"):
        shutil.copy2(candor_home / name, saved / name)
    assert candor("consent", "revoke", "transcription", env=env).returncode == 0
    for name in ("consent-ledger.sqlite3", "consent-ledger.head"):
        shutil.copy2(saved / name, candor_home / name)
    _assert_fails_closed(candor_home, shared_data, "rolled back", env)
