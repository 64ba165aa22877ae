"""Any change to the stored ledger is caught by `verify`, which names the first bad record."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys

import pytest

from app.consent import LedgerError, open_gate
from app.consent.ledger import GENESIS_HASH, LedgerRecord

PURPOSES_USED = ["microphone", "transcription", "noise_suppression", "transcript_storage"]


@pytest.fixture
def ledger_home(candor_home):
    gate = open_gate(candor_home)
    for purpose in PURPOSES_USED:
        gate.grant(purpose, via="test")
    gate.withdraw("noise_suppression", via="test")
    assert gate.ledger.verify().ok
    records = gate.ledger.records()
    gate.close()
    return candor_home, records


def _raw(home):
    conn = sqlite3.connect(home / "consent-ledger.sqlite3", isolation_level=None)
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute("DROP TRIGGER records_no_delete")
    return conn


def _verify(home):
    gate = open_gate(home)
    try:
        return gate.ledger.verify(), gate
    finally:
        gate.close()


def test_intact_ledger_verifies(ledger_home):
    home, records = ledger_home
    result, _ = _verify(home)
    assert result.ok
    assert result.checked == len(records) == 5
    assert result.head_hash == records[-1].record_hash


def test_sql_level_edits_are_refused(ledger_home):
    home, _ = ledger_home
    conn = sqlite3.connect(home / "consent-ledger.sqlite3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE records SET state = 'given' WHERE seq = 5")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM records WHERE seq = 5")


def test_one_changed_byte_in_the_file_is_caught(ledger_home):
    home, records = ledger_home
    path = home / "consent-ledger.sqlite3"
    data = bytearray(path.read_bytes())
    target = records[2].record_id.encode()
    offset = data.find(target)
    assert offset > 0
    data[offset] = ord("f") if data[offset] != ord("f") else ord("e")
    path.write_bytes(bytes(data))
    result, _ = _verify(home)
    assert not result.ok
    assert result.first_bad_seq == 3


def test_changed_state_is_caught(ledger_home):
    home, _ = ledger_home
    _raw(home).execute("UPDATE records SET state = 'given' WHERE seq = 5")
    result, gate = _verify(home)
    assert not result.ok
    assert result.first_bad_seq == 5
    assert "keyed hash" in result.reason
    assert not gate.allowed("noise_suppression"), "a forged grant must not be honoured"
    assert not gate.allowed("microphone"), "an untrusted ledger allows nothing"


def test_deleted_record_is_caught(ledger_home):
    home, records = ledger_home
    _raw(home).execute("DELETE FROM records WHERE seq = 2")
    result, _ = _verify(home)
    assert not result.ok
    assert result.first_bad_seq == 2
    assert result.first_bad_record_id == records[2].record_id


def test_last_record_cut_off_is_caught(ledger_home):
    home, _ = ledger_home
    _raw(home).execute("DELETE FROM records WHERE seq = 5")
    result, _ = _verify(home)
    assert not result.ok
    assert "removed from the end" in result.reason


def test_swapped_records_are_caught(ledger_home):
    home, _records = ledger_home
    conn = _raw(home)
    cols = "record_id, event_time, purpose, state, notice_sha256, prev_hash, record_hash"
    a = conn.execute(f"SELECT {cols} FROM records WHERE seq = 2").fetchone()
    b = conn.execute(f"SELECT {cols} FROM records WHERE seq = 3").fetchone()
    conn.execute("UPDATE records SET record_id = 'tmp' WHERE seq = 3")
    for seq, row in ((2, b), (3, a)):
        conn.execute(
            "UPDATE records SET record_id=?, event_time=?, purpose=?, state=?, notice_sha256=?, "
            "prev_hash=?, record_hash=? WHERE seq = ?",
            (*row, seq),
        )
    result, _ = _verify(home)
    assert not result.ok
    assert result.first_bad_seq == 2


def test_inserted_record_with_recomputed_plain_hashes_is_caught(ledger_home):
    """A forger who rebuilds the chain with plain SHA-256 cannot produce the keyed hashes."""
    home, records = ledger_home
    conn = _raw(home)
    conn.execute("DELETE FROM records WHERE seq >= 3")
    forged = LedgerRecord(
        seq=3,
        record_id="forged",
        event_time=records[2].event_time,
        purpose="recording_storage",
        state="given",
        type="explicit",
        notice_version=1,
        notice_sha256=records[2].notice_sha256,
        collection_method="panel",
        app_version=records[2].app_version,
        delete_data_requested=None,
        prev_hash=records[1].record_hash,
        record_hash="",
    )
    chain = [forged, *records[2:]]
    prev = records[1].record_hash
    for seq, rec in enumerate(chain, start=3):
        fields = {**rec.to_dict(), "seq": seq, "prev_hash": prev, "record_hash": ""}
        payload = json.dumps(
            {k: v for k, v in fields.items() if k != "record_hash"},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        fields["record_hash"] = hashlib.sha256(payload).hexdigest()
        prev = fields["record_hash"]
        conn.execute(
            f"INSERT INTO records ({', '.join(fields)}) VALUES ({', '.join('?' * len(fields))})",
            tuple(fields.values()),
        )
    result, gate = _verify(home)
    assert not result.ok
    assert result.first_bad_seq == 3
    assert result.first_bad_record_id == "forged"
    assert not gate.allowed("recording_storage")


def test_cli_verify_exits_1_and_names_the_record(ledger_home):
    home, records = ledger_home
    _raw(home).execute("UPDATE records SET purpose = 'recording_storage' WHERE seq = 4")
    result = subprocess.run(
        [sys.executable, "-m", "app", "consent", "verify"], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "record #4" in result.stdout
    assert records[3].record_id in result.stdout


def test_missing_key_means_cannot_verify_and_why(ledger_home):
    home, _ = ledger_home
    (home / "keys" / "consent-ledger.key").unlink()
    result, gate = _verify(home)
    assert not result.ok
    assert "cannot be verified because its key is missing" in result.reason
    assert not gate.allowed("microphone")
    cli = subprocess.run(
        [sys.executable, "-m", "app", "consent", "verify"], capture_output=True, text=True
    )
    assert cli.returncode == 1
    assert "key is missing" in cli.stdout


def test_corrupt_ledger_is_reported_and_never_overwritten(candor_home):
    candor_home.mkdir(parents=True, exist_ok=True)
    path = candor_home / "consent-ledger.sqlite3"
    garbage = b"this is not a database\x00" * 500
    path.write_bytes(garbage)
    with pytest.raises(LedgerError, match="unreadable"):
        open_gate(candor_home)
    for args in (["consent", "list"], ["consent", "grant", "microphone", "--yes"]):
        result = subprocess.run(
            [sys.executable, "-m", "app", *args], capture_output=True, text=True
        )
        assert result.returncode == 1
        assert "left untouched" in result.stderr
    assert path.read_bytes() == garbage


def test_a_fresh_ledger_starts_at_the_genesis_hash(candor_home):
    gate = open_gate(candor_home)
    record = gate.grant("microphone", via="test")
    assert record.prev_hash == GENESIS_HASH
    assert record.seq == 1
