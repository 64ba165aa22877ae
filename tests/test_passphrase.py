"""A passphrase wraps the keys when there is no OS keyring: after `candor keys passphrase set`
no key is readable in the data folder, the meetings open only with the passphrase, a wrong one
changes nothing (exit 2), and change/remove keep every key."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import keystore, keyvault
from app.key_protection import describe_protection, set_passphrase
from app.keyvault import KdfCost
from app.storage import open_store
from tests.support.storage import granted_gate, raw_files, record_meeting

PASSPHRASE = "a long enough passphrase"
CHEAP = KdfCost(n=2**10, r=8, p=1)  # for the tests that do not measure the default
SAID = "the quarterly numbers stay between us"


@pytest.fixture(autouse=True)
def forget_unwrapped_keys() -> Iterator[None]:
    yield
    keyvault.forget()


def candor(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("CANDOR_PASSPHRASE", "CANDOR_NEW_PASSPHRASE")}
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          timeout=120, env={**environ, **env}, stdin=subprocess.DEVNULL)


def _stored_meeting(home: Path) -> tuple[str, dict[str, bytes]]:
    """A real stored meeting (encrypted under the master key) and every key, as files."""
    gate = granted_gate(home=home)
    store = open_store(home)
    try:
        meeting_id = record_meeting(store, gate, [SAID])
    finally:
        store.close()
        gate.close()
    keys = {name: keystore.read_key_file(path) for name, path in keystore.key_files(home).items()}
    assert {"storage-master-key", "consent-ledger", "consent-ledger-anchor"} <= set(keys)
    return meeting_id, keys


def _no_key_in_the_clear(home: Path, keys: dict[str, bytes]) -> None:
    assert not keystore.key_files(home), "no plain key file is left"
    for path, data in raw_files(home).items():
        for name, secret in keys.items():
            assert secret not in data, f"{name} in the clear in {path}"
            assert base64.b64encode(secret) not in data, f"{name} (base64) in {path}"


def test_set_with_the_default_cost_wraps_every_key_and_the_meeting_needs_it(candor_home):
    meeting_id, keys = _stored_meeting(candor_home)
    started = time.process_time()
    result = candor("keys", "passphrase", "set", CANDOR_PASSPHRASE=PASSPHRASE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "wrapped" in result.stdout
    _no_key_in_the_clear(candor_home, keys)
    assert describe_protection(candor_home).mode == "passphrase"

    shown = candor("meetings", "show", meeting_id, CANDOR_PASSPHRASE=PASSPHRASE)
    assert shown.returncode == 0, shown.stderr
    assert SAID in shown.stdout
    assert candor("consent", "verify", CANDOR_PASSPHRASE=PASSPHRASE).returncode == 0

    locked = candor("meetings", "show", meeting_id)
    assert locked.returncode == 2
    assert "CANDOR_PASSPHRASE" in locked.stderr
    assert SAID not in locked.stdout
    assert time.process_time() - started < 5  # the parent only waited; children did the work


def test_a_wrong_passphrase_changes_nothing_and_exits_2(candor_home):
    meeting_id, _keys = _stored_meeting(candor_home)
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
    before = raw_files(candor_home)
    for args in (("meetings", "show", meeting_id), ("consent", "grant", "microphone", "--yes"),
                 ("keys", "passphrase", "change"), ("keys", "passphrase", "remove")):
        result = candor(*args, CANDOR_PASSPHRASE="not the passphrase",
                        CANDOR_NEW_PASSPHRASE="another long passphrase")
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "passphrase does not open" in result.stderr
        assert "nothing was changed" in result.stderr
        assert SAID not in result.stdout

    def data(files: dict[Path, bytes]) -> dict[Path, bytes]:  # logs and empty lock files aside
        return {p: d for p, d in files.items() if "logs" not in p.parts and p.suffix != ".lock"}

    assert data(raw_files(candor_home)) == data(before)


def test_change_then_remove_keep_every_key(candor_home):
    meeting_id, keys = _stored_meeting(candor_home)
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
    new = "the new passphrase, longer"
    changed = candor("keys", "passphrase", "change", CANDOR_PASSPHRASE=PASSPHRASE,
                     CANDOR_NEW_PASSPHRASE=new)
    assert changed.returncode == 0, changed.stderr
    assert candor("meetings", "show", meeting_id, CANDOR_PASSPHRASE=PASSPHRASE).returncode == 2
    assert SAID in candor("meetings", "show", meeting_id, CANDOR_PASSPHRASE=new).stdout

    removed = candor("keys", "passphrase", "remove", CANDOR_PASSPHRASE=new)
    assert removed.returncode == 0, removed.stderr
    assert "anyone who copies the folder can read your meetings" in removed.stdout.lower()
    assert not keyvault.exists(candor_home)
    back = {n: keystore.read_key_file(p) for n, p in keystore.key_files(candor_home).items()}
    assert {n: back[n] for n in ("storage-master-key", "consent-ledger")} == {
        n: keys[n] for n in ("storage-master-key", "consent-ledger")}
    assert SAID in candor("meetings", "show", meeting_id).stdout
    assert candor("consent", "verify").returncode == 0


def test_bad_requests_are_refused_with_what_to_do(candor_home):
    short = candor("keys", "passphrase", "set", CANDOR_PASSPHRASE="short")
    assert short.returncode == 2
    assert "too short" in short.stderr
    nothing = candor("keys", "passphrase", "change", CANDOR_PASSPHRASE=PASSPHRASE)
    assert nothing.returncode == 2
    assert "keys passphrase set" in nothing.stderr
    no_terminal = candor("keys", "passphrase", "set")
    assert no_terminal.returncode == 2
    assert "CANDOR_PASSPHRASE" in no_terminal.stderr
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
    again = candor("keys", "passphrase", "set", CANDOR_PASSPHRASE=PASSPHRASE)
    assert again.returncode == 2
    assert "already set" in again.stderr


def test_keys_made_after_the_passphrase_are_wrapped_too(candor_home):
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)  # a fresh profile: nothing to wrap yet
    result = candor("consent", "grant", "microphone", "--yes", CANDOR_PASSPHRASE=PASSPHRASE)
    assert result.returncode == 0, result.stderr
    assert not keystore.key_files(candor_home)
    keyvault.forget()
    held = keyvault.unlock(candor_home.resolve(), PASSPHRASE)
    assert {"consent-ledger", "consent-ledger-anchor"} <= set(held)


def test_the_header_cannot_be_swapped_for_a_cheaper_cost(candor_home):
    """The KDF cost and salt are the AEAD's associated data."""
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
    path = keyvault.vault_path(candor_home)
    path.write_text(path.read_text().replace('"n": 1024', '"n": 512'))
    keyvault.forget()
    result = candor("consent", "verify", CANDOR_PASSPHRASE=PASSPHRASE)
    assert result.returncode == 2
    assert "was changed" in result.stderr


