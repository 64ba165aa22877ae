"""The gate: the one answer to "may P run now?", its listeners, re-consent and its guarantee."""

from __future__ import annotations

import linecache
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import keyring
import pytest

from app.consent import (
    PURPOSES,
    ConsentGate,
    ConsentRequired,
    LedgerTampered,
    NoticeCatalog,
    open_gate,
)
from tests.consent.helpers import bump_notice, copy_notices
from tests.support.memory_keyring import FileKeyring


def test_every_purpose_starts_not_given(candor_home):
    gate = open_gate()
    assert [s.state for s in gate.states()] == ["not_given"] * len(PURPOSES)
    assert not any(gate.allowed(p) for p in PURPOSES)
    assert gate.ledger.records() == []


def test_granting_one_grants_no_other(candor_home):
    gate = open_gate()
    record = gate.grant("transcription", via="test")
    assert [p for p in PURPOSES if gate.allowed(p)] == ["transcription"]
    assert gate.record_id("transcription") == record.record_id
    assert gate.require("transcription") == record.record_id


def test_require_all_names_each_missing_purpose(candor_home):
    gate = open_gate()
    gate.grant("transcription", via="test")
    with pytest.raises(ConsentRequired) as caught:
        gate.require_all(["microphone", "transcription", "noise_suppression"])
    assert caught.value.purposes == ["microphone", "noise_suppression"]
    assert "candor consent grant microphone" in str(caught.value)
    assert "candor consent grant noise_suppression" in str(caught.value)
    assert gate.missing(["microphone", "transcription"]) == ["microphone"]


def test_withdrawal_tells_listeners_at_once(candor_home):
    gate = open_gate()
    gate.grant("microphone", via="test")
    heard: list[tuple[str, bool]] = []
    unsubscribe = gate.on_withdrawn(lambda p: heard.append((p, gate.allowed(p))))
    gate.grant("transcription", via="test")
    assert heard == []
    gate.withdraw("microphone", via="panel")
    assert heard == [("microphone", False)], "listener runs after the gate closed"
    unsubscribe()
    gate.grant("microphone", via="test")
    gate.withdraw("microphone", via="panel")
    assert len(heard) == 1


def wait_until(condition, what: str, timeout: float = 60.0) -> None:
    """Wait for a condition (generous timeout: the machine may be busy), never a fixed time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.01)


def blocked_in_withdraw(thread: threading.Thread) -> bool:
    """The thread is inside ConsentGate.withdraw, waiting at its `with self._lock:` line: its
    innermost Python frame is withdraw's, stopped there (acquiring a lock adds no frame)."""
    frame = sys._current_frames().get(thread.ident or -1)
    if frame is None or frame.f_code is not ConsentGate.withdraw.__code__:
        return False
    return linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip() == (
        "with self._lock:")


def test_guard_orders_work_before_a_withdrawal_in_this_process(candor_home):
    gate = open_gate()
    gate.grant("transcription", via="test")
    order: list[str] = []
    withdrawing = threading.Thread(
        target=lambda: (gate.withdraw("transcription", via="panel"),
                        order.append("withdrawal recorded")))

    with gate.guard("transcription"):
        withdrawing.start()
        # Proven, not assumed: the withdrawal is waiting for this guard to end...
        wait_until(lambda: blocked_in_withdraw(withdrawing), "the withdrawal waits on the guard")
        assert gate.allowed("transcription")
        assert order == []
        order.append("caption emitted")  # ...so the work inside it finishes first
    withdrawing.join(timeout=60)
    assert order == ["caption emitted", "withdrawal recorded"]
    with pytest.raises(ConsentRequired), gate.guard("transcription"):
        order.append("must not happen")
    assert order[-1] == "withdrawal recorded"


def sleeping_in_busy_wait(pid: int) -> bool:
    """The process sleeps in the kernel, as SQLite's busy handler does between retries."""
    try:
        return "nanosleep" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


