""""Share anonymised corrections…" in the window (issue 14 §2): the preview shows the file,
saving asks for the single-use permission with its notice and writes exactly what was shown;
declining writes nothing. Real widgets, store, ledger and OpenDP."""

from __future__ import annotations

import json

import pytest

from app.storage import open_store
from tests.contribution.corrected_meetings import REAL, REAL_PAIRS, store_meeting
from tests.ui.dialogs import DialogAnswerer
from tests.ui.storage_helpers import open_window

pytestmark = pytest.mark.grant("transcript_storage", "transcription")


@pytest.fixture
def window(qtbot, gate):
    with open_store() as store:
        for i in range(8):
            store_meeting(store, gate, REAL, f"Round {i}")
    win = open_window(qtbot, gate)
    yield win
    win.close()


def _preview(window, qtbot, epsilon):
    dialog = window.share_corrections()
    dialog.epsilon.setValue(epsilon)
    dialog.refresh()
    qtbot.waitUntil(dialog.save_button.isEnabled, timeout=30000)
    return dialog


def test_the_file_saved_is_the_preview_shown_after_the_permission_is_given(
        window, qtbot, gate, tmp_path):
    assert window.share_action in window.privacy_menu.actions()
    dialog = _preview(window, qtbot, 10.0)
    shown = dialog.preview.toPlainText()
    assert {(p["heard"], p["corrected"]) for p in json.loads(shown)["pairs"]} == REAL_PAIRS
    assert "8 meeting(s) read" in dialog.summary.text()

    target = tmp_path / "share.json"
    dialog.choose_path = lambda _suggested: str(target)
    answerer = DialogAnswerer(["allow"])
    try:
        dialog.save_button.click()
    finally:
        answerer.stop()
    assert answerer.seen == ["contribution"]
    written = target.read_text(encoding="utf-8")
    assert written == dialog.contribution.text
    assert written.strip() == shown.strip()  # what the user read is what was written
    assert "Wrote" in dialog.status.text()
    # single use: recorded as given, then ended by the export
    assert not gate.allowed("contribution")
    assert [r.state for r in gate.ledger.records() if r.purpose == "contribution"] == \
        ["given", "expired"]


def test_declining_the_permission_writes_nothing(window, qtbot, gate, tmp_path):
    dialog = _preview(window, qtbot, 1.0)
    target = tmp_path / "share.json"
    dialog.choose_path = lambda _suggested: str(target)
    answerer = DialogAnswerer(["deny"])
    try:
        dialog.save_button.click()
    finally:
        answerer.stop()
    assert answerer.seen == ["contribution"]
    assert not target.exists()
    assert "Nothing was written" in dialog.status.text()
    assert [r for r in gate.ledger.records() if r.purpose == "contribution"] == []
