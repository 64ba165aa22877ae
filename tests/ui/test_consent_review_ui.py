"""Consent reviewed over time, in the window (issue 14 §4): after the review period a calm
banner lists what is due; Review opens Privacy & consent where Keep records `reviewed`; ignoring
or dismissing the banner records and changes nothing. Clocks are injected, never waited for:
the ledger's (grants recorded seven months ago) or the window's (time passing while it is
open). Real window, ledger and settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.consent.review import save_period
from tests.support.clock import install_ledger_clock
from tests.ui.storage_helpers import open_window

PURPOSES = ("transcription", "transcript_storage")
NOW = datetime.now(UTC)
LATER = NOW + timedelta(days=7 * 31)  # past the default 6 months


@pytest.fixture
def fresh_window(qtbot, gate):
    """Permissions given just now."""
    for purpose in PURPOSES:
        gate.grant(purpose, via="test")
    win = open_window(qtbot, gate)
    yield win
    win.close()


@pytest.fixture
def window(qtbot, gate, monkeypatch):
    """Permissions given seven months ago (the ledger's clock set back), the window opened now."""
    clock = install_ledger_clock(monkeypatch, NOW - timedelta(days=213))
    for purpose in PURPOSES:
        gate.grant(purpose, via="test")
    clock.now = datetime.now(UTC)
    win = open_window(qtbot, gate)
    yield win
    win.close()


def _banner(window):
    return window.storage_ui.notices.notices.get("consent_review")


def _records(gate):
    return [(r.purpose, r.state) for r in gate.ledger.records()]


def _later(window):
    window.storage.clock = lambda: LATER
    window.consent_review.refresh()


def test_the_banner_appears_once_the_period_has_passed(fresh_window):
    assert _banner(fresh_window) is None
    _later(fresh_window)  # the window left open for seven months
    assert _banner(fresh_window) is not None


def test_the_banner_at_start_up_lists_what_is_due_and_ignoring_it_changes_nothing(window, gate):
    before = _records(gate)
    banner = _banner(window)
    assert banner is not None
    text = banner.label.text()
    titles = [gate.notices.current(p).title for p in ("transcription", "transcript_storage")]
    assert all(t in text for t in titles)
    assert "Review" in banner.action_buttons
    banner.dismiss_button.click()
    assert _banner(window) is None
    window.consent_review.refresh()  # dismissed: stays quiet for what was already due
    assert _banner(window) is None
    assert _records(gate) == before  # nothing recorded
    assert gate.allowed("transcription")
    assert gate.allowed("transcript_storage")


def test_review_opens_the_panel_and_keep_records_reviewed(window, gate, qtbot):
    _banner(window).action_buttons["Review"].click()
    panel = window.consent_panel
    assert panel is not None
    assert panel.isVisible()
    box = window.consent_review.box
    assert box.isVisibleTo(panel)
    assert set(box.keep_buttons) == {"transcription", "transcript_storage"}

    box.keep_buttons["transcription"].click()
    notes = [r for r in gate.ledger.records() if r.state == "reviewed"]
    assert [(r.purpose, r.collection_method) for r in notes] == \
        [("transcription", "consent review")]
    qtbot.waitUntil(lambda: set(box.keep_buttons) == {"transcript_storage"})
    title = gate.notices.current("transcript_storage").title
    assert title in _banner(window).label.text()
    assert gate.notices.current("transcription").title not in _banner(window).label.text()

    box.keep_buttons["transcript_storage"].click()
    qtbot.waitUntil(lambda: _banner(window) is None)
    assert not box.isVisibleTo(panel)
    assert gate.allowed("transcription")
    assert gate.allowed("transcript_storage")
    panel.close()


def test_withdrawing_from_the_review_stops_it(window, gate):
    panel = window.consent_review.open_review()
    window.consent_review.box.withdraw_buttons["transcription"].click()
    assert not gate.allowed("transcription")
    assert "transcription" not in window.consent_review.box.keep_buttons
    panel.close()


def test_a_review_period_of_never_shows_no_banner(window):
    assert _banner(window) is not None
    save_period("never", window.settings)
    window.consent_review.refresh()
    assert _banner(window) is None
