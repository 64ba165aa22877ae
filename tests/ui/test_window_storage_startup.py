"""The window's start-up with stored data (instance lock, damaged database, crash recovery,
retention clock), closing with an unsaved transcript, and the stored-data views' accessibility.
Real window, store, ledger and lock; `candor` itself in a subprocess where the process matters."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton

from app.paths import data_dir
from app.segments import Segment
from app.storage import InstanceLock, StoredMeetingSink, open_store
from app.storage.database import DB_NAME
from app.ui.main_window import MainWindow
from tests.support.processes import dead_process, owned_by
from tests.support.storage import record_meeting
from tests.ui.dialogs import DialogAnswerer
from tests.ui.storage_helpers import accessible_texts, interactive, open_window

pytestmark = pytest.mark.grant("transcript_storage", "transcription")

REPO = Path(__file__).resolve().parents[2]
CANDOR = Path(sys.executable).parent / "candor"
NOW = datetime.now(UTC).replace(microsecond=0)


def _ended_ago(store, gate, title, ago: timedelta, texts=("a caption",)):
    started = datetime.now(UTC) - ago - timedelta(minutes=10)
    return record_meeting(store, gate, list(texts), title=title, started=started,
                          ended=started + timedelta(minutes=10))


# -- start-up upkeep ------------------------------------------------------------------------


def test_retention_runs_at_start_up_and_says_so_discreetly(qtbot, gate):
    with open_store() as store:
        old = _ended_ago(store, gate, "Old", timedelta(days=40))
        recent = _ended_ago(store, gate, "Recent", timedelta(days=2))
    window = open_window(qtbot, gate)
    assert [m.id for m in window.storage.store.list_meetings()] == [recent]
    assert old not in {m.id for m in window.history_view.storage.store.list_meetings()}
    note = window.storage_ui.status_note
    assert note.isVisible()
    assert note.text().startswith("Erased 1 transcript kept longer than 30 days")
    assert window.storage_ui.notices.texts() == [], "a routine erase is not an alarm"
    # The clock runs on: the next check is at the next expiry, at most an hour away.
    # (The recent meeting expires in 28 days, so the hourly check comes first; Qt's coarse
    # timers may add up to 5 %.)
    wait = window.storage.next_retention_check_ms
    assert 3500 * 1000 <= wait <= 3600 * 1000 * 1.05
    window.close()


def test_the_retention_clock_erases_a_transcript_when_it_expires(qtbot, gate):
    """No clock tricks: a meeting that expires seconds after start-up is erased by the window's
    own timer, and the history follows."""
    with open_store() as store:
        soon = _ended_ago(store, gate, "Expiring", timedelta(days=30) - timedelta(seconds=6))
        keep = _ended_ago(store, gate, "Kept", timedelta(days=1))
    window = open_window(qtbot, gate)
    history = window.storage_ui.show_history()
    assert history.meetings.topLevelItemCount() == 2
    assert window.storage.next_retention_check_ms <= 6000 * 1.05
    qtbot.waitUntil(lambda: history.meetings.topLevelItemCount() == 1, timeout=20000)
    assert [m.id for m in window.storage.store.list_meetings()] == [keep]
    assert window.storage.last_retention.erased == [soon]
    assert "Erased 1 transcript" in window.storage_ui.status_note.text()
    window.close()


def test_a_meeting_interrupted_by_a_crash_is_closed_and_announced(qtbot, gate):
    with open_store() as store:
        sink = StoredMeetingSink(store, gate, source="window", title="Crashed",
                                 started=NOW - timedelta(minutes=5))
        sink.on_final(Segment(0.0, 3.0, "said before the crash"))
        sink.on_final(Segment(3.0, 7.5, "also said before it"))
    # The process recording it dies here: no finish(), and its owner is a process now gone.
    owned_by(sink.meeting_id, dead_process())
    window = open_window(qtbot, gate)
    summary = window.storage.store.summary(sink.meeting_id)
    assert summary.interrupted
    assert summary.ended == summary.started + timedelta(seconds=7.5)
    assert any("interrupted" in t for t in window.storage_ui.notices.texts())
    history = window.storage_ui.show_history()
    assert history.meetings.topLevelItem(0).text(2).endswith("(interrupted)")
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    assert "said before the crash" in history.transcript.toPlainText()
    window.close()


def test_a_window_without_the_lock_shows_meetings_but_leaves_upkeep_alone(qtbot, gate):
    with open_store() as store:
        old = _ended_ago(store, gate, "Old", timedelta(days=40))
    window = MainWindow()  # as tests and previews build it: its own store, no lock
    qtbot.addWidget(window)
    assert not window.storage.does_upkeep
    assert [m.id for m in window.storage.store.list_meetings()] == [old]
    assert window.storage.next_retention_check_ms == -1
    assert window.storage_ui.show_history().meetings.topLevelItemCount() == 1
    window.close()


def test_a_damaged_database_is_set_aside_and_the_window_says_so(qtbot, gate, candor_home):
    garbage = os.urandom(32 * 1024)
    (data_dir() / DB_NAME).write_bytes(garbage)
    window = open_window(qtbot, gate)
    notices = window.storage_ui.notices
    assert window.storage_ui.notice_dock.isVisible()
    [text] = notices.texts()
    kept = list(candor_home.glob("candor.db.corrupt-*"))
    assert len(kept) == 1
    assert kept[0].read_bytes() == garbage, "nothing dropped: the damaged file is kept"
    assert "damaged" in text
    assert str(kept[0]) in text
    assert window.storage.store.list_meetings() == []
    # It stays until the user dismisses it, and the report lists the file set aside.
    view = window.storage_ui.open_transparency()
    assert view.row("set_aside_databases").text(1) == "1"
    notice = notices.notices["recovery"]
    qtbot.mouseClick(notice.dismiss_button, Qt.MouseButton.LeftButton)
    assert notices.texts() == []
    assert not window.storage_ui.notice_dock.isVisible()
    window.close()


def test_a_set_aside_database_is_announced_at_every_start_until_kept(qtbot, gate, candor_home):
    (data_dir() / DB_NAME).write_bytes(os.urandom(32 * 1024))
    first = open_window(qtbot, gate)
    assert "moved aside" in " ".join(first.storage_ui.notices.texts())
    first.close()
    # The next start did not set anything aside itself, and still says it.
    second = open_window(qtbot, gate)
    [text] = second.storage_ui.notices.texts()
    assert text.startswith("A damaged meeting database was set aside")
    assert second.storage_ui.notice_dock.isVisible()
    notice = second.storage_ui.notices.notices["set_aside"]
    qtbot.mouseClick(notice.action_buttons["Keep it"], Qt.MouseButton.LeftButton)
    assert second.storage_ui.notices.texts() == []
    [kept] = [p for p in candor_home.glob("candor.db.corrupt-*") if p.name.endswith(".kept")]
    second.close()
    third = open_window(qtbot, gate)
    assert third.storage_ui.notices.texts() == [], "kept: no more reminders"
    third.close()
    assert kept.exists(), "kept means kept"


def test_a_set_aside_database_can_be_erased_from_the_window(qtbot, gate, candor_home):
    (data_dir() / DB_NAME).write_bytes(os.urandom(32 * 1024))
    window = open_window(qtbot, gate)
    notice = window.storage_ui.notices.notices["recovery"]
    answers = DialogAnswerer(["cancel"])
    qtbot.mouseClick(notice.action_buttons["Erase it…"], Qt.MouseButton.LeftButton)
    answers.stop()
    assert list(candor_home.glob("candor.db.corrupt-*")), "Cancel erases nothing"
    answers = DialogAnswerer(["confirm"])
    qtbot.mouseClick(notice.action_buttons["Erase it…"], Qt.MouseButton.LeftButton)
    answers.stop()
    assert len(answers.seen) == 1
    assert not list(candor_home.glob("candor.db.corrupt-*"))
    assert window.storage_ui.notices.texts() == []
    window.close()


def _run(args, env, timeout=60):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=REPO)


def test_candor_started_on_a_damaged_database_tells_the_user_in_its_window(candor_home):
    (data_dir() / DB_NAME).write_bytes(b"this is not a database" * 500)
    probe = (
        "import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from app.ui.launch import run_gui\n"
        "from app.ui.main_window import MainWindow\n"
        "def look():\n"
        "    [w] = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]\n"
        "    ui = w.storage_ui\n"
        "    print('VISIBLE', ui.notice_dock.isVisible() and w.isVisible(), flush=True)\n"
        "    for text in ui.notices.texts(): print('NOTICE', text, flush=True)\n"
        "    w.close()\n"
        "app = QApplication([])\n"
        "QTimer.singleShot(1500, look)\n"
        "sys.exit(run_gui())\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = _run([sys.executable, "-c", probe], env)
    assert result.returncode == 0, result.stderr
    assert "VISIBLE True" in result.stdout
    [kept] = list(candor_home.glob("candor.db.corrupt-*"))
    assert f"moved aside to {kept}" in result.stdout
    assert kept.read_bytes() == b"this is not a database" * 500


def test_a_second_candor_says_clearly_that_one_is_running(candor_home):
    """`candor` while another Candor holds the lock: a message naming the running one (no
    "database is locked"), shown in a dialog; closing it ends the process with status 1."""
    lock = InstanceLock("the Candor window").acquire()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([str(CANDOR)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=REPO)
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stderr is not None
    reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True)
    reader.start()
    try:
        first = lines.get(timeout=60)
        assert "Candor is already running" in first
        assert "the Candor window" in first
        assert f"process {os.getpid()}" in first
        # The process is still up, showing that message in a dialog, until it is closed.
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)  # closes the dialog the way the user would
        assert proc.wait(timeout=30) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
        lock.release()
    reader.join(timeout=5)
    rest = "".join(iter(lambda: lines.get_nowait() if not lines.empty() else "", ""))
    everything = first + rest
    assert "database is locked" not in everything
    assert "Traceback" not in everything
    assert not (candor_home / DB_NAME).exists(), "the second one never touched the database"


# -- closing ----------------------------------------------------------------------------------


def test_closing_with_a_transcript_only_in_memory_asks_discard_or_cancel(qtbot, gate):
    window = open_window(qtbot, gate)
    unsaved = [True]
    window.has_unsaved_transcript = lambda: unsaved[0]
    answers = DialogAnswerer(["cancel"])
    assert not window.close()
    answers.stop()
    assert len(answers.seen) == 1
    assert "only in memory" in answers.seen[0]
    assert window.isVisible()
    assert window.storage.is_open, "cancel keeps everything running"
    assert not InstanceLock("probe").try_acquire()

    answers = DialogAnswerer(["confirm"])
    assert window.close()
    answers.stop()
    assert len(answers.seen) == 1
    assert not window.isVisible()
    assert not window.storage.is_open
    probe = InstanceLock("probe")
    assert probe.try_acquire(), "closing released the instance lock"
    probe.release()


def test_closing_with_nothing_unsaved_asks_nothing(qtbot, gate):
    window = open_window(qtbot, gate)
    answers = DialogAnswerer(["cancel"])  # would keep the window open if anything asked
    assert window.close()
    answers.stop()
    assert answers.seen == []


# -- menus, keyboard, accessibility --------------------------------------------------------------


def test_meetings_menu_and_sidebar_reach_history_and_holdings(qtbot, gate):
    window = open_window(qtbot, gate)
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus[:3] == ["&File", "&Meetings", "&Privacy"]
    meetings_menu = window.storage_ui.meetings_menu
    assert [a.text() for a in meetings_menu.actions() if a.text()] == [
        "Meeting &history", "&Search meetings…", "What Candor &holds…",
    ]
    assert window.storage_ui.holdings_action in window.privacy_menu.actions()
    sidebar = window.shell.sidebar
    assert [sidebar.item(i).text() for i in range(sidebar.count())] == [
        "Meeting", "History", "Privacy & consent", "What Candor holds", "Settings"]
    window.storage_ui.history_action.trigger()
    assert window.shell.current == "history"
    assert window.history_view.isVisible()
    window.storage_ui.holdings_action.trigger()
    assert window.shell.current == "holdings"
    assert window.storage_ui.transparency.isVisible()
    assert not window.history_view.isVisible(), "one place at a time"
    # The sidebar is the entry point: choosing a row shows its page.
    sidebar.setCurrentRow(1)
    assert window.history_view.isVisible()
    window.close()


def test_every_interactive_widget_in_the_storage_views_has_a_name_and_description(qtbot, gate):
    with open_store() as store:
        _ended_ago(store, gate, "Something", timedelta(days=1))
    (data_dir() / "retention.json").write_text("broken")  # so a notice shows too
    window = open_window(qtbot, gate)
    history = window.storage_ui.show_history()
    with qtbot.waitSignal(history.search_finished, timeout=10000):
        history.search("caption")
    widgets = interactive(history)  # each page as the user sees it
    view = window.storage_ui.open_transparency()
    widgets += interactive(view)
    window.show_page("settings")
    widgets += interactive(window.settings_page)
    checked = 0
    for root in (widgets, interactive(window.storage_ui.notices),
                 interactive(window.shell.sidebar.parentWidget())):
        for widget in root:
            name, description = accessible_texts(widget)
            assert name, f"{type(widget).__name__} {widget.objectName()} has no name"
            assert description, f"{name!r} has no accessible description"
            checked += 1
    assert checked >= 17
    window.close()


def test_holdings_view_is_keyboard_reachable(qtbot, gate):
    window = open_window(qtbot, gate)
    view = window.storage_ui.open_transparency()
    qtbot.waitExposed(view)
    view.activateWindow()
    view.table.setFocus()
    qtbot.waitUntil(view.table.hasFocus)
    reached = []
    for _ in range(10):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        reached.append(QApplication.focusWidget())
    wanted = [view.retention_button, view.export_button, view.erase_button,
              view.refresh_button]
    assert all(w in reached for w in wanted), [w.accessibleName() for w in reached]
    assert reached.index(view.refresh_button) < reached.index(view.export_button)
    # "Change how long things are kept" leads to Settings, where a period can be chosen with
    # the keyboard alone.
    view.retention_button.setFocus()
    qtbot.keyClick(view.retention_button, Qt.Key.Key_Space)
    assert window.shell.current == "settings"
    retention = window.settings_page.retention
    combo = retention.retention["recordings"]
    combo.setFocus()
    answers = DialogAnswerer(["confirm"])
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    answers.stop()
    assert combo.currentData() == "7d"
    from app.storage.retention import RetentionSettings

    assert RetentionSettings.load().recordings == "7d"
    window.close()


def test_storage_views_work_at_double_font_size_without_clipping(qtbot, gate):
    app = QApplication.instance()
    original = QApplication.font()
    font = app.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    app.setFont(font)
    try:
        window = open_window(qtbot, gate)
        window.resize(1280, 800)
        checked = 0
        for show in (window.storage_ui.show_history, window.storage_ui.open_transparency):
            root = show()
            qtbot.wait(50)
            for widget in interactive(root):
                if isinstance(widget, QPushButton):
                    assert widget.width() >= widget.sizeHint().width(), widget.text()
                    assert widget.height() >= widget.fontMetrics().height(), widget.text()
                    checked += 1
        view = window.storage_ui.transparency
        window.show_page("settings")
        qtbot.wait(50)
        for combo in window.settings_page.retention.retention.values():
            longest = max(combo.fontMetrics().horizontalAdvance(combo.itemText(i))
                          for i in range(combo.count()))
            assert combo.width() >= longest, "a retention period is cut off"
        assert checked >= 7
        window.storage_ui.open_transparency()
        qtbot.wait(50)
        names = view.table.header().sectionSize(0) - view.table.indentation()
        for row in range(view.table.topLevelItemCount()):
            text = view.table.topLevelItem(row).text(0)
            assert names >= view.table.fontMetrics().horizontalAdvance(text), text
        window.close()
    finally:
        app.setFont(original)
