"""The privacy self-check in the window (issue 14 §3): run in the background at start-up, "N of M
checks pass" in What Candor holds, expandable, a failure shown with what to do (there, and named
in the status bar) and cleared once mended. Real window, store, ledger, keys and checks."""

from __future__ import annotations

import os

import pytest

from app.storage import open_store
from tests.support.storage import record_meeting, speech_sentences
from tests.ui.storage_helpers import open_window

pytestmark = pytest.mark.grant("transcript_storage", "transcription")


def _checked(window, qtbot):
    checks = window.storage_ui.privacy_checks
    qtbot.waitUntil(lambda: checks.report is not None and not checks.running, timeout=30000)
    return checks.report


def _private(home):
    """chmod -R go-rwx (the test runner's umask, not Candor, made the log file 0644)."""
    for path in [home, *home.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)


@pytest.fixture
def stored(gate, candor_home):
    with open_store() as store:
        record_meeting(store, gate, speech_sentences()[:2], title="Budget")
    _private(candor_home)
    return candor_home


def test_the_checks_run_at_start_up_and_all_pass_expandable(qtbot, gate, stored):
    window = open_window(qtbot, gate)
    try:
        report = _checked(window, qtbot)
        assert report.ok, [(r.id, r.evidence) for r in report.failed]
        assert not window.storage_ui.privacy_note.isVisible()
        view = window.storage_ui.open_transparency()
        box = window.storage_ui.privacy_box
        assert box.isVisibleTo(view)
        assert box.summary.text().startswith(f"{len(report.results)} of {len(report.results)} "
                                             "checks pass")
        assert not box.tree.isVisibleTo(view)  # folded until asked
        box.toggle_button.click()
        assert box.tree.isVisibleTo(view)
        assert box.tree.topLevelItemCount() == len(report.results) == 9
        ledger = box.row("ledger_verifies")
        assert ledger.text(0).startswith("✓ pass")
        assert ledger.childCount() >= 1  # its evidence
        view.close()
    finally:
        window.close()


def test_a_broken_promise_is_shown_with_what_to_do_and_clears_when_mended(
        qtbot, gate, stored):
    db = stored / "candor.db"
    os.chmod(db, 0o644)  # readable by others: the files-private promise is broken
    window = open_window(qtbot, gate)
    try:
        report = _checked(window, qtbot)
        assert [r.id for r in report.failed] == ["files_private"]
        note = window.storage_ui.privacy_note
        assert note.isVisible()
        assert "8 of 9 checks pass" in note.text()
        assert "privacy_check" not in window.storage_ui.notices.notices  # no banner: no focus
        note.linkActivated.emit("holdings")  # what clicking the link does
        view = window.storage_ui.transparency
        box = window.storage_ui.privacy_box
        assert view.isVisible()
        assert box.summary.text().startswith("8 of 9 checks pass")
        assert box.tree.isVisibleTo(view)  # a failure is shown unfolded
        failed = box.row("files_private")
        assert failed.text(0).startswith("✗ FAIL")
        lines = [failed.child(i).text(0) for i in range(failed.childCount())]
        assert any(str(db) in line and "0644" in line for line in lines)
        assert any(line.startswith("What to do: ") and "chmod" in line for line in lines)

        _private(stored)  # mended as the remedy says (SQLite made its -wal/-shm 0644 too)
        box.again_button.click()
        qtbot.waitUntil(lambda: box.summary.text().startswith("9 of 9 checks pass"),
                        timeout=30000)
        assert not note.isVisible()
        view.close()
    finally:
        window.close()