def test_guard_holds_off_a_withdrawal_from_another_process(candor_home):
    """`candor consent revoke` in a terminal cannot record its withdrawal in the middle of an
    emission here; the next guard sees it and refuses."""
    gate = open_gate()
    gate.grant("transcription", via="test")
    journal = candor_home / "consent-ledger.sqlite3-journal"
    with gate.guard("transcription"):
        revoke = subprocess.Popen(
            [sys.executable, "-m", "app", "consent", "revoke", "transcription"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Proven by what the other process is doing, not by how long it took: it has begun
        # writing its record (its rollback journal exists) and its commit is waiting, retried
        # by SQLite's busy handler, for this guard's read lock to go.
        wait_until(lambda: journal.exists() and sleeping_in_busy_wait(revoke.pid),
                   "the revoke process waits to commit")
        assert revoke.poll() is None, "the other process recorded during our emission"
        assert gate.ledger.tail_seq() == 1
    _out, err = revoke.communicate(timeout=60)
    assert revoke.returncode == 0, err
    with pytest.raises(ConsentRequired), gate.guard("transcription"):
        pass
    assert not gate.allowed("transcription")


def test_watching_picks_up_a_withdrawal_made_elsewhere(candor_home):
    gate = open_gate()
    gate.grant("microphone", via="test")
    heard = threading.Event()
    gate.on_withdrawn(lambda p: heard.set() if p == "microphone" else None)
    gate.start_watching(interval=0.05)
    try:
        other = open_gate()
        other.withdraw("microphone", via="cli")
        assert heard.wait(5)
        assert not gate.allowed("microphone")
    finally:
        gate.close()


def test_changed_notice_needs_consent_again(candor_home, tmp_path):
    notices = copy_notices(tmp_path)
    gate = open_gate(candor_home, NoticeCatalog(notices))
    gate.grant("transcription", via="test")
    gate.grant("microphone", via="test")
    bump_notice(notices, "transcription")
    gate.close()
    gate = open_gate(candor_home, NoticeCatalog(notices))
    state = gate.state("transcription")
    assert state.state == "reconsent_needed"
    assert state.notice_version == 1
    assert state.current_version == 2
    assert not gate.allowed("transcription")
    assert gate.allowed("microphone")
    last = gate.ledger.records()[-1]
    assert (last.purpose, last.state, last.type, last.notice_version) == (
        "transcription",
        "reconsent_needed",
        "system",
        2,
    )
    with pytest.raises(ConsentRequired, match="notice changed"):
        gate.require("transcription")
    gate.close()
    gate = open_gate(candor_home, NoticeCatalog(notices))
    assert len([r for r in gate.ledger.records() if r.state == "reconsent_needed"]) == 1
    gate.grant("transcription", via="dialog")
    assert gate.allowed("transcription")
    assert gate.ledger.records()[-1].notice_version == 2


def test_records_hold_the_exact_notice_hash_and_where_it_happened(candor_home):
    gate = open_gate()
    record = gate.grant("microphone", via="meeting_toolbar")
    notice = gate.notices.current("microphone")
    assert record.notice_sha256 == notice.sha256
    assert record.collection_method == "meeting_toolbar"
    assert record.event_time.endswith("Z")
    withdrawal = gate.withdraw("microphone", via="panel", delete_data=True)
    assert withdrawal.delete_data_requested is True
    assert withdrawal.prev_hash == record.record_hash


def test_model_download_is_single_use(candor_home):
    gate = open_gate()
    gate.grant("model_download", via="dialog")
    assert gate.allowed("model_download")
    record = gate.expire("model_download")
    assert record.state == "expired"
    assert not gate.allowed("model_download")
    assert gate.state("model_download").state == "not_given"


def test_untrusted_ledger_refuses_new_records(candor_home):
    gate = open_gate()
    gate.grant("microphone", via="test")
    gate.close()
    (candor_home / "consent-ledger.head").unlink()
    gate = open_gate()
    assert not gate.integrity.ok
    with pytest.raises(LedgerTampered, match="new-ledger"):
        gate.grant("transcription", via="test")


def test_key_file_is_private_when_there_is_no_keyring(candor_home):
    gate = open_gate()
    gate.grant("microphone", via="test")
    key = candor_home / "keys" / "consent-ledger.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert gate.ledger.key not in (candor_home / "consent-ledger.sqlite3").read_bytes()
    assert str(key) in gate.ledger.verify().key_location


def test_key_lives_in_the_os_keyring_when_there_is_one(candor_home, tmp_path):
    backend = FileKeyring(tmp_path / "keyring.json")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        gate = open_gate()
        gate.grant("microphone", via="test")
        assert not (candor_home / "keys" / "consent-ledger.key").exists()
        assert gate.ledger.verify().ok
        assert "OS keyring" in gate.ledger.verify().key_location
        gate.close()
        (tmp_path / "keyring.json").unlink()  # the keyring lost its entry
        reopened = open_gate()
        assert not reopened.integrity.ok
        assert "key is missing" in reopened.integrity.reason
        assert not reopened.allowed("microphone")
    finally:
        keyring.set_keyring(previous)


def test_erase_leaves_only_the_record_of_the_erase(candor_home):
    gate = open_gate()
    for purpose in ("microphone", "transcription"):
        gate.grant(purpose, via="test")
    heard: list[str] = []
    gate.on_withdrawn(heard.append)
    gate.record_erase(via="cli")
    records = gate.ledger.records()
    assert [(r.purpose, r.state) for r in records] == [("*", "data_erased")]
    assert not any(gate.allowed(p) for p in PURPOSES)
    assert sorted(heard) == ["microphone", "transcription"]
    assert open_gate().ledger.verify().ok


def test_notes_are_recorded_but_never_change_a_purpose_state(gate):
    from app.consent.purposes import SYSTEM_AUDIO

    with pytest.raises(ConsentRequired):
        gate.record_note(SYSTEM_AUDIO, "participants_informed", via="test")
    grant = gate.grant(SYSTEM_AUDIO, via="test")
    note = gate.record_note(SYSTEM_AUDIO, "participants_informed", via="meeting_toolbar")
    assert gate.allowed(SYSTEM_AUDIO)
    assert gate.record_id(SYSTEM_AUDIO) == grant.record_id  # the grant in force is unchanged
    assert [r.record_id for r in gate.notes(SYSTEM_AUDIO)] == [note.record_id]
    assert note.notice_version == grant.notice_version
    gate.withdraw(SYSTEM_AUDIO, via="test")
    assert not gate.allowed(SYSTEM_AUDIO)
    with pytest.raises(ValueError, match="not a note"):
        gate.record_note(SYSTEM_AUDIO, "given", via="test")
    assert gate.ledger.verify().ok
