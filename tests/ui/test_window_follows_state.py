"""Every view follows the state it shows, at once (issue 13, defect 4): a real meeting through
the virtual microphone, captioned by the real model and stored in the real store."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.dialogs import DialogAnswerer
from tests.ui.windows import shown_main_window

pytestmark = [pytest.mark.audio, pytest.mark.grant("microphone", "transcription",
                                                    "transcript_storage")]


@pytest.fixture
def window(qtbot, gate, virtual_mic):
    # The grants are in this test's ledger; the window opens its own gate on it.
    return shown_main_window(qtbot)


def _captioned_meeting(window, qtbot, virtual_mic, shared_data, *features):
    for feature in features:
        window.switches.turn_on(feature)
    view = window.meeting_view
    qtbot.mouseClick(view.meeting_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.meeting.state().captions == "on", timeout=60000)
    virtual_mic.play_and_wait(shared_data / "speech" / "jfk.wav")
    # Ended with the final pass over the whole audio: on a loaded 2-core machine the live
    # captions may skip the speech (issue 13, defect 1), the final pass never does.
    qtbot.mouseClick(view.meeting_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.meeting.running, timeout=5000)
    qtbot.waitUntil(lambda: not window.meeting.ending, timeout=180000)
    # the final pass has handed over (not "… shown until the final transcript replaces them")
    qtbot.waitUntil(lambda: view.meeting_status.text().startswith("Meeting ended")
                    and "until the final transcript" not in view.meeting_status.text(),
                    timeout=10000)


def test_the_status_never_says_nothing_runs_while_the_microphone_captures(
    window, qtbot, virtual_mic
):
    window.switches.turn_on("microphone")
    qtbot.mouseClick(window.meeting_view.meeting_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.meeting.state().capturing, timeout=5000)
    qtbot.waitUntil(lambda: "microphone is on" in window.status_line.text(), timeout=2000)
    assert "Nothing is running" not in window.status_line.text()
    window.meeting.end(final_pass=False)
    qtbot.waitUntil(lambda: "Nothing is running" in window.status_line.text(), timeout=10000)


def test_withdraw_and_delete_clears_the_meeting_page_at_once(
    window, qtbot, virtual_mic, shared_data
):
    _captioned_meeting(window, qtbot, virtual_mic, shared_data, "live_captions",
                       "save_transcript")
    view = window.meeting_view
    assert "kept" in view.meeting_status.text()
    assert "country" in view.captions.final_text().lower()
    panel = window.open_consent_panel()
    answers = DialogAnswerer(["confirm"])
    qtbot.mouseClick(panel.rows["transcript_storage"].delete_button, Qt.MouseButton.LeftButton)
    answers.stop()
    assert len(answers.seen) == 1
    assert "the transcript of" in answers.seen[0]
    # The meeting page neither shows the deleted transcript nor says it is kept.
    assert view.captions.final_text() == ""
    assert "kept" not in view.meeting_status.text().replace("nothing of it is kept", "")
    assert "deleted" in view.meeting_status.text()
    assert not window.save_transcript_action.isEnabled()
    assert not window.has_unsaved_transcript()
    # Nothing is left to delete, so nothing more is offered.
    assert not panel.rows["transcript_storage"].delete_button.isVisible()
    assert window.history_view.meetings.topLevelItemCount() == 0


def test_save_as_updates_what_the_meeting_page_says(
    window, qtbot, virtual_mic, shared_data, tmp_path
):
    _captioned_meeting(window, qtbot, virtual_mic, shared_data, "live_captions")
    view = window.meeting_view
    assert "only in memory" in view.meeting_status.text()
    window.choose_transcript_path = lambda stem: str(tmp_path / f"{stem}.txt")
    saved = window.save_meeting_transcript()
    assert saved is not None
    assert "country" in saved.read_text().lower()
    assert "only in memory" not in view.meeting_status.text()
    assert "discarded" not in view.meeting_status.text()
    assert str(saved) in view.meeting_status.text()
    assert not window.has_unsaved_transcript()


def _correct_first_row_by_keyboard(qtbot, editor, text: str) -> None:
    from PySide6.QtWidgets import QApplication, QLineEdit

    table = editor.table
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), QLineEdit))
    line = QApplication.focusWidget()
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not isinstance(QApplication.focusWidget(), QLineEdit))


@pytest.mark.grant("vocabulary_learning")
def test_the_meeting_just_ended_not_kept_is_corrected_learned_from_and_saved_as_corrected(
    window, qtbot, virtual_mic, shared_data, tmp_path
):
    from app.vocabulary.store import VocabularyStore

    _captioned_meeting(window, qtbot, virtual_mic, shared_data, "live_captions")
    view = window.meeting_view
    assert "only in memory" in view.meeting_status.text()
    # the window's own handler of the end follows the meeting page's
    qtbot.waitUntil(window.correct_transcript_action.isEnabled, timeout=5000)
    assert view.correct_button.isVisible()
    qtbot.mouseClick(view.correct_button, Qt.MouseButton.LeftButton)
    editor = window.storage_ui.editor
    assert editor is not None
    assert editor.isVisible()
    assert editor.meeting_id is None
    assert editor.unsaved is not None
    heard = editor.table.item(0, 1).text()
    corrected = "Okonkwo asked his fellow citizens what they can do for their country."
    _correct_first_row_by_keyboard(qtbot, editor, corrected)

    assert editor.table.item(0, 2).text() == "corrected"
    assert editor.heard.text() == f"What was heard: {heard}"
    assert "Learned: Okonkwo" in editor.status.text()
    assert "Okonkwo" in [t.text for t in VocabularyStore(window.storage.store).terms()]
    # the meeting page shows the transcript as corrected; nothing of it was stored
    assert corrected in view.captions.final_text()
    assert window.storage.store.list_meetings() == []
    window.choose_transcript_path = lambda stem: str(tmp_path / f"{stem}.txt")
    saved = window.save_meeting_transcript()
    assert saved is not None
    assert corrected in saved.read_text()
    assert heard not in saved.read_text()

    # Ctrl+Z: back to what was heard, in the editor and on the meeting page
    qtbot.keyClick(editor.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.table.item(0, 1).text() == heard
    assert corrected not in view.captions.final_text()

    # a new meeting replaces the one just ended: the editor of its memory copy closes
    window.meeting.start()
    qtbot.waitUntil(lambda: not editor.isVisible(), timeout=5000)
    assert editor.table.rowCount() == 0
    assert not view.correct_button.isVisible()


def test_the_meeting_just_ended_and_kept_is_corrected_in_the_store(
    window, qtbot, virtual_mic, shared_data
):
    _captioned_meeting(window, qtbot, virtual_mic, shared_data, "live_captions",
                       "save_transcript")
    view = window.meeting_view
    assert "kept" in view.meeting_status.text()
    qtbot.waitUntil(window.correct_transcript_action.isEnabled, timeout=5000)
    window.correct_transcript_action.trigger()
    editor = window.storage_ui.editor
    stored = window.meeting.last.state.stored_meeting_id
    assert editor is not None
    assert editor.meeting_id == stored
    assert editor.unsaved is None
    _correct_first_row_by_keyboard(qtbot, editor, "A corrected first sentence.")
    assert window.storage.store.get(stored).segments[0].text == "A corrected first sentence."
