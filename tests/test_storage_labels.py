"""Per-meeting speaker labels ("You" / "Others" renamed): stored sealed, read back, reset."""

from __future__ import annotations

import pytest

from app.segments import Segment
from app.storage import UnknownMeeting, open_store
from app.storage.database import DB_NAME
from app.storage.schema import LATEST_VERSION, MIGRATIONS, _speaker_labels, migrate, schema_version
from app.storage.speaker_labels import InvalidLabel
from tests.support.storage import files_containing, granted_gate

SEGMENTS = [
    Segment(0.0, 2.0, "Shall we start with the budget?", True, "microphone"),
    Segment(2.5, 4.0, "Yes, the numbers came in this morning.", True, "system"),
]


@pytest.fixture
def store(candor_home):
    with open_store() as opened:
        yield opened


def _meeting(store) -> str:
    return store.begin(granted_gate(), source="window", title="Budget", complete=SEGMENTS)


def test_a_new_meeting_has_the_default_labels(store):
    mid = _meeting(store)
    assert store.get(mid).labels == {"microphone": "You", "system": "Others"}
    assert store.summary(mid).to_dict()["labels"] == {"microphone": "You", "system": "Others"}


def test_renamed_labels_are_read_back_by_a_new_store_and_never_readable_on_disk(candor_home):
    store = open_store()
    mid = _meeting(store)
    before = files_containing(candor_home, [b"Marguerite", b"Okonkwo"])
    labels = store.set_labels(mid, microphone="Marguerite Okonkwo", system="Zbigniew")
    assert labels == {"microphone": "Marguerite Okonkwo", "system": "Zbigniew"}
    # The database, its WAL and SHM, the logs and the ledger: no label in any of them.
    assert files_containing(candor_home, [b"Marguerite", b"Okonkwo", b"Zbigniew"]) == before == []
    store.close()
    assert files_containing(candor_home, [b"Marguerite", b"Okonkwo", b"Zbigniew"]) == []
    with open_store() as again:
        assert again.get(mid).labels == {"microphone": "Marguerite Okonkwo",
                                         "system": "Zbigniew"}
        assert [m.labels for m in again.list_meetings()] == [labels]


def test_one_label_changes_alone_and_an_empty_name_resets_it(store):
    mid = _meeting(store)
    store.set_labels(mid, microphone="Priya", system="Tomasz")
    assert store.set_labels(mid, system="  Tomasz   Nowak ") == {
        "microphone": "Priya", "system": "Tomasz Nowak"}
    assert store.set_labels(mid, microphone="") == {"microphone": "You",
                                                    "system": "Tomasz Nowak"}
    store.set_labels(mid, system="Others")
    assert store.get(mid).labels == {"microphone": "You", "system": "Others"}


def test_labels_are_per_meeting(store):
    first, second = _meeting(store), _meeting(store)
    store.set_labels(first, system="Hiroshi")
    assert store.get(first).labels["system"] == "Hiroshi"
    assert store.get(second).labels["system"] == "Others"


@pytest.mark.parametrize(("name", "says"), [
    ("x" * 61, "at most 60"),
    ("<v Bob>", "'<', '>'"),
    ("Anna\x07", "control character"),
    ("   ", "blank .only spaces.; type a name, or leave it empty"),
])
def test_a_label_no_export_could_show_is_refused_and_nothing_changes(store, name, says):
    mid = _meeting(store)
    store.set_labels(mid, microphone="Priya")
    with pytest.raises(InvalidLabel, match=says):
        store.set_labels(mid, microphone="Lena", system=name)
    assert store.get(mid).labels == {"microphone": "Priya", "system": "Others"}


def test_an_unknown_meeting_is_named(store):
    with pytest.raises(UnknownMeeting, match="candor meetings list"):
        store.set_labels("feedfacecafe", microphone="Priya")


def test_a_meeting_from_before_labels_gets_the_defaults_after_the_upgrade(candor_home):
    from app.paths import data_dir
    from app.storage.database import connect
    from app.storage.meetings import MeetingStore

    before_labels = MIGRATIONS.index(_speaker_labels)
    conn = connect(data_dir() / DB_NAME)
    migrate(conn, target=before_labels)
    # Stored by the schema before labels (no labels column yet), then opened by this version.
    mid = MeetingStore(conn, candor_home).begin(granted_gate(), source="window",
                                                title="Budget", complete=SEGMENTS)
    assert schema_version(conn) == before_labels
    conn.close()
    with open_store() as store:
        assert store.stats().schema_version == LATEST_VERSION
        meeting = store.get(mid)
        assert meeting.labels == {"microphone": "You", "system": "Others"}
        assert [s.text for s in meeting.segments] == [s.text for s in SEGMENTS]
        store.set_labels(mid, system="Hiroshi")
        assert store.get(mid).labels["system"] == "Hiroshi"
