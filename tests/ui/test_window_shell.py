"""The window's shell (issue 13): one page per place reached from the sidebar, the menus and
Ctrl+1…5; the AI indicator leading to the permissions; safe defaults in every destructive
question; titles and durations said once and plainly; the file window closing like a window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from app.storage import open_store
from app.ui.file_transcription import FileTranscriptionWindow
from app.ui.storage_text import span
from tests.support.storage import record_meeting, speech_sentences
from tests.ui.storage_helpers import open_window

pytestmark = pytest.mark.grant("transcript_storage", "transcription")

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def window(qtbot, gate):
    win = open_window(qtbot, gate)
    yield win
    win._close_confirmed = True
    win.close()


class EnterPresser:
    """Answers the next modal question by pressing Enter, as a reflexive user does, and records
    the question and the role of its default button."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, QMessageBox.ButtonRole]] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            return
        default = box.defaultButton()
        role = box.buttonRole(default) if default is not None else QMessageBox.ButtonRole.NoRole
        self.seen.append((box.text(), role))
        self.timer.stop()
        focused = QApplication.focusWidget() or box
        from PySide6.QtTest import QTest

        QTest.keyClick(focused, Qt.Key.Key_Return)
        if box.isVisible():  # Enter did nothing at all: close it so the test can go on
            box.reject()


def test_every_place_is_a_page_reached_from_the_sidebar_and_by_keyboard(window, qtbot):
    sidebar = window.shell.sidebar
    titles = [sidebar.item(i).text() for i in range(sidebar.count())]
    assert titles == ["Meeting", "History", "Privacy & consent", "What Candor holds", "Settings"]
    assert window.shell.current == "meeting"
    assert window.meeting_view.isVisible()
    pages = [window.meeting_view, window.history_view, window.consent_panel,
             window.storage_ui.transparency, window.settings_page]
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    for number, page in reversed(list(enumerate(pages, start=1))):
        qtbot.keyClick(window, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)
        assert page.isVisible(), titles[number - 1]
        assert [p for p in pages if p.isVisible()] == [page], "one page at a time"
    # A page other than the meeting is named in the title, once, before the app's name.
    window.show_page("history")
    assert window.windowTitle() == "History — Candor"
    # The consent panel and What Candor holds are pages of the window, not extra windows.
    assert window.consent_panel.window() is window
    assert window.storage_ui.transparency.window() is window


def test_the_ai_indicator_opens_the_permissions_tab(window, qtbot):
    panel = window.open_consent_panel("history")
    assert panel.tabs.currentWidget() is panel.history
    window.show_page("meeting")
    view = window.meeting_view
    view.set_ai_activity("Transcribing on this device")
    assert view.ai_indicator.isVisible()
    qtbot.mouseClick(view.ai_indicator, Qt.MouseButton.LeftButton)
    assert window.shell.current == "privacy"
    assert panel.tabs.currentIndex() == 0
    assert panel.tabs.tabText(0) == "Permissions"
    # The title says what runs, and "Candor" once, at the end (Qt adds it to a title that
    # does not end with it).
    assert window.windowTitle() == "● Transcribing on this device — Privacy & consent — Candor"
    assert window.windowTitle().count("Candor") == 1


def test_durations_are_said_plainly():
    assert span(10) == "10 s"
    assert span(158) == "2 min 38 s"
    assert span(720) == "12 min"
    assert span(95 * 60) == "1 h 35 min"
    assert span(3600) == "1 h"


def test_a_default_title_is_not_followed_by_its_date_again(window, gate, qtbot, tmp_path):
    with open_store() as store:
        # No title given: the store names it "Meeting <date> <time>".
        mid = record_meeting(store, gate, speech_sentences()[:2], title="",
                             started=NOW - timedelta(minutes=10), ended=NOW)
        default = store.summary(mid).title
    assert default is not None
    assert default.startswith("Meeting 20")
    history = window.storage_ui.show_history()
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    date = default.removeprefix("Meeting ")
    assert history.page.heading.text() == default
    assert date not in history.page.facts.text()
    assert history.page.facts.text().startswith("10 min · 2 segments")
    suggested = []
    history.choose_export_path = lambda stem: suggested.append(stem) or ""
    history.export_selected()
    assert suggested == [default.replace(":", "")], "the date once in the file name"


def test_destructive_questions_default_to_the_safe_choice(window, gate, qtbot):
    with open_store() as store:
        mid = record_meeting(store, gate, speech_sentences()[:3], title="Weekly sync",
                             started=NOW - timedelta(minutes=12), ended=NOW)
    window.storage.notify_changed()
    # Withdraw and delete: Enter cancels, and the question names what would go.
    panel = window.open_consent_panel()
    row = panel.rows["transcript_storage"]
    enter = EnterPresser()
    qtbot.mouseClick(row.delete_button, Qt.MouseButton.LeftButton)
    [(text, role)] = enter.seen
    assert role == QMessageBox.ButtonRole.RejectRole
    day = (NOW - timedelta(minutes=12)).astimezone()
    assert f"the transcript of “Weekly sync”, {day.day} {day:%b}, 12 min" in text
    assert gate.allowed("transcript_storage")
    assert [m.id for m in window.storage.store.list_meetings()] == [mid]
    # Erase everything: Enter cancels.
    view = window.storage_ui.open_transparency()
    enter = EnterPresser()
    qtbot.mouseClick(view.erase_button, Qt.MouseButton.LeftButton)
    [(_text, role)] = enter.seen
    assert role == QMessageBox.ButtonRole.RejectRole
    assert [m.id for m in window.storage.store.list_meetings()] == [mid]
    # Deleting from the history: Enter cancels, and it names the meeting the same way.
    history = window.storage_ui.show_history()
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    enter = EnterPresser()
    qtbot.mouseClick(history.delete_button, Qt.MouseButton.LeftButton)
    [(text, role)] = enter.seen
    assert role == QMessageBox.ButtonRole.RejectRole
    assert text.startswith(f"The transcript of “Weekly sync”, {day.day} {day:%b}, 12 min")
    assert [m.id for m in window.storage.store.list_meetings()] == [mid]


