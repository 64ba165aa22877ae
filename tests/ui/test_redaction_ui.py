""""Export redacted…" in the history (issue 14 §1): a preview with every redaction highlighted,
un-redacting one and redacting a selection before saving; the file holds exactly that, and the
stored meeting is unchanged. Real window, store, redactor and atomic writer."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QTextCursor

from app.storage import open_store
from tests.support.storage import record_meeting
from tests.ui.storage_helpers import open_window

pytestmark = pytest.mark.grant("transcript_storage", "transcription")

TEXTS = [
    "Anna Kowalczyk will send the budget on Friday.",
    "Write to anna.kowalczyk@example.com or call +44 20 7946 0958.",
    "The order number is 4411 2093 7781.",
]


@pytest.fixture
def window(qtbot, gate):
    with open_store() as store:
        record_meeting(store, gate, TEXTS, title="Budget with Anna Kowalczyk")
    win = open_window(qtbot, gate)
    yield win
    win.close()


def _open_preview(window):
    history = window.storage_ui.show_history()
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    assert history.export_redacted_button.isEnabled()
    history.export_redacted_button.click()
    dialog = history.redaction_dialog
    assert dialog is not None
    assert dialog.isVisible()
    return history, dialog


def _offset(line, text):
    return sum(len(t) + 1 for t in TEXTS[:line]) + TEXTS[line].index(text)


def _items(dialog):
    return [dialog.spans.item(i).text() for i in range(dialog.spans.count())]


def test_every_redaction_is_highlighted_and_edits_reach_the_file_not_the_store(
        window, tmp_path):
    history, dialog = _open_preview(window)
    assert dialog.preview.toPlainText().splitlines() == TEXTS  # the original, marked
    for line, text in ((0, "Anna Kowalczyk"), (1, "anna.kowalczyk@example.com"),
                       (1, "+44 20 7946 0958"), (2, "4411 2093 7781")):
        assert dialog.highlighted(_offset(line, text)), text
        assert any(repr(text) in item for item in _items(dialog)), text
    assert not dialog.highlighted(_offset(0, "budget"))
    assert "[NAME]" in dialog.title_label.text()

    # un-redact the phone number
    row = next(i for i, item in enumerate(_items(dialog)) if "7946" in item)
    dialog.spans.setCurrentRow(row)
    dialog.unredact_button.click()
    assert not dialog.highlighted(_offset(1, "+44 20 7946 0958"))
    assert not any("7946" in item for item in _items(dialog))

    # redact "budget" by selecting it
    cursor = dialog.preview.textCursor()
    start = _offset(0, "budget")
    cursor.setPosition(start)
    cursor.setPosition(start + len("budget"), QTextCursor.MoveMode.KeepAnchor)
    dialog.preview.setTextCursor(cursor)
    dialog.kind.setCurrentIndex(dialog.kind.findData("NUMBER"))
    dialog.redact_button.click()
    assert dialog.highlighted(start)
    assert any("'budget'" in item and "added by you" in item for item in _items(dialog))

    target = tmp_path / "redacted.txt"
    dialog.choose_path = lambda _suggested: str(target)
    dialog.save_button.click()
    assert dialog.saved_to == target
    assert target.read_text(encoding="utf-8").splitlines() == [
        "[NAME] will send the [NUMBER] on Friday.",
        "Write to [EMAIL] or call +44 20 7946 0958.",
        "The order number is [NUMBER].",
    ]
    assert (target.stat().st_mode & 0o777) == 0o600
    assert "redacted" in history.status.text()
    with open_store() as store:  # the stored meeting is unchanged
        meeting = store.get(store.list_meetings()[0].id)
        assert [s.text for s in meeting.segments] == TEXTS
        assert meeting.title == "Budget with Anna Kowalczyk"


def test_a_selection_across_lines_or_a_bad_name_is_explained_and_nothing_written(
        window, tmp_path):
    _history, dialog = _open_preview(window)
    cursor = dialog.preview.textCursor()
    cursor.setPosition(3)
    cursor.setPosition(_offset(1, "call"), QTextCursor.MoveMode.KeepAnchor)
    dialog.preview.setTextCursor(cursor)
    before = _items(dialog)
    dialog.redact_button.click()
    assert "within one line" in dialog.status.text()
    assert _items(dialog) == before

    target = tmp_path / "redacted.docx"
    dialog.choose_path = lambda _suggested: str(target)
    dialog.save_button.click()
    assert "Not saved" in dialog.status.text()
    assert ".txt" in dialog.status.text()
    assert not target.exists()
    assert dialog.isVisible()


@pytest.mark.grant("transcript_storage", "transcription", "vocabulary_learning")
def test_the_vocabulary_s_terms_are_kept_in_the_preview_and_its_names_caught(qtbot, gate):
    """The window's preview uses what the vocabulary knows, like `meetings export --redact`:
    a product in the glossary is no name even where a cue says so, a name in it always is."""
    from app.vocabulary.store import VocabularyStore

    texts = ["Grafana said the disk is full.", "Kowalczyk will look at it."]
    with open_store() as store:
        VocabularyStore(store).add(["Grafana", "Kowalczyk"], gate)
        record_meeting(store, gate, texts, title="Disk alert")
    win = open_window(qtbot, gate)
    history = win.storage_ui.show_history()
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    history.export_redacted_button.click()
    dialog = history.redaction_dialog
    assert dialog is not None
    assert not dialog.highlighted(0), "Grafana, a glossary term, is kept"
    assert dialog.highlighted(len(texts[0]) + 1), "Kowalczyk, a glossary name, is caught"
    dialog.close()
    win.close()
