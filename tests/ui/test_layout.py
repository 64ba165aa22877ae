"""No visible control is clipped or overlapped on any page, at 800×600, 1280×800 and
1920×1080, at the platform font and at 200 %, in light and dark palettes (issue 13, checks),
and at the window's minimum size, 640×480, at the platform font. At 640×480 and 800×600 at the
platform font no page scrolls sideways either.

Real widgets laid out by Qt (offscreen); "clipped" and "overlapping" are defined in
tests/ui/layout_check.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtWidgets import QAbstractScrollArea, QApplication

from app.segments import Segment
from app.storage import StoredMeetingSink, open_store
from app.ui.pages import PAGE_BY_ID, PAGES, PageSpec
from app.ui.theme import apply_theme
from tests.support.storage import record_meeting, speech_sentences
from tests.ui.layout_check import clipped, overlapping, settle
from tests.ui.storage_helpers import open_window

pytestmark = pytest.mark.grant("transcript_storage", "transcription")

SIZES = [(800, 600), (1280, 800), (1920, 1080)]
# The window's minimum size (MainWindow.MIN_WIDTH × MIN_HEIGHT), checked at the platform font:
# at 200 % font a page may scroll there, but nothing is cut or overlaps at 100 %.
SMALLEST = (640, 480)


@pytest.fixture(params=[(1.0, "light"), (2.0, "light"), (1.0, "dark"), (2.0, "dark")],
                ids=["100%-light", "200%-light", "100%-dark", "200%-dark"])
def look(request, qapp):
    scale, theme = request.param
    original = QApplication.font()
    font = QApplication.font()
    font.setPointSizeF(font.pointSizeF() * scale)
    QApplication.setFont(font)
    apply_theme(theme)
    yield scale, theme
    QApplication.setFont(original)
    apply_theme("system")


def test_no_control_is_clipped_or_overlapping_on_any_page(look, qtbot, gate):
    now = datetime.now(UTC).replace(microsecond=0)
    with open_store() as store:
        record_meeting(store, gate, speech_sentences()[:6],
                       title="Call with the accessibility reviewers",
                       started=now - timedelta(hours=3), ended=now - timedelta(hours=2))
    window = open_window(qtbot, gate)
    window.meeting_view.welcome.show()  # the first-run card, the longest meeting page
    window.meeting_view.audio.set_devices([], None)  # "No microphone found": the widest strip
    problems: list[str] = []
    scale, _theme = look
    for width, height in ([SMALLEST] if scale == 1.0 else []) + SIZES:
        window.resize(width, height)
        qtbot.waitUntil(lambda w=width: window.width() == w)
        for spec in PAGES:
            page = window.show_page(spec.id)
            if spec.id == "history":
                window.history_view.meetings.setCurrentItem(
                    window.history_view.meetings.topLevelItem(0))
            settle(window)
            assert window.width() == width, f"{spec.title} widened the window"
            where = f"{spec.title} at {width}×{height}"
            problems += [f"{where}: {p}" for p in clipped(page)]
            problems += [f"{where}: {p}" for p in overlapping(page)]
        problems += [f"sidebar at {width}×{height}: {p}" for p in clipped(window.shell.sidebar)]
        problems += [f"status bar at {width}×{height}: {p}"
                     for p in clipped(window.statusBar())]
    window.close()
    assert not problems, "\n".join(problems)


SIDEWAYS_CHECKED = list(PAGES)


def test_no_page_scrolls_sideways_at_640_and_800_px_at_the_platform_font(qtbot, gate):
    """Nothing cut is not enough: a page wider than the window hides its right edge behind a
    horizontal scroll bar. Shown at their widest: the first-run card, "No microphone found",
    a meeting of both speakers open in the history; then the meeting page as it is while the
    others are captioned (both indicators, "Someone objected", the participants' banner, their
    meter)."""
    said = [Segment(0.0, 2.0, "Shall we start with the budget review for the quarter?", True,
                    "microphone"),
            Segment(2.5, 5.0, "Yes, the numbers came in this morning.", True, "system")]
    with open_store() as store:
        sink = StoredMeetingSink(store, gate, source="window",
                                 title="Call with the accessibility reviewers")
        for segment in said:
            sink.on_final(segment)
        sink.on_finished(said)
    window = open_window(qtbot, gate)
    view = window.meeting_view
    view.welcome.show()
    view.audio.set_devices([], None)
    history = window.history_view
    qtbot.waitUntil(lambda: history.meetings.topLevelItemCount() == 1)
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    qtbot.waitUntil(lambda: history.open_id is not None)
    sideways: list[str] = []

    def look(pages: list[PageSpec], state: str) -> None:
        for width, height in (SMALLEST, (800, 600)):
            window.resize(width, height)
            qtbot.waitUntil(lambda w=width, h=height: (window.width(), window.height()) == (w, h))
            for spec in pages:
                window.show_page(spec.id)
                area = window.shell.stack.currentWidget()
                assert isinstance(area, QAbstractScrollArea)
                qtbot.waitUntil(area.isVisible)
                settle(window)
                if area.horizontalScrollBar().isVisible():
                    sideways.append(f"{spec.title}{state} at {width}×{height}: needs "
                                    f"{window.pages[spec.id].minimumSizeHint().width()} px, "
                                    f"has {area.viewport().width()}")

    look(SIDEWAYS_CHECKED, "")
    view.set_ai_activity("Transcribing and removing noise on this device")
    view.others_indicator.show()
    view.objected_button.show()
    view.audio.set_others_visible(True)
    view.participants_banner.show_message(
        "The others are captioned once you confirm they were told: paste the announcement into "
        "the call's chat.")
    look([PAGE_BY_ID["meeting"]], " (the others captioned)")
    window.close()
    assert not sideways, "pages scroll sideways:\n" + "\n".join(sideways)
