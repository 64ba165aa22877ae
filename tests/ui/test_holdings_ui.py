""""What Candor holds", retention choices, export and erase everything, and the consent panel's
withdraw-and-delete through the window's open store. Real widgets, store, keys and ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from app import keystore
from app.segments import Segment
from app.storage import StoredMeetingSink, crypto, open_store
from app.storage.retention import RetentionSettings
from tests.support.storage import record_meeting, speech_sentences
from tests.ui.dialogs import DialogAnswerer
from tests.ui.storage_helpers import open_window

pytestmark = pytest.mark.grant("transcript_storage", "transcription")

NOW = datetime.now(UTC).replace(microsecond=0)


def _store_meetings(gate, ages_days):
    sentences = speech_sentences()
    ids = []
    with open_store() as store:
        for n, age in enumerate(ages_days):
            started = NOW - timedelta(days=age, minutes=30)
            ids.append(record_meeting(store, gate, sentences[n * 2:n * 2 + 2],
                                      title=f"Meeting {n}", started=started,
                                      ended=started + timedelta(minutes=30)))
    return ids


@pytest.fixture
def window(qtbot, gate):
    win = open_window(qtbot, gate)
    yield win
    win.close()


def _row(view, category):
    item = view.row(category)
    assert item is not None, category
    details = [item.child(i).text(0) for i in range(item.childCount())]
    return [item.text(c) for c in range(5)], details


def _retention(window):
    """The retention choices live on the Settings page."""
    window.show_page("settings")
    return window.settings_page.retention


def _choose_period(box, category, period):
    combo = box.retention[category]
    index = combo.findData(period)
    assert index >= 0
    combo.setCurrentIndex(index)
    combo.activated.emit(index)  # what choosing it with mouse or keyboard emits


def test_report_shows_the_real_counts_place_protection_and_consent(window, gate, qtbot):
    _store_meetings(gate, [1, 3, 5])
    window.storage.notify_changed()
    view = window.storage_ui.open_transparency()
    cells, details = _row(view, "transcripts")
    assert cells[0] == "Meeting transcripts"
    assert cells[1] == "3"
    oldest = (NOW - timedelta(days=5, minutes=30)).astimezone().strftime("%Y-%m-%d %H:%M")
    assert cells[3] == oldest
    # The default keeps transcripts 30 days after each meeting ended: the oldest goes first.
    due = (NOW - timedelta(days=5) + timedelta(days=30)).astimezone().strftime("%Y-%m-%d %H:%M")
    assert cells[4] == due
    home = window.storage.home
    assert f"Stored in: {home / 'candor.db'}" in details
    assert any(d.startswith("Protection: AES-256-GCM") for d in details)
    assert any(d.startswith("Key: key file") for d in details), details  # no keyring here
    assert any(d.startswith("Consent (") and ": given, ledger record "
               + gate.record_id("transcript_storage") in d for d in details)
    recordings, rec_details = _row(view, "recordings")
    assert recordings[1] == "0"
    assert any("never stores meeting audio" in d for d in rec_details)
    assert _row(view, "consent_ledger")[0][1] != "0"
    assert "3 stored meetings" in view.summary.text()
    # No keyring and no passphrase here: the view says what that leaves at risk.
    assert "anyone who copies the folder can read your meetings" in view.summary.text().lower()
    assert _retention(window).retention["transcripts"].currentData() == "30d"


def test_shorter_retention_asks_then_erases_and_the_report_follows(window, gate, qtbot):
    ids = _store_meetings(gate, [2, 10, 40])  # stored after the window's start-up check
    view = window.storage_ui.open_transparency()
    window.storage.enforce_retention()  # what the window's timer does: the 40-day one goes
    assert view.row("transcripts").text(1) == "2"
    assert "Erased 1 transcript kept longer than 30 days" in (
        window.storage_ui.status_note.text()
    )

    answers = DialogAnswerer(["cancel"])
    _choose_period(_retention(window), "transcripts", "7d")
    answers.stop()
    assert len(answers.seen) == 1
    assert "1 stored meeting older than that is erased now" in answers.seen[0]
    kept = _retention(window).retention["transcripts"].currentData()
    assert kept == "30d", "cancel keeps the old period"
    assert RetentionSettings.load().transcripts == "30d"
    assert view.row("transcripts").text(1) == "2"

    answers = DialogAnswerer(["confirm"])
    _choose_period(_retention(window), "transcripts", "7d")
    answers.stop()
    assert RetentionSettings.load().transcripts == "7d"
    assert {m.id for m in window.storage.store.list_meetings()} == {ids[0]}
    cells, details = _row(view, "transcripts")
    assert cells[1] == "1"
    due = (NOW - timedelta(days=2) + timedelta(days=7)).astimezone().strftime("%Y-%m-%d %H:%M")
    assert cells[4] == due
    assert "Kept: 7 days" in details
    assert "kept longer than 7 days" in window.storage_ui.status_note.text()

    # Keeping them until deleted asks nothing and says there is no automatic erase.
    answers = DialogAnswerer(["cancel"])
    _choose_period(_retention(window), "transcripts", "keep")
    answers.stop()
    assert answers.seen == []
    assert view.row("transcripts").text(4).startswith("never")
    assert RetentionSettings.load().to_dict() == {"transcripts": "keep",
                                                  "recordings": "end_of_meeting"}


def test_export_everything_writes_meetings_receipts_and_the_report(window, gate, qtbot,
                                                                 tmp_path):
    ids = _store_meetings(gate, [1, 2])
    window.storage.notify_changed()
    view = window.storage_ui.open_transparency()
    view.choose_export_folder = lambda: str(tmp_path)
    with qtbot.waitSignal(view.export_finished, timeout=30000) as done:
        qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
        assert not view.export_button.isEnabled(), "one export at a time"
    result = done.args[0]
    assert result.meetings == 2
    dest = result.dest
    assert dest.parent == tmp_path
    assert dest.name.startswith("candor-export-")
    meetings = sorted((dest / "meetings").glob("*.json"))
    assert {json.loads(p.read_text())["id"] for p in meetings} == set(ids)
    assert len(list((dest / "meetings").glob("*.srt"))) == 2
    assert len(list((dest / "meetings").glob("*.txt"))) == 2
    receipts = json.loads((dest / "consent" / "receipts.json").read_text())
    assert receipts["ledger"]["head_hash"] == gate.ledger.records()[-1].record_hash
    report = json.loads((dest / "report.json").read_text())
    counts = {c["category"]: c["count"] for c in report["categories"]}
    assert counts["transcripts"] == 2
    assert (dest / "report.txt").read_text().startswith("Candor data report")
    assert view.progress is None, "the progress dialog is gone"
    assert str(dest) in view.status.text()
    assert view.export_button.isEnabled()


def test_export_where_no_folder_can_be_made_says_so(window, gate, qtbot, tmp_path):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("keep me")
    view = window.storage_ui.open_transparency()
    view.choose_export_folder = lambda: str(not_a_folder)
    answers = DialogAnswerer(["confirm"])
    with qtbot.waitSignal(view.export_finished, timeout=30000) as done:
        qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    answers.stop()
    assert isinstance(done.args[0], Exception)
    assert len(answers.seen) == 1
    assert "cannot create the export folder" in answers.seen[0]
    assert not_a_folder.read_text() == "keep me"
    assert view.export_button.isEnabled()


def test_erase_everything_asks_once_then_leaves_an_empty_store_and_only_the_erase_record(
    window, gate, qtbot
):
    _store_meetings(gate, [1, 2])
    window.gate.grant("microphone", via="test")
    window.switches.turn_on("live_captions")
    window.switches.turn_on("save_transcript")
    qtbot.waitUntil(lambda: window.meeting_view.toggles["live_captions"].isChecked())
    RetentionSettings(transcripts="90d").save()
    history = window.storage_ui.show_history()
    panel = window.open_consent_panel()
    assert panel.rows["transcript_storage"].delete_button.text().endswith("(2 items)…")
    view = window.storage_ui.open_transparency()
    assert view.row("transcripts").text(1) == "2"

    answers = DialogAnswerer(["cancel"])
    qtbot.mouseClick(view.erase_button, Qt.MouseButton.LeftButton)
    answers.stop()
    assert len(window.storage.store.list_meetings()) == 2, "cancel erases nothing"

    answers = DialogAnswerer(["confirm"])
    qtbot.mouseClick(view.erase_button, Qt.MouseButton.LeftButton)
    answers.stop()
    assert len(answers.seen) == 1
    statement = answers.seen[0]
    assert "2 stored meetings" in statement
    assert "consent ledger is replaced by a single record" in statement

    with open_store() as other:
        assert other.list_meetings() == []
    assert window.storage.store.list_meetings() == []
    records = window.gate.ledger.records()
    assert [(r.state, r.collection_method) for r in records] == [("data_erased", "panel")]
    assert window.gate.ledger.verify().ok
    assert keystore.secret_location(crypto.MASTER_KEY_NAME) is None
    assert not (window.storage.home / "retention.json").exists()
    # The window shows the fresh, empty state: everything off, nothing listed, defaults back.
    qtbot.waitUntil(
        lambda: not any(b.isChecked() for b in window.meeting_view.toggles.values())
    )
    assert view.row("transcripts").text(1) == "0"
    assert _retention(window).retention["transcripts"].currentData() == "30d"
    assert history.meetings.topLevelItemCount() == 0
    assert "Erased 2 meetings" in view.status.text()
    assert {r.state_label.text() for r in panel.rows.values()} == {"Not given"}
    assert not panel.rows["transcript_storage"].delete_button.isVisible()
    # Storing works again, only after consent is given again.
    gate.grant("transcript_storage", via="test")
    record_meeting(window.storage.store, gate, ["a new start"], title="After the erase")
    window.storage.notify_changed()
    assert [m.title for m in window.storage.store.list_meetings()] == ["After the erase"]


def test_erase_everything_is_refused_while_a_meeting_is_being_stored(window, gate, qtbot):
    sink = StoredMeetingSink(window.storage.store, gate, source="window", title="Ongoing")
    sink.on_final(Segment(0.0, 1.5, "still talking"))
    view = window.storage_ui.open_transparency()
    answers = DialogAnswerer(["confirm", "confirm"])
    qtbot.mouseClick(view.erase_button, Qt.MouseButton.LeftButton)
    answers.stop()
    assert len(answers.seen) == 2
    assert "End the meeting first" in answers.seen[1]
    assert [m.id for m in window.storage.store.list_meetings()] == [sink.meeting_id]
    assert len(gate.ledger.records()) == 2, "the ledger is untouched"
    sink.on_final(Segment(1.5, 3.0, "and the meeting goes on"))
    assert sink.storing
    assert len(window.storage.store.get(sink.meeting_id).segments) == 2


def test_withdraw_and_delete_in_the_panel_deletes_exactly_what_it_says(window, gate, qtbot):
    store = window.storage.store
    before = record_meeting(store, gate, ["captioned and kept"], title="With captions")
    gate.withdraw("transcription", via="test")
    no_captions = record_meeting(store, gate, ["typed notes"], title="Without transcription")
    gate.grant("transcription", via="test")
    live = StoredMeetingSink(store, gate, source="window", title="Being recorded")
    live.on_final(Segment(0.0, 2.0, "first caption"))
    history = window.storage_ui.show_history()
    assert history.meetings.topLevelItemCount() == 3

    panel = window.open_consent_panel()
    row = panel.rows["transcription"]
    assert row.delete_button.text() == "Withdraw and delete (2 items)…"
    answers = DialogAnswerer(["confirm"])
    qtbot.mouseClick(row.delete_button, Qt.MouseButton.LeftButton)
    answers.stop()
    assert len(answers.seen) == 1
    # The question names what goes, not "2 item(s)"; the meeting kept without it is not named.
    question = answers.seen[0]
    assert "the transcript of “With captions”" in question
    assert "the transcript of “Being recorded”" in question
    assert "Without transcription" not in question
    assert "item" not in question
    assert not gate.allowed("transcription")
    with open_store() as other:
        assert [m.id for m in other.list_meetings()] == [no_captions]
    assert before not in {m.id for m in store.list_meetings()}
    # The meeting being recorded stops being stored at its next caption; nothing comes back.
    live.on_final(Segment(2.0, 4.0, "second caption"))
    assert not live.storing
    assert "no longer exists" in (live.stopped_reason or "")
    assert [m.id for m in store.list_meetings()] == [no_captions]
    assert history.meetings.topLevelItemCount() == 1
    # Nothing is left to delete, so nothing is offered: no "Delete what it produced (0 items)".
    assert not row.delete_button.isVisible()
    assert row.action_button.text() == "Give…"


def test_unreadable_retention_settings_are_shown_and_fixed_from_the_view(qtbot, gate,
                                                                         candor_home):
    ids = _store_meetings(gate, [45])
    (candor_home / "retention.json").write_text("{not json")
    window = open_window(qtbot, gate)
    notices = window.storage_ui.notices.texts()
    assert any("retention settings" in t and "cannot be read" in t for t in notices)
    assert window.storage_ui.notice_dock.isVisible()
    assert [m.id for m in window.storage.store.list_meetings()] == ids, "nothing guessed away"
    assert _retention(window).retention["transcripts"].currentIndex() == -1
    assert "cannot be read" in _retention(window).retention_note.text()
    answers = DialogAnswerer(["confirm"])
    _choose_period(_retention(window), "transcripts", "90d")
    answers.stop()
    assert answers.seen == [], "90 days erases nothing here, so nothing to confirm"
    assert RetentionSettings.load().transcripts == "90d"
    assert window.storage_ui.notices.texts() == []
    assert not window.storage_ui.notice_dock.isVisible()
    window.close()
