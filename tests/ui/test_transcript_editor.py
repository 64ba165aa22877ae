"""Correcting a stored meeting from the window, by keyboard alone (issue 12 §1), and "What Candor
learned" (§2): corrections stored and exported, Esc cancels, Ctrl+Z undoes, what was heard shown
and restorable; learning only with `vocabulary_learning`, its terms listed and removable. Real
window, real store, real ledger."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from app.storage import export_meeting
from app.vocabulary.store import VocabularyStore
from tests.support.storage import record_meeting
from tests.ui.dialogs import DialogAnswerer
from tests.ui.storage_helpers import open_window

HEARD = ["We will ask Anna Cowalczyk about it.", "The patient takes met for me daily.",
         "See you on Monday."]
CORRECTED = "We will ask Anna Kowalczyk about it."


@pytest.fixture
def editing(qtbot, gate):
    window = open_window(qtbot, gate)
    mid = record_meeting(window.storage.store, gate, HEARD, title="Ward round")
    window.storage.notify_changed()
    history = window.storage_ui.show_history()
    qtbot.waitUntil(lambda: history.meetings.topLevelItemCount() == 1)
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    assert history.correct_button.isEnabled()
    history.correct_button.click()
    editor = window.storage_ui.editor
    assert editor is not None
    assert editor.isVisible()
    assert editor.meeting_id == mid
    return window, editor, mid


def _type_into_row(qtbot, editor, row: int, text: str, finish=Qt.Key.Key_Return) -> None:
    """Keyboard only: arrow to the row, Enter to edit, replace the text, Enter (or Esc)."""
    table = editor.table
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    for _ in range(row):
        qtbot.keyClick(table, Qt.Key.Key_Down)
    assert table.currentRow() == row
    qtbot.keyClick(table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), QLineEdit))
    line = QApplication.focusWidget()
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, finish)
    qtbot.waitUntil(lambda: not isinstance(QApplication.focusWidget(), QLineEdit))


def _stored_texts(window, mid) -> list[str]:
    return [s.text for s in window.storage.store.get(mid).segments]


@pytest.mark.grant("transcript_storage", "transcription")
def test_a_correction_by_keyboard_is_stored_exported_and_shows_what_was_heard(qtbot, editing):
    window, editor, mid = editing
    _type_into_row(qtbot, editor, 0, CORRECTED)
    assert _stored_texts(window, mid) == [CORRECTED, *HEARD[1:]]
    assert export_meeting(window.storage.store, mid, "txt").splitlines()[0] == CORRECTED
    assert editor.table.item(0, 2).text() == "corrected"
    assert editor.heard.text() == f"What was heard: {HEARD[0]}"
    assert "Segment 1 corrected" in editor.status.text()
    assert "Nothing was learned" in editor.status.text(), "learning is not given here"
    assert VocabularyStore(window.storage.store).terms() == []

    # Esc cancels an edit: nothing is stored
    _type_into_row(qtbot, editor, 1, "something else entirely", finish=Qt.Key.Key_Escape)
    assert _stored_texts(window, mid)[1] == HEARD[1]
    assert editor.table.item(1, 1).text() == HEARD[1]

    # Ctrl+Z undoes the last correction; the segment is plain again
    qtbot.keyClick(editor.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _stored_texts(window, mid) == HEARD
    assert editor.table.item(0, 2).text() == ""
    assert "Undone" in editor.status.text()
    assert not editor.undo_button.isEnabled()

    # Restore what was heard, after another correction
    _type_into_row(qtbot, editor, 2, "")
    assert _stored_texts(window, mid)[2] == ""
    assert editor.table.item(2, 2).text() == "emptied"
    editor.table.setCurrentCell(2, 1)
    assert editor.restore_button.isEnabled()
    editor.restore_button.click()
    assert _stored_texts(window, mid) == HEARD
    # the history's transcript follows at once
    window.storage_ui.history.open_meeting(mid)
    assert HEARD[2] in window.storage_ui.history.transcript.toPlainText()


@pytest.mark.grant("transcript_storage", "transcription", "vocabulary_learning")
def test_with_learning_a_corrected_name_is_learned_listed_and_removable(qtbot, editing, gate):
    window, editor, _mid = editing
    _type_into_row(qtbot, editor, 0, CORRECTED)
    assert "Learned: Kowalczyk" in editor.status.text()
    assert window.storage_ui.learned_action in window.privacy_menu.actions()
    window.storage_ui.learned_action.trigger()
    view = window.storage_ui.vocabulary
    assert view is not None
    assert view.isVisible()
    assert "is on" in view.learning.text()
    rows = {view.table.item(r, 0).text(): view.table.item(r, 1).text()
            for r in range(view.table.rowCount())}
    assert rows == {"Kowalczyk": "your correction"}
    # only terms: no sentence of the transcript is in the list
    assert all(len(t.text.split()) <= 3 for t in VocabularyStore(window.storage.store).terms())

    view.new_term.setText("Metformin")
    qtbot.keyClick(view.new_term, Qt.Key.Key_Return)
    assert "Added Metformin" in view.status.text()
    assert {view.table.item(r, 0).text() for r in range(view.table.rowCount())} == {
        "Kowalczyk", "Metformin"}

    view.table.selectRow([view.table.item(r, 0).text()
                          for r in range(view.table.rowCount())].index("Kowalczyk"))
    view.remove_button.click()
    assert [t.text for t in VocabularyStore(window.storage.store).terms()] == ["Metformin"]

    answerer = DialogAnswerer(["cancel"])
    assert view.clear_all() is False
    answerer.stop()
    assert view.table.rowCount() == 1, "Cancel keeps the terms"
    answerer = DialogAnswerer(["confirm"])
    assert view.clear_all() is True
    answerer.stop()
    assert VocabularyStore(window.storage.store).terms() == []
    assert view.table.rowCount() == 0

    # a withdrawal shows at once
    gate.withdraw("vocabulary_learning", via="test")
    qtbot.waitUntil(lambda: "is off" in view.learning.text())


@pytest.mark.grant("transcript_storage", "transcription")
def test_adding_a_term_asks_for_learning_and_dont_allow_adds_nothing(qtbot, editing):
    window, _editor, _mid = editing
    view = window.storage_ui.open_vocabulary()
    assert "is off" in view.learning.text()
    view.new_term.setText("Kowalczyk")
    answerer = DialogAnswerer(["deny"])
    view.add_button.click()
    answerer.stop()
    assert answerer.seen == ["vocabulary_learning"]
    assert "Nothing was added" in view.status.text()
    assert VocabularyStore(window.storage.store).terms() == []