def test_discard_on_quit_defaults_to_cancel(window, qtbot):
    window.has_unsaved_transcript = lambda: True  # a transcript held only in memory
    enter = EnterPresser()
    window.close()
    [(text, role)] = enter.seen
    assert "exists only in memory" in text
    assert role == QMessageBox.ButtonRole.RejectRole
    assert window.isVisible(), "Enter kept the window (and the transcript)"
    window.has_unsaved_transcript = lambda: False


@pytest.mark.parametrize("how", ["button", "escape", "ctrl+w"])
def test_the_file_window_closes_with_its_button_esc_and_ctrl_w(window, qtbot, how):
    files = FileTranscriptionWindow(window.gate, window.storage, window)
    files.show()
    qtbot.waitExposed(files)
    files.activateWindow()
    qtbot.waitUntil(files.isActiveWindow)
    assert files.close_button.isVisible()
    if how == "button":
        qtbot.mouseClick(files.close_button, Qt.MouseButton.LeftButton)
    elif how == "escape":
        qtbot.keyClick(files, Qt.Key.Key_Escape)
    else:
        qtbot.keyClick(files, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not files.isVisible(), timeout=2000)
    assert window.isVisible(), "only the file window closed"


def test_the_window_keeps_its_size_and_gives_the_history_list_its_share(window, gate, qtbot):
    assert window.minimumSize().width() <= 640
    window.resize(400, 300)
    assert window.width() >= 640, "a sensible minimum size"
    assert window.height() >= 480
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800)
    with open_store() as store:
        title = "Quarterly call with the accessibility reviewers"
        record_meeting(store, gate, speech_sentences()[:2], title=title,
                       started=NOW - timedelta(hours=1), ended=NOW)
    window.storage.notify_changed()
    window.storage_ui.show_history()
    window.history_view.meetings.setCurrentItem(window.history_view.meetings.topLevelItem(0))
    long_text = "A very long message about what Candor just did. " * 8
    window.statusBar().showMessage(long_text)
    window.storage_ui._retention_note(long_text)
    qtbot.wait(50)
    assert window.width() == 800, "the window widened itself"
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280)
    history = window.history_view
    qtbot.waitUntil(lambda: history.meetings.width() > 0)
    share = history.meetings.width() / history.width()
    assert 0.4 <= share <= 0.6, f"the list takes {share:.0%} of the page"
    item = history.meetings.topLevelItem(0)
    need = history.meetings.fontMetrics().horizontalAdvance(item.text(0))
    header = history.meetings.header()
    qtbot.waitUntil(lambda: header.sectionSize(0) >= need, timeout=2000)
    # The status bar stayed one line; the long note is whole in its tooltip.
    assert window.statusBar().height() < 3 * window.statusBar().fontMetrics().height()
    assert window.storage_ui.status_note.toolTip().startswith(long_text.strip())


def test_settings_show_the_models_and_switch_the_theme_and_back(window, qtbot):
    from app.settings import Settings
    from app.ui.theme import is_dark

    page = window.show_page("settings")
    assert page is window.settings_page
    assert window.settings_page.live_model.text() == "tiny.en (the default)"
    assert window.settings_page.final_model.text() == "tiny.en (the default)"
    light = QApplication.palette()
    assert not is_dark(light)
    theme = window.settings_page.theme
    try:
        for wanted, dark in (("dark", True), ("system", False), ("light", False)):
            index = theme.findData(wanted)
            theme.setCurrentIndex(index)
            theme.activated.emit(index)  # what choosing it with mouse or keyboard emits
            assert is_dark(QApplication.palette()) is dark, wanted
            assert Settings().get("theme") == wanted, "remembered for the next start"
    finally:
        from app.ui.theme import apply_theme

        apply_theme("system")
    # The review period chosen here is the one `candor consent review` uses.
    from app.consent.review import load_period

    review = window.settings_page.review
    index = review.findData("12m")
    review.setCurrentIndex(index)
    review.activated.emit(index)
    assert load_period(Settings()) == "12m"


def test_every_feature_of_main_is_reached_from_a_page_of_the_shell(window, qtbot):
    """Settings opens Speech models and says what protects the keys (and how to add a
    passphrase); History reaches Correct… and Export redacted…; Privacy reaches What Candor
    learned and Share anonymised corrections."""
    settings = window.show_page("settings")
    assert settings is window.settings_page
    assert window.settings_page.models_button.isVisible()
    qtbot.mouseClick(window.settings_page.models_button, Qt.MouseButton.LeftButton)
    assert window.models_window is not None
    qtbot.waitUntil(window.models_window.isVisible)
    window.models_window.close()
    protection = window.settings_page.protection.text()
    assert protection.startswith("What protects your keys:")
    assert "What remains at risk" in protection
    assert any("candor keys passphrase set" in label.text() and label.isVisible()
               for label in window.settings_page.findChildren(QLabel))
    window.show_page("history")
    for button in (window.history_view.correct_button,
                   window.history_view.export_redacted_button):
        assert button.isVisible()
        assert button.window() is window
    actions = [a.text() for a in window.privacy_menu.actions()]
    assert "What Candor &learned…" in actions
    assert "Share anonymised &corrections…" in actions
