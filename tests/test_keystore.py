"""Secrets live in the OS keyring when there is one, else in a 0600 file; never silently
replaced."""

from __future__ import annotations

import stat

import keyring
import pytest
from keyring.backends import fail

from app import keystore
from tests.support.memory_keyring import FileKeyring


@pytest.fixture
def os_keyring(tmp_path):
    """Stands in for the OS keyring (none can run here): a real keyring backend, in a file."""
    previous = keyring.get_keyring()
    backend = FileKeyring(tmp_path / "os-keyring.json")
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def test_without_a_keyring_the_secret_is_a_private_file(candor_home):
    assert keystore.get_secret("ledger-hmac") is None
    secret = keystore.get_or_create_secret("ledger-hmac")
    assert len(secret) == 32
    assert keystore.get_or_create_secret("ledger-hmac") == secret
    key_file = candor_home / "keys" / "ledger-hmac.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    location = keystore.secret_location("ledger-hmac")
    assert location is not None
    assert location.kind == "file"
    assert str(key_file) in location.describe()


def test_a_loosened_key_file_is_made_private_again(candor_home):
    secret = keystore.get_or_create_secret("ledger-hmac")
    key_file = candor_home / "keys" / "ledger-hmac.key"
    key_file.chmod(0o644)
    assert keystore.get_secret("ledger-hmac") == secret
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_with_a_keyring_the_secret_is_in_it_and_not_on_disk(candor_home, tmp_path, os_keyring):
    secret = keystore.get_or_create_secret("storage-master-key")
    assert not (candor_home / "keys" / "storage-master-key.key").exists()
    entries = os_keyring.entries()
    assert len(entries) == 1
    (entry,) = entries
    assert entry.startswith("Candor\x00storage-master-key")
    assert str(candor_home.resolve()) in entry
    location = keystore.secret_location("storage-master-key")
    assert location is not None
    assert location.kind == "keyring"
    assert "FileKeyring" in location.describe()
    assert keystore.get_secret("storage-master-key") == secret

    # Another data directory gets its own entry and its own secret.
    other_home = tmp_path / "other-home"
    other = keystore.get_or_create_secret("storage-master-key", home=other_home)
    assert other != secret
    assert len(os_keyring.entries()) == 2
    assert keystore.get_secret("storage-master-key") == secret


def test_a_keyring_that_disappears_is_an_error_not_a_new_key(candor_home, os_keyring):
    keystore.get_or_create_secret("storage-master-key")
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(keystore.SecretUnavailable, match="keyring"):
        keystore.get_or_create_secret("storage-master-key")
    assert not (candor_home / "keys" / "storage-master-key.key").exists()
    keyring.set_keyring(os_keyring)
    os_keyring.delete_password("Candor", keystore.keyring_username("storage-master-key"))
    with pytest.raises(keystore.SecretUnavailable, match="missing"):
        keystore.get_secret("storage-master-key")


@pytest.mark.parametrize("where", ["file", "keyring"])
def test_delete_destroys_the_secret(candor_home, tmp_path, where):
    previous = keyring.get_keyring()
    backend = FileKeyring(tmp_path / "os-keyring.json")
    if where == "keyring":
        keyring.set_keyring(backend)
    try:
        first = keystore.get_or_create_secret("ledger-hmac")
        assert keystore.delete_secret("ledger-hmac") is True
        assert keystore.secret_location("ledger-hmac") is None
        assert keystore.get_secret("ledger-hmac") is None
        assert backend.entries() == {}
        assert keystore.delete_secret("ledger-hmac") is False
        assert keystore.get_or_create_secret("ledger-hmac") != first
    finally:
        keyring.set_keyring(previous)


def test_bad_names_are_refused():
    with pytest.raises(ValueError, match="secret name"):
        keystore.get_or_create_secret("../escape")
