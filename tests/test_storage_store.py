"""The meeting store: consent before storing, captions stored as they arrive, history actions,
and schema migrations. Real SQLite and real AES-GCM throughout."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from app import keystore
from app.paths import data_dir
from app.segments import Segment
from app.storage import (
    ConsentRequired,
    MeetingGone,
    SchemaTooNew,
    StoredMeetingSink,
    UnknownMeeting,
    crypto,
    open_store,
)
from app.storage.database import DB_NAME, connect
from app.storage.schema import LATEST_VERSION, migrate, schema_version
from tests.support.processes import dead_process, owned_by
from tests.support.storage import granted_gate, record_meeting, segments_from

pytestmark = pytest.mark.grant("transcript_storage", "transcription")


@pytest.fixture
def store(candor_home):
    handle = open_store()
    yield handle
    handle.close()


def test_without_transcript_storage_nothing_is_stored(candor_home, store):
    gate = granted_gate(["transcription"])
    with pytest.raises(ConsentRequired) as caught:
        StoredMeetingSink(store, gate, source="window", title="Private chat")
    assert "transcript_storage" in caught.value.purposes
    assert "candor consent grant transcript_storage" in str(caught.value)
    assert store.list_meetings() == []
    # Not even a key was made for data that may not be kept.
    assert keystore.secret_location(crypto.MASTER_KEY_NAME) is None


def test_finals_are_stored_as_they_arrive_and_partials_never(store, gate):
    sink = StoredMeetingSink(store, gate, source="listen", title="Standup", model="tiny.en",
                             device="Virtual mic", language="en")
    sink.on_partial(Segment(0.0, 1.0, "ask not wha", final=False))
    sink.on_final(Segment(0.0, 2.0, "Ask not what your country can do for you."))
    # A second store (as another process would) already sees the committed caption.
    with open_store() as reader:
        assert [s.text for s in reader.get(sink.meeting_id).segments] == [
            "Ask not what your country can do for you."
        ]
    sink.on_partial(Segment(2.0, 3.0, "ask what", final=False))
    sink.on_final(Segment(2.0, 4.0, "Ask what you can do for your country."))
    meeting = store.get(sink.meeting_id)
    assert [s.text for s in meeting.segments] == [
        "Ask not what your country can do for you.",
        "Ask what you can do for your country.",
    ]
    summary = meeting.summary
    assert (summary.title, summary.source, summary.model, summary.device, summary.language) == (
        "Standup", "listen", "tiny.en", "Virtual mic", "en")
    assert summary.ended is None
    assert summary.consent == {
        "transcript_storage": [gate.record_id("transcript_storage")],
        "transcription": [gate.record_id("transcription")],
    }


def test_final_pass_replaces_live_captions_in_one_go(store, gate):
    sink = StoredMeetingSink(store, gate, source="window")
    for seg in segments_from(["and so my", "fellow americans", "ask not"]):
        sink.on_final(seg)
    final_pass = [Segment(0.0, 3.1, "And so my fellow Americans,"),
                  Segment(3.1, 5.0, "ask not what your country can do for you.")]
    sink.on_finished(final_pass)
    meeting = store.get(sink.meeting_id)
    assert meeting.segments == final_pass
    assert meeting.summary.ended is not None


def test_an_empty_final_pass_keeps_the_live_captions(store, gate):
    sink = StoredMeetingSink(store, gate, source="window")
    live = segments_from(["the horizon seems", "extremely distant"])
    for seg in live:
        sink.on_final(seg)
    sink.on_finished([])
    assert store.get(sink.meeting_id).segments == live


def test_withdrawing_storage_mid_meeting_stops_storing_but_keeps_what_was_stored(store, gate):
    stopped = []
    sink = StoredMeetingSink(store, gate, source="window", on_storage_stopped=stopped.append)
    sink.on_final(Segment(0, 1, "before the withdrawal"))
    gate.withdraw("transcript_storage", via="test")
    sink.on_final(Segment(1, 2, "after the withdrawal"))
    sink.on_finished([Segment(0, 2, "before the withdrawal after the withdrawal")])
    assert len(stopped) == 1
    assert "withdrawn" in stopped[0]
    meeting = store.get(sink.meeting_id)
    assert [s.text for s in meeting.segments] == ["before the withdrawal"]
    assert meeting.summary.ended is not None  # its retention clock runs


def test_a_meeting_deleted_while_recording_stops_the_sink(store, gate):
    stopped = []
    sink = StoredMeetingSink(store, gate, source="window", on_storage_stopped=stopped.append)
    sink.on_final(Segment(0, 1, "first"))
    with open_store() as other:
        other.delete(sink.meeting_id)
    sink.on_final(Segment(1, 2, "second"))
    assert stopped
    assert "no longer exists" in stopped[0]
    with pytest.raises(MeetingGone):
        store.append_final(sink.meeting_id, Segment(2, 3, "third"), gate)
    assert store.list_meetings() == []


def test_list_search_rename_delete(store, gate):
    t0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    older = record_meeting(store, gate, ["The child almost hurt the small dog."],
                           title="Planning", started=t0)
    newer = record_meeting(store, gate, ["Drop the two when you add the figures.",
                                         "The small boat drifted."],
                           title="Retro about dogs", started=t0 + timedelta(days=1))
    listed = store.list_meetings()
    assert [m.id for m in listed] == [newer, older]
    assert [m.segments for m in listed] == [2, 1]

    hits = {h.meeting.id: h for h in store.search("SMALL").hits}
    assert set(hits) == {older, newer}
    assert [s.text for _i, s in hits[newer].matches] == ["The small boat drifted."]
    assert [h.meeting.id for h in store.search("dog").hits] == [newer, older]
    assert store.search("dog").hits[0].title_match is True
    assert store.search("no such words").hits == []
    assert store.search("dog").skipped_note() is None  # nothing was left unsearched

    store.rename(older, "Q3 planning")
    assert store.summary(older).title == "Q3 planning"
    assert store.resolve(older[:6]) == older
    store.delete(older)
    assert [m.id for m in store.list_meetings()] == [newer]
    with pytest.raises(UnknownMeeting, match="candor meetings list"):
        store.resolve(older)
    with pytest.raises(UnknownMeeting):
        store.delete(older)
    with pytest.raises(UnknownMeeting):
        store.rename(older, "x")


def test_an_interrupted_meeting_is_closed_at_its_last_caption(store, gate):
    started = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)
    meeting_id = record_meeting(store, gate, ["one", "two", "three"], started=started,
                                finish=False)
    store.forget_active(meeting_id)
    owned_by(meeting_id, dead_process())  # its process died
    assert store.recover_interrupted() == [meeting_id]
    summary = store.summary(meeting_id)
    assert summary.interrupted
    assert summary.ended == started + timedelta(seconds=7.4)  # end of the third segment
    assert store.get(meeting_id).segments == segments_from(["one", "two", "three"])
    assert store.recover_interrupted() == []


def test_a_meeting_still_recording_is_not_treated_as_interrupted(store, gate):
    record_meeting(store, gate, ["live"], finish=False)
    assert store.recover_interrupted() == []


def test_upgrade_from_schema_v1_keeps_meetings_and_their_consent_links(candor_home):
    """A v1 database (record ids as columns of meetings) opens as the latest schema with the
    same meeting, and withdraw-and-delete still finds it by its record ids."""
    conn = connect(data_dir() / DB_NAME)
    migrate(conn, target=1)
    assert schema_version(conn) == 1
    master = keystore.get_or_create_secret(crypto.MASTER_KEY_NAME)
    key = crypto.new_key()
    mid = "0123456789ab"
    conn.execute(
        "INSERT INTO meetings (id, title, started, ended, device, model, language, source, "
        "storage_record_id, transcription_record_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (mid, crypto.seal_text(key, mid, "title", None, "Old meeting"),
         "2024-12-01T10:00:00.000+00:00", "2024-12-01T10:30:00.000+00:00",
         "mic", "tiny.en", "en", "window", "rec-store-1", "rec-trans-1"),
    )
    conn.execute("INSERT INTO meeting_keys VALUES (?, ?)",
                 (mid, crypto.wrap_key(master, mid, key)))
    for seq, text in enumerate(["She had your dark suit", "in greasy wash water all year."]):
        conn.execute("INSERT INTO segments VALUES (?, ?, ?, ?, ?)",
                     (mid, seq, seq * 2.0, seq * 2.0 + 2, crypto.seal_text(key, mid, "segment",
                                                                            seq, text)))
    conn.close()

    with open_store() as store:
        assert store.stats().schema_version == LATEST_VERSION
        meeting = store.get(mid)
        assert meeting.title == "Old meeting"
        assert [s.text for s in meeting.segments] == [
            "She had your dark suit", "in greasy wash water all year."]
        assert meeting.summary.consent == {
            "transcript_storage": ["rec-store-1"], "transcription": ["rec-trans-1"]}
        assert not meeting.summary.interrupted
        assert store.count_produced_under(["rec-store-1"]) == 1
        assert store.delete_produced_under(["rec-trans-1"]) == 1
        assert store.list_meetings() == []


def test_a_database_from_a_newer_candor_is_left_untouched(candor_home):
    conn = connect(data_dir() / DB_NAME)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = (candor_home / DB_NAME).read_bytes()
    with pytest.raises(SchemaTooNew, match="newer version of Candor"):
        open_store()
    assert (candor_home / DB_NAME).read_bytes() == before
    assert not list(candor_home.glob("candor.db.corrupt-*"))


def test_a_failed_migration_leaves_the_old_version(candor_home, monkeypatch):
    conn = connect(data_dir() / DB_NAME)
    migrate(conn, target=1)
    conn.close()

    from app.storage import schema

    def broken(_conn: sqlite3.Connection) -> None:
        _conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("power cut")

    monkeypatch.setattr(schema, "MIGRATIONS", (schema.MIGRATIONS[0], broken))
    with pytest.raises(RuntimeError, match="power cut"):
        open_store()
    conn = connect(data_dir() / DB_NAME)
    assert schema_version(conn) == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() \
        is None
    conn.close()


def test_read_only_open_of_a_fresh_profile_creates_nothing(candor_home):
    with open_store(create=False) as store:
        assert store.list_meetings() == []
        assert store.count_produced_under(["anything"]) == 0
    assert not (candor_home / DB_NAME).exists()


def test_database_files_are_private(candor_home, store, gate):
    record_meeting(store, gate, ["private words"])
    for path in candor_home.glob("candor.db*"):
        assert path.stat().st_mode & 0o077 == 0, path


def test_captions_stored_from_a_worker_thread_while_the_history_is_read(store, gate):
    import threading

    sink = StoredMeetingSink(store, gate, source="window")
    texts = [f"caption number {i}" for i in range(200)]
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for seg in segments_from(texts):
                sink.on_final(seg)
        except BaseException as err:
            errors.append(err)

    thread = threading.Thread(target=worker)
    thread.start()
    while thread.is_alive():
        store.list_meetings()
        store.search("number 1")
    thread.join()
    assert errors == []
    assert sink.stopped_reason is None
    assert [s.text for s in store.get(sink.meeting_id).segments] == texts
