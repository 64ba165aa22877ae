"""Searching stored meetings finds every word in any order, case-insensitive (issue 13, defect
10), in the real encrypted store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.storage import open_store
from app.storage.search_terms import Query
from tests.support.storage import granted_gate, record_meeting

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(candor_home):
    with open_store() as s:
        yield s


@pytest.fixture
def seeded(store):
    gate = granted_gate()
    ids = {
        "weekend": record_meeting(store, gate, [
            "We start on Monday.", "Sunday is the best part of the week.",
        ], title="Weekend plans", started=T0),
        "budget": record_meeting(store, gate, [
            "The budget is due on Friday.", "Anna will send the figures.",
        ], title="Finance", started=T0 + timedelta(days=1)),
        "other": record_meeting(store, gate, ["Nothing about that here."],
                                title="Retro", started=T0 + timedelta(days=2)),
    }
    gate.close()
    return ids


def test_words_in_any_order_and_any_case_find_the_line(store, seeded):
    for query in ("sunday best", "BEST sunday", "  Best   SUNDAY "):
        [hit] = store.search(query).hits
        assert hit.meeting.id == seeded["weekend"]
        assert [s.text for _i, s in hit.matches] == ["Sunday is the best part of the week."]


def test_every_word_must_occur(store, seeded):
    assert store.search("sunday budget").hits == []
    assert store.search("sunday best zebra").hits == []


def test_words_spread_over_lines_find_the_meeting_and_list_each_line(store, seeded):
    [hit] = store.search("anna budget").hits
    assert hit.meeting.id == seeded["budget"]
    assert [i for i, _s in hit.matches] == [0, 1]
    assert hit.title_match is False


def test_title_words_count_too(store, seeded):
    [hit] = store.search("plans weekend").hits
    assert hit.title_match is True
    assert hit.meeting.id == seeded["weekend"]
    # A title word and a transcript word together find the meeting as well.
    [mixed] = store.search("finance friday").hits
    assert mixed.meeting.id == seeded["budget"]
    assert [s.text for _i, s in mixed.matches] == ["The budget is due on Friday."]


def test_a_word_may_be_part_of_a_longer_one_and_casefolding_is_unicode():
    assert Query.parse("sun BEST").matches("Sunday is the best part")
    assert Query.parse("STRASSE").matches("die Straße")
    assert not Query.parse("   ")
