"""Retention with an injected clock, and withdraw-and-delete exactness."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from app.segments import Segment
from app.storage import (
    RetentionSettings,
    RetentionSettingsError,
    RetentionTimer,
    StoredMeetingSink,
    count_data_for_purpose,
    delete_data_for_purpose,
    enforce_retention,
    open_store,
)
from app.storage.retention import next_erase, parse_period
from tests.support.storage import granted_gate, record_meeting

pytestmark = pytest.mark.grant("transcript_storage", "transcription")

T0 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(candor_home):
    handle = open_store()
    yield handle
    handle.close()


def _meeting(store, gate, days_ago: float, now: datetime, title: str) -> str:
    ended = now - timedelta(days=days_ago)
    return record_meeting(store, gate, [f"notes of {title}"], title=title,
                          started=ended - timedelta(hours=1), ended=ended)


def _ids(store) -> set[str]:
    return {m.id for m in store.list_meetings()}


def test_default_keeps_transcripts_30_days_and_erases_after(store, gate, caplog):
    now = T0 + timedelta(days=100)
    fresh = _meeting(store, gate, 29.9, now, "fresh")
    old = _meeting(store, gate, 30.1, now, "old")
    assert RetentionSettings.load().transcripts == "30d"
    with caplog.at_level(logging.INFO):
        result = enforce_retention(store, now)
    assert result.erased == [old]
    assert _ids(store) == {fresh}
    # The erase is logged with count, ids and category, without a word of content.
    lines = [r.getMessage() for r in caplog.records if "retention erased" in r.getMessage()]
    assert lines == [f"retention erased 1 transcript(s) (category transcripts, period 30d): {old}"]
    assert not any("notes of" in r.getMessage() for r in caplog.records)
    # The clock moves on: the fresh one goes when its 30 days are over, not before.
    assert enforce_retention(store, now + timedelta(hours=2)).erased == []
    assert enforce_retention(store, now + timedelta(days=0.2)).erased == [fresh]


@pytest.mark.parametrize(
    ("period", "survivors"),
    [("7d", {"2 days"}), ("90d", {"2 days", "40 days"}),
     ("365d", {"2 days", "40 days", "200 days"}),
     ("keep", {"2 days", "40 days", "200 days", "400 days"}), ("end_of_meeting", set())],
)
def test_each_period_erases_what_is_older(store, gate, period, survivors):
    now = T0 + timedelta(days=1000)
    titles = {_meeting(store, gate, int(t.split()[0]), now, t): t
              for t in ("2 days", "40 days", "200 days", "400 days")}
    RetentionSettings().with_period("transcripts", period).save()
    enforce_retention(store, now)
    assert {titles[i] for i in _ids(store)} == survivors


def test_a_meeting_being_recorded_is_never_erased(store, gate):
    RetentionSettings(transcripts="end_of_meeting").save()
    live = record_meeting(store, gate, ["still talking"], started=T0, finish=False)
    done = record_meeting(store, gate, ["finished"], started=T0, ended=T0 + timedelta(hours=1))
    assert enforce_retention(store, T0 + timedelta(days=5)).erased == [done]
    assert _ids(store) == {live}


def test_end_of_meeting_erases_when_the_meeting_ends(store, gate):
    RetentionSettings(transcripts="end_of_meeting").save()
    sink = StoredMeetingSink(store, gate, source="listen")
    sink.on_final(Segment(0, 1, "gone at the end"))
    assert _ids(store) == {sink.meeting_id}  # stored while it runs: a crash loses nothing
    sink.on_finished([])
    assert sink.erased_at_end
    assert _ids(store) == set()


def test_settings_persist_and_unreadable_settings_erase_nothing(candor_home, store, gate):
    RetentionSettings().with_period("transcripts", "7").save()
    assert RetentionSettings.load() == RetentionSettings(transcripts="7d")
    assert json.loads((candor_home / "retention.json").read_text())["transcripts"] == "7d"
    old = _meeting(store, gate, 400, T0, "old")
    (candor_home / "retention.json").write_text("{not json")
    with pytest.raises(RetentionSettingsError, match="Nothing is erased"):
        enforce_retention(store, T0)
    timer = RetentionTimer(store)
    assert timer.tick(T0) is None
    assert "cannot be read" in (timer.error or "")
    assert _ids(store) == {old}


def test_periods_parse_and_bad_ones_name_the_choices():
    assert [parse_period(p) for p in ("7", "30 days", "end", "KEEP", "365d")] == [
        "7d", "30d", "end_of_meeting", "keep", "365d"]
    with pytest.raises(ValueError, match="end_of_meeting, 7d, 30d, 90d, 365d, keep"):
        parse_period("14d")


def test_timer_waits_until_the_next_expiry_but_at_most_an_hour(store, gate):
    timer = RetentionTimer(store)
    assert timer.seconds_until_next(T0) == 3600
    _meeting(store, gate, 30, T0 + timedelta(minutes=10), "soon")  # expires 10 min after T0
    assert timer.seconds_until_next(T0) == pytest.approx(600)
    assert next_erase(store, T0, settings=RetentionSettings()) == T0 + timedelta(minutes=10)
    result = timer.tick(T0 + timedelta(minutes=10))
    assert result is not None
    assert result.count == 1


def test_withdraw_and_delete_removes_exactly_what_that_consent_produced(store, tmp_path):
    gate = granted_gate()
    first_grant = gate.record_id("transcript_storage")
    a = record_meeting(store, gate, ["alpha"], title="A")
    b = record_meeting(store, gate, ["beta"], title="B")
    gate.withdraw("transcript_storage", via="test")
    gate.grant("transcript_storage", via="test")
    c = record_meeting(store, gate, ["gamma"], title="C")
    # Another profile's grants never match this one's meetings.
    other_gate = granted_gate(home=tmp_path / "other-profile")
    d = record_meeting(store, other_gate, ["delta"], title="D")

    assert count_data_for_purpose("transcript_storage", [first_grant], store=store) == 2
    assert count_data_for_purpose("microphone", [first_grant], store=store) == 0
    assert delete_data_for_purpose("microphone", [first_grant], store=store) == 0
    assert _ids(store) == {a, b, c, d}

    assert delete_data_for_purpose("transcript_storage", [first_grant], store=store) == 2
    assert _ids(store) == {c, d}
    assert [s.text for s in store.get(c).segments] == ["gamma"]
    assert delete_data_for_purpose("transcript_storage", [first_grant], store=store) == 0

    # The full history of grants deletes the rest produced under this gate's storage consent.
    assert delete_data_for_purpose(
        "transcript_storage", gate.grant_record_ids("transcript_storage"), store=store) == 1
    assert _ids(store) == {d}


def test_withdrawing_transcription_with_deletion_removes_its_transcripts(store):
    gate = granted_gate()
    captions_grant = gate.record_id("transcription")
    a = record_meeting(store, gate, ["alpha"])
    gate.grant("transcription", via="test")  # a new grant: later meetings are under another record
    b = record_meeting(store, gate, ["beta"])
    assert delete_data_for_purpose("transcription", [captions_grant], store=store) == 1
    assert _ids(store) == {b}
    assert a not in _ids(store)


def test_deleting_without_a_store_opens_the_one_in_the_data_directory(candor_home):
    gate = granted_gate()
    with open_store() as store:
        record_meeting(store, gate, ["alpha"])
    grant = gate.record_id("transcript_storage")
    assert count_data_for_purpose("transcript_storage", [grant]) == 1
    assert delete_data_for_purpose("transcript_storage", [grant]) == 1
    with open_store() as store:
        assert store.list_meetings() == []
    with pytest.raises(ValueError, match="unknown purpose"):
        delete_data_for_purpose("telepathy", [grant])


def test_withdraw_and_delete_during_a_meeting_stops_it_being_stored(store):
    gate = granted_gate()
    stopped = []
    sink = StoredMeetingSink(store, gate, source="window", on_storage_stopped=stopped.append)
    sink.on_final(Segment(0, 1, "said before"))
    grants = gate.grant_record_ids("transcript_storage")
    gate.withdraw("transcript_storage", via="test", delete_data=True)
    assert delete_data_for_purpose("transcript_storage", grants, store=store) == 1
    sink.on_final(Segment(1, 2, "said after"))
    sink.on_finished([Segment(0, 2, "said before said after")])
    assert stopped
    assert store.list_meetings() == []
