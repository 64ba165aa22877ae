"""Encryption at rest, checked the way an attacker with the disk would: by reading raw bytes."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from app import keystore
from app.logging_setup import _FORMAT
from app.paths import logs_dir
from app.storage import DataDamaged, crypto, open_store
from app.storage.database import DB_NAME
from app.storage.models import DAMAGED_SEGMENT_TEXT
from tests.support.storage import (
    files_containing,
    granted_gate,
    record_meeting,
    speech_sentences,
)

TITLE = "Quarterly budget with Marguerite"


@pytest.fixture
def file_log(candor_home):
    """Everything the storage code logs, at every level, goes to the data directory's log."""
    handler = logging.FileHandler(logs_dir() / "candor.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield logs_dir() / "candor.log"
    root.removeHandler(handler)
    root.setLevel(old_level)
    handler.close()


def _words(sentences: list[str]) -> list[bytes]:
    words = {w.strip(",.").lower() for s in sentences for w in s.split()}
    return sorted(w.encode() for w in words if len(w) >= 6)


def _sealed_values(mid: str) -> list[bytes]:
    conn = sqlite3.connect(data_dir_db())
    values = [r[0] for r in conn.execute("SELECT text FROM segments WHERE meeting_id = ?",
                                         (mid,))]
    values += [r[0] for r in conn.execute("SELECT title FROM meetings WHERE id = ?", (mid,))]
    values += [r[0] for r in conn.execute(
        "SELECT wrapped FROM meeting_keys WHERE meeting_id = ?", (mid,))]
    conn.close()
    return values


def data_dir_db():
    from app.paths import data_dir

    return data_dir() / DB_NAME


def test_no_transcript_word_is_on_disk_while_stored_or_after_delete(
    candor_home, shared_data, file_log
):
    sentences = speech_sentences()
    needles = [*_words(sentences), *(s.encode() for s in sentences), b"Marguerite",
               b"Quarterly"]
    assert len(needles) > 30
    gate = granted_gate()
    # Consent notices (in the ledger) and the schema (a segment's source is 'microphone' or
    # 'system') are ordinary English: a word already on disk before any meeting was stored is
    # no evidence either way, so only new occurrences count.
    store = open_store()
    before = set(files_containing(candor_home, needles))
    kept = record_meeting(store, gate, sentences[:3], title="Other meeting")
    mid = record_meeting(store, gate, sentences, title=TITLE)
    store.rename(mid, TITLE + " (final)")
    assert store.search("americans")  # the text is really there, and searchable

    # While the store is open: database, WAL and SHM, ledger, logs, keys — every file.
    assert (candor_home / (DB_NAME + "-wal")).exists()
    assert (candor_home / "consent-ledger.sqlite3").exists()
    assert file_log.stat().st_size > 0

    known = {needle for _, needle in before}  # SQLite moves pages between the WAL and the db

    def leaks() -> list[tuple[object, bytes]]:
        return [hit for hit in files_containing(candor_home, needles) if hit[1] not in known]

    assert leaks() == []
    assert len(before) < len(needles) // 10  # most needles really were checked

    sealed = _sealed_values(mid)
    assert len(sealed) == len(sentences) + 2
    store.delete(mid)
    assert leaks() == []
    # Crypto-shredding and secure_delete: the deleted meeting's sealed text and its wrapped key
    # are gone from the database and the WAL, not merely unlinked from an index.
    assert files_containing(candor_home, sealed) == []
    assert store.get(kept).title == "Other meeting"
    store.close()
    assert leaks() == []


def test_the_key_file_is_outside_the_database(candor_home):
    gate = granted_gate()
    with open_store() as store:
        record_meeting(store, gate, ["hello"])
    master = keystore.get_secret(crypto.MASTER_KEY_NAME)
    assert master is not None
    location = keystore.secret_location(crypto.MASTER_KEY_NAME)
    assert location is not None
    assert location.kind == "file"
    import base64

    encoded = base64.b64encode(master)
    assert files_containing(candor_home, [master, encoded]) == [
        (candor_home / "keys" / "storage-master-key.key", encoded)
    ]


def test_swapped_segment_rows_fail_authentication(candor_home):
    gate = granted_gate()
    store = open_store()
    mid = record_meeting(store, gate, ["pay Alice", "not Bob", "on Friday"])
    raw = sqlite3.connect(data_dir_db())
    rows = dict(raw.execute("SELECT seq, text FROM segments WHERE meeting_id = ?", (mid,)))
    raw.execute("UPDATE segments SET text = ? WHERE meeting_id = ? AND seq = 0", (rows[1], mid))
    raw.execute("UPDATE segments SET text = ? WHERE meeting_id = ? AND seq = 1", (rows[0], mid))
    raw.commit()
    raw.close()
    meeting = store.get(mid)
    # Neither swapped text is shown in the other's place; the intact one still is.
    assert [s.text for s in meeting.segments] == [DAMAGED_SEGMENT_TEXT, DAMAGED_SEGMENT_TEXT,
                                                  "on Friday"]
    assert meeting.damaged == (0, 1)
    store.close()


def test_relabelling_the_others_words_as_yours_fails_authentication(candor_home):
    """Who spoke is part of what is sealed: editing the database cannot put the others' words
    in the user's mouth (or the reverse) without it showing as damage."""
    from app.segments import Segment
    from app.storage.sink import StoredMeetingSink

    gate = granted_gate()
    store = open_store()
    sink = StoredMeetingSink(store, gate, source="listen", title="Call", device="Virtual mic",
                             model="tiny.en", language="en")
    sink.on_final(Segment(0.0, 2.0, "I will send the contract", source="microphone"))
    sink.on_final(Segment(2.0, 4.0, "we never agreed to that", source="system"))
    store.finish(sink.meeting_id)
    mid = sink.meeting_id
    assert [(s.source, s.text) for s in store.get(mid).segments] == [
        ("microphone", "I will send the contract"), ("system", "we never agreed to that")]
    raw = sqlite3.connect(data_dir_db())
    raw.execute("UPDATE segments SET source = 'microphone' WHERE meeting_id = ? AND seq = 1",
                (mid,))
    raw.commit()
    raw.close()
    meeting = store.get(mid)
    assert [s.text for s in meeting.segments] == ["I will send the contract",
                                                  DAMAGED_SEGMENT_TEXT]
    assert meeting.damaged == (1,)
    store.close()


def test_a_value_sealed_before_sources_were_bound_still_opens():
    key = crypto.new_key()
    legacy = crypto.seal_text(key, "m", "segment", 3, "old words")
    assert crypto.open_spoken(key, "m", "segment", 3, "microphone", legacy) == "old words"
    bound = crypto.seal_spoken(key, "m", "segment", 3, "system", "new words")
    assert crypto.open_spoken(key, "m", "segment", 3, "system", bound) == "new words"
    with pytest.raises(crypto.DecryptionFailed):
        crypto.open_spoken(key, "m", "segment", 3, "microphone", bound)
    downgraded = b"\x01" + bound[1:]  # claiming the unbound format does not drop the binding
    with pytest.raises(crypto.DecryptionFailed):
        crypto.open_spoken(key, "m", "segment", 3, "system", downgraded)


def test_a_title_moved_to_another_meeting_fails_authentication(candor_home):
    gate = granted_gate()
    store = open_store()
    a = record_meeting(store, gate, ["a"], title="Board meeting")
    b = record_meeting(store, gate, ["b"], title="Lunch")
    raw = sqlite3.connect(data_dir_db())
    (title_a,) = raw.execute("SELECT title FROM meetings WHERE id = ?", (a,)).fetchone()
    raw.execute("UPDATE meetings SET title = ? WHERE id = ?", (title_a, b))
    # Moving a wrapped key is caught too: b's key unwraps only under b's id.
    (key_a,) = raw.execute("SELECT wrapped FROM meeting_keys WHERE meeting_id = ?",
                           (a,)).fetchone()
    raw.commit()
    raw.close()
    listed = {m.id: m for m in store.list_meetings()}
    assert listed[a].title == "Board meeting"
    assert listed[b].title is None
    assert "failed authentication" in (listed[b].error or "")
    with pytest.raises(DataDamaged):
        store.get(b)
    with pytest.raises(crypto.DecryptionFailed):
        crypto.unwrap_key(keystore.get_secret(crypto.MASTER_KEY_NAME) or b"", b, key_a)
    store.close()


def test_the_wrong_master_key_opens_nothing(candor_home):
    gate = granted_gate()
    with open_store() as store:
        mid = record_meeting(store, gate, ["secret plans"], title="Secret")
    keystore.delete_secret(crypto.MASTER_KEY_NAME)
    keystore.get_or_create_secret(crypto.MASTER_KEY_NAME)  # a different key
    with open_store() as store:
        (summary,) = store.list_meetings()
        assert summary.title is None
        assert "key is wrong" in (summary.error or "")
        with pytest.raises(DataDamaged, match="key is wrong"):
            store.get(mid)
        result = store.search("secret")
        assert result.hits == []
        assert result.unreadable_meetings == [mid]  # not found, and said so


def test_a_missing_master_key_is_reported_not_replaced(candor_home):
    gate = granted_gate()
    with open_store() as store:
        mid = record_meeting(store, gate, ["secret plans"])
    keystore.delete_secret(crypto.MASTER_KEY_NAME)
    with open_store() as store:
        (summary,) = store.list_meetings()
        assert "master key is missing" in (summary.error or "")
        with pytest.raises(DataDamaged, match="master key is missing"):
            store.get(mid)
        # Deleting still works without the key.
        store.delete(mid)
    assert keystore.secret_location(crypto.MASTER_KEY_NAME) is None


def test_each_value_gets_a_fresh_nonce():
    key = crypto.new_key()
    one = crypto.seal_text(key, "m", "segment", 0, "same words")
    two = crypto.seal_text(key, "m", "segment", 0, "same words")
    assert one != two
    assert one[1:13] != two[1:13]
    assert crypto.open_text(key, "m", "segment", 0, one) == "same words"
    with pytest.raises(crypto.DecryptionFailed):
        crypto.open_text(key, "m", "segment", 1, one)
    with pytest.raises(crypto.DecryptionFailed):
        crypto.open_text(key, "m", "title", None, one)
    with pytest.raises(crypto.DecryptionFailed):
        crypto.open_text(crypto.new_key(), "m", "segment", 0, one)


def test_with_an_os_keyring_the_master_key_never_touches_the_data_directory(
    candor_home, tmp_path
):
    import keyring

    from app.storage import build_report
    from tests.support.memory_keyring import FileKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring(tmp_path / "os-keyring.json"))
    try:
        gate = granted_gate()
        with open_store() as store:
            mid = record_meeting(store, gate, ["kept under the keyring"])
            transcripts = build_report(store, gate=gate).to_dict()["categories"][0]
            assert transcripts["key_kind"] == "keyring"
            assert "OS keyring" in transcripts["key_location"]
        master = keystore.get_secret(crypto.MASTER_KEY_NAME)
        assert master is not None
        assert not (candor_home / "keys" / f"{crypto.MASTER_KEY_NAME}.key").exists()
        assert files_containing(candor_home, [master]) == []
        with open_store() as store:
            assert [s.text for s in store.get(mid).segments] == ["kept under the keyring"]
    finally:
        keyring.set_keyring(previous)
