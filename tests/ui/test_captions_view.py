"""The live captions as a reader sees them: a conversation of blocks, each with its speaker and
its time, the words in progress dimmed, skipped stretches said, follow-along with "Jump to
live", adjustable size, and the compact always-on-top caption window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication

from app.segments import Segment
from app.ui.caption_painter import DIMMED
from app.ui.caption_window import OFF_TEXT
from app.ui.captions_view import CaptionsView
from tests.ui.layout_check import clipped, overlapping
from tests.ui.windows import shown_main_window


def _colour_of(view: CaptionsView, words: str) -> str:
    text = view.text.toPlainText()
    cursor = QTextCursor(view.text.document())
    cursor.setPosition(text.index(words) + 1)
    return cursor.charFormat().foreground().color().name()


def _lines(view: CaptionsView) -> list[str]:
    return view.text.toPlainText().splitlines()


def _view(qtbot, width: int = 500, height: int = 300) -> CaptionsView:
    view = CaptionsView()
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    return view


def test_two_speakers_read_as_blocks_with_their_label_and_time(qtbot):
    view = _view(qtbot)
    view.add_final(Segment(1.2, 3.0, "ask not what your country can do for you", True,
                           "microphone"))
    view.add_final(Segment(3.4, 5.0, "ask what you can do for your country", True,
                           "microphone"))  # 0.4 s later: the same turn
    view.add_final(Segment(6.0, 8.0, "my fellow citizens of the world", True, "system"))
    view.add_final(Segment(8.5, 9.0, "thank you", True, "microphone"))
    view.add_final(Segment(75.0, 77.0, "after a long silence", True, "microphone"))
    assert _lines(view) == [
        "You  0:01",
        "ask not what your country can do for you ask what you can do for your country",
        "Others  0:06",
        "my fellow citizens of the world",
        "You  0:08",
        "thank you",
        "You  1:15",  # a pause of two seconds or more starts a new block
        "after a long silence",
    ]
    assert _colour_of(view, "thank you") != DIMMED
    view.labels["system"] = "Dana"  # the user named the others
    view.add_final(Segment(80.0, 81.0, "welcome back", True, "system"))
    assert _lines(view)[-2:] == ["Dana  1:20", "welcome back"]
    assert view.final_text().startswith("ask not what your country can do for you ask what")


def test_the_partial_is_dimmed_in_its_speakers_block_then_replaced(qtbot):
    view = _view(qtbot)
    view.add_final(Segment(0, 2, "ask not what your country can do for you", True,
                           "microphone"))
    view.set_partial(Segment(2.2, 3, "ask what you", False, "microphone"))
    assert _lines(view) == ["You  0:00", "ask not what your country can do for you ask what you"]
    assert _colour_of(view, "ask not") != DIMMED
    assert _colour_of(view, "ask what you") == DIMMED
    assert view.partial_text() == "ask what you"
    view.set_partial(Segment(6.0, 7, "my fellow", False, "system"))  # the others, meanwhile
    assert _lines(view)[-2:] == ["Others  0:06", "my fellow"]
    assert _colour_of(view, "my fellow") == DIMMED
    view.add_final(Segment(2.2, 5, "ask what you can do for your country", True, "microphone"))
    assert _lines(view) == [
        "You  0:00",
        "ask not what your country can do for you ask what you can do for your country",
        "Others  0:06",
        "my fellow",
    ]
    assert _colour_of(view, "for your country") != DIMMED
    view.add_final(Segment(6.0, 8, "my fellow citizens", True, "system"))
    assert _lines(view)[-2:] == ["Others  0:06", "my fellow citizens"]
    assert _colour_of(view, "my fellow citizens") != DIMMED
    assert view.partial_text() == ""


def test_a_stretch_skipped_live_is_a_block_of_its_own_where_it_happened(qtbot):
    """Issue 13, defect 1: speech skipped to catch up is never silently missing."""
    view = _view(qtbot)
    view.add_final(Segment(0, 2, "ask not what your country can do for you", True,
                           "microphone"))
    view.set_partial(Segment(2, 3, "ask what", False, "microphone"))
    view.add_gap(Segment(3.0, 13.8, "", False, "microphone"))
    view.add_final(Segment(14, 16, "my fellow citizens of the world", True, "microphone"))
    assert _lines(view) == [
        "You  0:00",
        "ask not what your country can do for you",
        "You  0:03",
        "[11 s not captioned live — it will be in the final transcript]",
        "You  0:14",
        "my fellow citizens of the world",
    ], "the partial before the gap went with it"
    assert view.gap_lines() == [_lines(view)[3]]
    assert _colour_of(view, "11 s not captioned") == DIMMED
    assert "11 s not captioned live" in view.text.accessibleDescription()
    assert view.final_text() == ("ask not what your country can do for you my fellow citizens "
                                 "of the world"), "a gap is not a caption"


def test_following_pauses_on_scroll_up_and_jump_to_live_resumes_it(qtbot):
    view = _view(qtbot, 300, 160)
    for i in range(40):
        view.add_final(Segment(i * 3, i * 3 + 1, f"caption number {i} with words to wrap.",
                               True, "microphone" if i % 2 else "system"))
    bar = view.text.verticalScrollBar()
    assert bar.maximum() > 0
    assert bar.value() == bar.maximum()
    assert not view.jump_button.isVisible()
    bar.setValue(0)  # the reader scrolls up to read something
    assert view.jump_button.isVisible()
    view.add_final(Segment(200, 201, "a new caption arrives", True, "system"))
    view.set_partial(Segment(202, 203, "and another in progress", False, "system"))
    assert bar.value() == 0, "the captions moved under the reader"
    assert view.jump_button.isVisible()
    qtbot.mouseClick(view.jump_button, Qt.MouseButton.LeftButton)
    assert bar.value() == bar.maximum()
    assert not view.jump_button.isVisible()
    view.add_final(Segment(210, 211, "and the view follows again", True, "microphone"))
    assert bar.value() == bar.maximum()
    bar.setValue(0)
    bar.setValue(bar.maximum())  # scrolling back down also resumes following
    assert not view.jump_button.isVisible()


def test_captions_are_larger_than_body_text_and_resize_with_the_keyboard(qtbot):
    view = _view(qtbot)
    body = QApplication.font().pointSizeF()
    assert view.text.font().pointSizeF() > body
    default = view.text.font().pointSizeF()
    view.text.setFocus()
    qtbot.waitUntil(view.text.hasFocus)
    qtbot.keyClick(view.text, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert view.text.font().pointSizeF() > default
    qtbot.keyClick(view.text, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view.text, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert view.text.font().pointSizeF() < default
    qtbot.keyClick(view.text, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.text.font().pointSizeF() == default


def test_lag_indicator_shows_only_when_behind(qtbot):
    view = _view(qtbot)
    view.set_lag(0.8)
    assert not view.lag.isVisible()
    view.set_lag(4.2)
    assert view.lag.isVisible()
    assert "4.2 s behind" in view.lag.text()


def test_the_compact_window_stays_on_top_mirrors_the_last_lines_and_empties_when_off(qtbot):
    view = _view(qtbot)
    for i in range(6):
        view.add_final(Segment(i * 10, i * 10 + 1, f"sentence {i}", True,
                               "system" if i % 2 else "microphone"))
    qtbot.mouseClick(view.window_button, Qt.MouseButton.LeftButton)
    window = view.caption_window
    assert window is not None
    qtbot.waitUntil(window.isVisible)
    assert window.isWindow()
    assert window.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert window.windowFlags() & Qt.WindowType.Tool
    assert window.shown_text().splitlines() == [
        "Others  0:30", "sentence 3", "You  0:40", "sentence 4", "Others  0:50", "sentence 5"]
    view.zoom(1)
    assert window.text.font().pointSizeF() == view.text.font().pointSizeF()
    view.set_partial(Segment(60, 61, "and now", False, "system"))
    assert window.shown_text().splitlines()[-2:] == ["Others  1:00", "and now"]
    view.set_live(False)  # captions withdrawn
    assert window.shown_text() == ""
    assert window.text.placeholderText() == OFF_TEXT
    view.add_final(Segment(62, 63, "a caption after the withdrawal", True, "system"))
    assert window.shown_text() == "", "the compact window showed a caption once off"
    view.set_live(True)
    view.clear()
    assert window.shown_text() == ""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isVisible())
    view.open_caption_window()
    qtbot.waitUntil(window.isVisible)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible())


def test_the_compact_window_goes_with_the_meeting_view(qtbot, candor_home):
    window = shown_main_window(qtbot)
    captions = window.meeting_view.captions
    window.show_page("meeting")
    window.activateWindow()
    captions.text.setFocus()
    qtbot.waitUntil(captions.text.hasFocus)
    qtbot.keyClick(captions.text, Qt.Key.Key_C,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    compact = captions.caption_window
    assert compact is not None
    assert compact.isVisible()
    assert compact.text.placeholderText() == OFF_TEXT, "no meeting: captions are off"
    destroyed: list[bool] = []
    compact.destroyed.connect(lambda: destroyed.append(True))
    window.meeting_view.deleteLater()
    qtbot.waitUntil(lambda: destroyed == [True])


def test_the_captions_area_is_not_clipped_at_800_by_600(qtbot, candor_home):
    window = shown_main_window(qtbot)
    window.show_page("meeting")
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800)
    captions = window.meeting_view.captions
    for i in range(30):
        captions.add_final(Segment(i * 3, i * 3 + 2, f"a caption long enough to wrap {i} " * 3,
                                   True, "system" if i % 3 else "microphone"))
    captions.set_lag(5.0)
    captions.text.verticalScrollBar().setValue(0)
    qtbot.waitUntil(captions.jump_button.isVisible)
    assert clipped(captions) == []
    assert overlapping(captions) == []