def test_status_says_what_protects_the_keys(candor_home):
    _stored_meeting(candor_home)
    plain = candor("keys", "status")
    assert plain.returncode == 0
    assert "Protection: none" in plain.stdout
    assert "anyone who copies the folder can read your meetings" in plain.stdout.lower()
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
    wrapped = candor("keys", "status")
    assert wrapped.returncode == 0, wrapped.stderr
    assert "Protection: passphrase" in wrapped.stdout
    assert "wrapped with your passphrase" in wrapped.stdout
    assert "scrypt N=2^10" in wrapped.stdout


def _keys_check(home: Path, **env: str) -> dict[str, object]:
    import json

    result = candor("privacy", "check", "--json", **env)
    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    return checks["keys_where_reported"]


def test_report_and_privacy_check_say_what_protects_the_keys(candor_home):
    _stored_meeting(candor_home)
    report = candor("data", "report")
    assert report.returncode == 0, report.stderr
    assert "What protects your keys: none" in report.stdout
    assert "anyone who copies the folder can read your meetings" in report.stdout.lower()
    plain = _keys_check(candor_home)
    assert plain["status"] == "pass"
    assert any("protection in use: none" in line for line in plain["evidence"])

    keys = {n: keystore.read_key_file(p) for n, p in keystore.key_files(candor_home).items()}
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
    wrapped = candor("data", "report", CANDOR_PASSPHRASE=PASSPHRASE)
    assert "What protects your keys: passphrase" in wrapped.stdout
    assert "a weak passphrase can be guessed offline" in wrapped.stdout.lower()
    check = _keys_check(candor_home, CANDOR_PASSPHRASE=PASSPHRASE)
    assert check["status"] == "pass", check
    assert any("protection in use: passphrase" in line for line in check["evidence"])

    # A plain copy left beside the wrapped keys undoes the protection: the check says so.
    keystore.write_key_file("storage-master-key", keys["storage-master-key"], candor_home)
    leaked = _keys_check(candor_home, CANDOR_PASSPHRASE=PASSPHRASE)
    assert leaked["status"] == "fail"
    assert any("also sits in the clear" in line for line in leaked["evidence"])


