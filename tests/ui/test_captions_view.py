"""The captions view as a reader sees it."""

from __future__ import annotations

from PySide6.QtGui import QTextCursor

from app.segments import Segment
from app.ui.captions_view import CaptionsView


def _colour_at(view: CaptionsView, position: int) -> str:
    cursor = QTextCursor(view.text.document())
    cursor.setPosition(position + 1)
    return cursor.charFormat().foreground().color().name()


def test_finals_are_normal_and_the_partial_is_dimmed(qtbot):
    view = CaptionsView()
    qtbot.addWidget(view)
    view.add_final(Segment(0, 2, "ask not what your country can do for you"))
    view.set_partial(Segment(2, 3, "ask what you"))
    text = view.text.toPlainText()
    assert text == "ask not what your country can do for you ask what you"
    assert _colour_at(view, 0) != "#8a8a8a"
    assert _colour_at(view, text.index("ask what")) == "#8a8a8a"
    view.set_partial(Segment(2, 4, "ask what you can do"))
    assert view.text.toPlainText().endswith("you ask what you can do")
    view.add_final(Segment(2, 5, "ask what you can do for your country"))
    assert view.text.toPlainText() == (
        "ask not what your country can do for you ask what you can do for your country"
    )
    assert view.partial_text() == ""
    assert _colour_at(view, len(view.text.toPlainText()) - 3) != "#8a8a8a"


def test_follows_new_captions_until_the_reader_scrolls_up(qtbot):
    view = CaptionsView()
    qtbot.addWidget(view)
    view.resize(300, 120)
    view.show()
    for i in range(60):
        view.add_final(Segment(i, i + 1, f"caption number {i} with several words to wrap."))
    bar = view.text.verticalScrollBar()
    assert bar.maximum() > 0
    assert bar.value() == bar.maximum()
    bar.setValue(0)  # the reader scrolls up to read something
    view.add_final(Segment(61, 62, "a new caption arrives"))
    view.set_partial(Segment(62, 63, "and another in progress"))
    assert bar.value() == 0
    bar.setValue(bar.maximum())  # back at the bottom: following again
    view.add_final(Segment(63, 64, "and the view follows again"))
    assert bar.value() == bar.maximum()


def test_lag_indicator_shows_only_when_behind(qtbot):
    view = CaptionsView()
    qtbot.addWidget(view)
    view.show()
    view.set_lag(0.8)
    assert not view.lag.isVisible()
    view.set_lag(4.2)
    assert view.lag.isVisible()
    assert "4.2 s behind" in view.lag.text()


def test_a_stretch_skipped_live_is_a_visible_gap_where_it_happened(qtbot):
    """Issue 13, defect 1: speech skipped to catch up is never silently missing."""
    view = CaptionsView()
    qtbot.addWidget(view)
    view.add_final(Segment(0, 2, "ask not what your country can do for you"))
    view.set_partial(Segment(2, 3, "ask what"))
    view.add_gap(Segment(3.0, 13.8, "", False, "microphone"))
    view.add_final(Segment(14, 16, "my fellow citizens of the world"))
    lines = view.text.toPlainText().splitlines()
    assert lines == [
        "ask not what your country can do for you",
        "[11 s not captioned live — it will be in the final transcript]",
        "my fellow citizens of the world",
    ], "the partial before the gap went with it"
    assert view.gap_lines() == [lines[1]]
    assert "11 s not captioned live" in view.text.accessibleDescription()
    assert view.final_text() == ("ask not what your country can do for you my fellow citizens "
                                 "of the world"), "a gap is not a caption"
