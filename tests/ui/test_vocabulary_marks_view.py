"""What Candor learned shows each term's kind and marks a term as a name or a term by keyboard
alone (issue 14 §1); the mark is stored, so redaction honours it. Real window, real store."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from app.privacy.vocabulary_names import vocabulary_names, vocabulary_terms
from app.vocabulary.store import VocabularyStore
from tests.ui.storage_helpers import accessible_texts, open_window


def _kinds(view) -> dict[str, str]:
    return {view.table.item(r, 0).text(): view.table.item(r, 5).text()
            for r in range(view.table.rowCount())}


def _select_by_keyboard(qtbot, view, term: str) -> None:
    """Arrow keys to the term's row: moving the current row selects it (whole rows)."""
    view.table.setFocus()
    qtbot.waitUntil(view.table.hasFocus)
    target = [view.table.item(r, 0).text() for r in range(view.table.rowCount())].index(term)
    # Step away first: after a redraw the current row can be the target while the old
    # selection is kept, and arrowing onto it is what selects it.
    qtbot.keyClick(view.table, Qt.Key.Key_Down if target == 0 else Qt.Key.Key_Up)
    for _ in range(view.table.rowCount()):
        if view.table.currentRow() == target:
            break
        key = Qt.Key.Key_Down if view.table.currentRow() < target else Qt.Key.Key_Up
        qtbot.keyClick(view.table, key)
    qtbot.waitUntil(lambda: [t.text for t in view._selected()] == [term])


@pytest.mark.grant("transcript_storage", "transcription", "vocabulary_learning")
def test_a_term_is_marked_as_a_name_and_as_a_term_by_keyboard(qtbot, gate):
    window = open_window(qtbot, gate)
    store = window.storage.store
    VocabularyStore(store).add(["Kowalczyk", "Okonkwo"], gate)
    view = window.storage_ui.open_vocabulary()
    qtbot.waitUntil(lambda: view.table.rowCount() == 2)
    assert _kinds(view) == {"Kowalczyk": "not said: guessed", "Okonkwo": "not said: guessed"}
    assert not view.mark_name_button.isEnabled()  # nothing selected yet

    buttons = view.findChildren(QPushButton)
    letters = [m.group(1).casefold() for b in buttons
               if (m := re.search(r"&(\w)", b.text()))]
    assert len(letters) == len(set(letters)), letters
    for button in (view.mark_name_button, view.mark_term_button):
        assert accessible_texts(button)[0].startswith("Mark the selected terms")

    view.activateWindow()
    _select_by_keyboard(qtbot, view, "Okonkwo")
    assert view.mark_name_button.isEnabled()
    qtbot.keyClick(view, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: _kinds(view)["Okonkwo"] == "name: always redacted")
    assert "Marked as names: Okonkwo" in view.status.text()

    _select_by_keyboard(qtbot, view, "Kowalczyk")
    qtbot.keyClick(view, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: _kinds(view)["Kowalczyk"] == "term: never redacted")

    assert {t.text: t.kind for t in VocabularyStore(store).terms()} == {
        "Okonkwo": "name", "Kowalczyk": "term"}
    assert vocabulary_names(store) == ["Okonkwo"]
    assert vocabulary_terms(store) == ["Kowalczyk"]