def test_with_a_keyring_the_report_says_so(candor_home, tmp_path):
    env = {"PYTHON_KEYRING_BACKEND": "tests.support.memory_keyring.FileKeyring",
           "FILE_KEYRING_PATH": str(tmp_path / "os-keyring.json"),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    assert candor("consent", "grant", "microphone", "--yes", **env).returncode == 0
    report = candor("data", "report", **env)
    assert "What protects your keys: keyring" in report.stdout
    refused = candor("keys", "passphrase", "set", CANDOR_PASSPHRASE=PASSPHRASE, **env)
    assert refused.returncode == 2
    assert "OS keyring" in refused.stderr


def test_erase_everything_with_a_passphrase_leaves_no_old_key(candor_home):
    meeting_id, keys = _stored_meeting(candor_home)
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
    erased = candor("data", "erase", "--yes", CANDOR_PASSPHRASE=PASSPHRASE)
    assert erased.returncode == 0, erased.stdout + erased.stderr
    keyvault.forget()
    held = keyvault.unlock(candor_home.resolve(), PASSPHRASE)
    assert "storage-master-key" not in held
    assert keys["consent-ledger"] != held.get("consent-ledger"), "a new ledger, a new key"
    assert candor("consent", "verify", CANDOR_PASSPHRASE=PASSPHRASE).returncode == 0
    assert not keystore.key_files(candor_home)
    gone = candor("meetings", "show", meeting_id, CANDOR_PASSPHRASE=PASSPHRASE)
    assert gone.returncode == 2
    assert SAID not in gone.stdout


def test_two_processes_adding_keys_under_one_passphrase_keep_both(candor_home):
    """Each change re-reads the wrapped file under its lock: a process unlocked earlier does not
    write back its stale copy over a key another process added meanwhile."""
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
    mine = keystore.get_or_create_secret("storage-master-key", home=candor_home)
    other = subprocess.run(
        [sys.executable, "-c", "from app import keystore; "
         "print(keystore.get_or_create_secret('model-records').hex())"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        env={**os.environ, "CANDOR_PASSPHRASE": PASSPHRASE})
    assert other.returncode == 0, other.stderr
    keystore.get_or_create_secret("consent-ledger", home=candor_home)  # written by this one
    keyvault.forget()
    held = keyvault.unlock(candor_home.resolve(), PASSPHRASE)
    assert held["storage-master-key"] == mine
    assert held["model-records"].hex() == other.stdout.strip()
    assert "consent-ledger" in held


def test_a_damaged_wrapped_keys_file_is_named_and_left_as_it_is(candor_home):
    meeting_id, _keys = _stored_meeting(candor_home)
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
    path = keyvault.vault_path(candor_home)
    path.write_text("{ not json")
    verify = candor("consent", "verify", CANDOR_PASSPHRASE=PASSPHRASE)
    assert verify.returncode == 1
    assert "wrapped-keys.json cannot be read" in verify.stdout
    shown = candor("meetings", "show", meeting_id, CANDOR_PASSPHRASE=PASSPHRASE)
    assert shown.returncode == 1
    assert "wrapped-keys.json cannot be read" in shown.stderr
    assert path.read_text() == "{ not json", "nothing replaced the damaged file"
    assert not keystore.key_files(candor_home), "and no new key was made beside it"
