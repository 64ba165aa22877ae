"""Meeting history in the window: real widgets over meetings stored by the real sink under real
consent grants, in a real encrypted SQLite store."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.segments import FORMATS, Segment
from app.storage import StoredMeetingSink, open_store
from tests.support.storage import record_meeting, speech_sentences
from tests.test_storage_export import parse_cues
from tests.ui.dialogs import DialogAnswerer
from tests.ui.storage_helpers import open_window

pytestmark = pytest.mark.grant("transcript_storage", "transcription")

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def stored(gate):
    """Three meetings of real reference sentences, stored the way a meeting stores them."""
    sentences = speech_sentences()
    plan = [
        ("Budget review", NOW - timedelta(days=3), 45, sentences[0:4]),
        ("Weekly sync", NOW - timedelta(days=1), 20, sentences[4:7]),
        ("Design call", NOW - timedelta(hours=2), 95, sentences[7:12]),
    ]
    meetings = {}
    with open_store() as store:
        for title, started, minutes, texts in plan:
            mid = record_meeting(store, gate, texts, title=title, started=started,
                                 ended=started + timedelta(minutes=minutes))
            meetings[title] = (mid, texts)
    return meetings


@pytest.fixture
def window(qtbot, gate):
    win = open_window(qtbot, gate)
    yield win
    win.close()


def _rows(history):
    tree = history.meetings
    return [
        [tree.topLevelItem(r).text(c) for c in range(4)] for r in range(tree.topLevelItemCount())
    ]


def _transcript_lines(history):
    return [line for line in history.transcript.toPlainText().splitlines() if line.strip()]


def _conversation(history):
    """The open transcript as shown: (speaker, time, words) per block."""
    lines = _transcript_lines(history)
    assert len(lines) % 2 == 0, lines
    return [(*head.split(), text) for head, text in zip(lines[0::2], lines[1::2], strict=True)]


def _stamp(seconds: float) -> str:
    s = int(seconds)
    return f"[{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}]"


def test_history_lists_stored_meetings_newest_first(window, stored, qtbot):
    history = window.storage_ui.show_history()
    assert window.shell.current == "history"
    assert history.isVisible()
    rows = _rows(history)
    assert [r[0] for r in rows] == ["Design call", "Weekly sync", "Budget review"]
    assert [int(r[3]) for r in rows] == [5, 3, 4]
    assert [r[2] for r in rows] == ["1 h 35 min", "20 min", "45 min"]
    started = (NOW - timedelta(days=1)).astimezone().strftime("%Y-%m-%d %H:%M")
    assert rows[1][1] == started
    assert history.status.text().startswith("3 stored meetings")


def test_opening_a_meeting_shows_its_transcript_with_timestamps(window, stored, qtbot):
    history = window.storage_ui.show_history()
    mid, texts = stored["Weekly sync"]
    history.meetings.setCurrentItem(history.meetings.topLevelItem(1))
    assert history.open_id == mid
    # A conversation: one block per segment, who spoke ("You": the microphone) and when.
    assert _conversation(history) == [
        ("You", _stamp(i * 2.5)[1:-1], text) for i, text in enumerate(texts)]
    assert history.transcript_title.text() == "Weekly sync"
    # Keyboard: arrows move through the list and open each meeting in turn.
    history.meetings.setFocus()
    qtbot.keyClick(history.meetings, Qt.Key.Key_Down)
    assert history.open_id == stored["Budget review"][0]


def test_a_meeting_with_the_others_reads_as_a_conversation_of_you_and_others(window, gate,
                                                                              qtbot):
    """Both sources of one meeting, in the order spoken, each block labelled by who spoke."""
    said = [Segment(0.0, 2.0, "Shall we start with the budget?", True, "microphone"),
            Segment(2.5, 5.0, "Yes, the numbers came in this morning.", True, "system"),
            Segment(5.5, 8.0, "Good, share them please.", True, "microphone")]
    sink = StoredMeetingSink(window.storage.store, gate, source="window", title="Call")
    for segment in said:
        sink.on_final(segment)
    sink.on_finished(said)
    history = window.storage_ui.show_history()
    qtbot.waitUntil(lambda: history.meetings.topLevelItemCount() == 1)
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    assert _conversation(history) == [
        ("You", "00:00:00", "Shall we start with the budget?"),
        ("Others", "00:00:02", "Yes, the numbers came in this morning."),
        ("You", "00:00:05", "Good, share them please.")]


def test_a_meeting_stored_while_the_window_is_open_appears_on_refresh(window, gate, qtbot):
    history = window.storage_ui.show_history()
    assert _rows(history) == []
    assert "No stored meetings" in history.status.text()
    sink = StoredMeetingSink(window.storage.store, gate, source="window", title="Live one")
    sink.on_final(Segment(0.0, 2.0, "A caption stored as it arrived."))
    sink.on_finished([Segment(0.0, 2.0, "A caption stored as it arrived.")])
    window.history_view.refresh()  # what the meeting session calls once the meeting is stored
    assert [r[0] for r in _rows(history)] == ["Live one"]
    # Deleted by another process (the CLI): gone at the next refresh, transcript cleared.
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    with open_store() as other:
        other.delete(sink.meeting_id)
    window.storage.notify_changed()
    assert _rows(history) == []
    assert history.transcript.toPlainText() == ""


def test_search_runs_off_the_gui_thread_and_lists_every_meeting_that_mentions_it(
    window, stored, qtbot
):
    history = window.storage_ui.show_history()
    all_texts = {title: texts for title, (_mid, texts) in stored.items()}
    # A word of the stored sentences found in as many meetings as possible, but not in all.
    words = {}
    for title, texts in all_texts.items():
        for word in " ".join(texts).lower().replace(",", " ").replace(".", " ").split():
            if len(word) > 2:
                words.setdefault(word, set()).add(title)
    word = max(
        (w for w, titles in sorted(words.items()) if len(titles) < len(stored)),
        key=lambda w: len(words[w]),
    )
    expected = {t for t, texts in all_texts.items() if any(word in x.lower() for x in texts)}
    assert 0 < len(expected) < len(stored)

    store = window.storage.store
    seen_threads = []
    real_iter = store.iter_search

    def watched(text):
        seen_threads.append(threading.current_thread())
        yield from real_iter(text)

    store.iter_search = watched
    # While the store is busy (its lock held by the GUI thread), the search must not block
    # the window: it waits in its worker, and the window says it is searching.
    with store._lock:
        history.search(word.upper())
        assert history.searching
        assert history.status.text().startswith("Searching")
        qtbot.wait(100)
        assert history.meetings.topLevelItemCount() == 0
    with qtbot.waitSignal(history.search_finished, timeout=10000) as finished:
        pass
    assert seen_threads
    assert seen_threads[0] is not threading.main_thread()
    assert finished.args == [len(expected)]
    found = {history.meetings.topLevelItem(r).text(0)
             for r in range(history.meetings.topLevelItemCount())}
    assert found == expected
    for r in range(history.meetings.topLevelItemCount()):
        item = history.meetings.topLevelItem(r)
        texts = all_texts[item.text(0)]
        matching = [f"{_stamp(i * 2.5)} {t}" for i, t in enumerate(texts) if word in t.lower()]
        assert [item.child(c).text(0) for c in range(item.childCount())] == matching
    verb = "meeting mentions" if len(expected) == 1 else "meetings mention"
    assert history.status.text() == f"{len(expected)} {verb} “{word.upper()}”."

    # Choosing a matching line opens that meeting there, the word marked.
    first = history.meetings.topLevelItem(0)
    history.meetings.setCurrentItem(first.child(first.childCount() - 1))
    assert history.open_id == stored[first.text(0)][0]
    assert "background-color:#fff1a8" in history.transcript.toHtml()

    # Clearing the search lists every meeting again.
    history.search("")
    assert len(_rows(history)) == len(stored)


def test_a_search_that_finds_nothing_says_so(window, stored, qtbot):
    history = window.storage_ui.show_history()
    with qtbot.waitSignal(history.search_finished, timeout=10000):
        history.search("zzzz no such words")
    assert history.meetings.topLevelItemCount() == 0
    assert history.status.text() == "No stored meeting mentions “zzzz no such words”."


def test_rename_from_the_history(window, stored, qtbot):
    history = window.storage_ui.show_history()
    mid, _ = stored["Weekly sync"]
    history.meetings.setCurrentItem(history.meetings.topLevelItem(1))
    asked = []
    history.ask_title = lambda current: asked.append(current) or "  Weekly sync (team A)  "
    qtbot.mouseClick(history.rename_button, Qt.MouseButton.LeftButton)
    assert asked == ["Weekly sync"]
    with open_store() as other:
        assert other.summary(mid).title == "Weekly sync (team A)"
    assert _rows(history)[1][0] == "Weekly sync (team A)"
    assert history.selected_id == mid, "the renamed meeting stays selected"
    # Cancelling the dialog changes nothing.
    history.ask_title = lambda current: None
    qtbot.mouseClick(history.rename_button, Qt.MouseButton.LeftButton)
    assert window.storage.store.summary(mid).title == "Weekly sync (team A)"


def test_delete_asks_once_and_only_deletes_when_confirmed(window, stored, qtbot):
    history = window.storage_ui.show_history()
    mid, _ = stored["Budget review"]
    history.meetings.setCurrentItem(history.meetings.topLevelItem(2))
    answers = DialogAnswerer(["cancel"])
    qtbot.mouseClick(history.delete_button, Qt.MouseButton.LeftButton)
    answers.stop()
    assert len(answers.seen) == 1
    assert "Budget review" in answers.seen[0]
    assert "cannot be undone" in answers.seen[0]
    assert mid in {m.id for m in window.storage.store.list_meetings()}

    answers = DialogAnswerer(["confirm"])
    history.meetings.setFocus()
    qtbot.keyClick(history.meetings, Qt.Key.Key_Delete)  # the Delete key asks the same way
    answers.stop()
    assert len(answers.seen) == 1
    with open_store() as other:
        assert mid not in {m.id for m in other.list_meetings()}
    assert [r[0] for r in _rows(history)] == ["Design call", "Weekly sync"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_a_meeting_in_each_format_and_the_file_parses(window, stored, qtbot, tmp_path,
                                                            fmt):
    history = window.storage_ui.show_history()
    mid, texts = stored["Design call"]
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    suggested = []

    def choose(stem: str) -> str:
        suggested.append(stem)
        return str(tmp_path / f"{stem}.{fmt}")

    history.choose_export_path = choose
    qtbot.mouseClick(history.export_button, Qt.MouseButton.LeftButton)
    assert suggested
    assert suggested[0].startswith("Design call ")
    out = tmp_path / f"{suggested[0]}.{fmt}"
    body = out.read_text(encoding="utf-8")
    assert out.stat().st_mode & 0o077 == 0, "an export is private to the user"
    if fmt == "txt":
        assert body.splitlines() == texts
    elif fmt in ("srt", "vtt"):
        cues = parse_cues(body)
        assert [c[2] for c in cues] == texts
        assert [round(c[0], 3) for c in cues] == [i * 2.5 for i in range(len(texts))]
        assert all(end > start for start, end, _ in cues)
        if fmt == "vtt":
            assert body.startswith("WEBVTT")
    elif fmt == "json":
        data = json.loads(body)
        assert data["id"] == mid
        assert data["title"] == "Design call"
        assert [s["text"] for s in data["segments"]] == texts
    else:
        assert body.startswith("# Design call")
        assert all(text in body for text in texts)
    assert str(out) in history.status.text()


def test_exporting_over_an_old_file_replaces_it_whole_and_private(window, stored, qtbot,
                                                                 tmp_path):
    history = window.storage_ui.show_history()
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    (tmp_path / "exports").mkdir()
    out = tmp_path / "exports" / "design.txt"
    out.write_text("an older export, readable by everyone\n" * 500)
    out.chmod(0o644)
    history.choose_export_path = lambda stem: str(out)
    qtbot.mouseClick(history.export_button, Qt.MouseButton.LeftButton)
    assert out.read_text(encoding="utf-8").splitlines() == stored["Design call"][1]
    assert out.stat().st_mode & 0o777 == 0o600, "the old file's mode is not kept"
    assert [p.name for p in out.parent.iterdir()] == ["design.txt"], "no staging file left"


def test_an_export_that_cannot_be_written_leaves_the_old_file_as_it_was(window, stored, qtbot,
                                                                        tmp_path):
    """A full disk mid-export: the old export is still there, whole (it was truncated first)."""
    from tests.support.full_disk import can_mount, mounted_tmpfs

    if not can_mount():
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    try:
        context = mounted_tmpfs(tmp_path / "disk", size="64k")
        disk = context.__enter__()
    except PermissionError as err:
        pytest.skip(str(err))
    try:
        out = disk.mountpoint / "design.txt"
        old = "an older export of this meeting\n" * 100
        out.write_text(old)
        disk.fill()
        history = window.storage_ui.show_history()
        history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
        history.choose_export_path = lambda stem: str(out)
        answers = DialogAnswerer(["confirm"])
        qtbot.mouseClick(history.export_button, Qt.MouseButton.LeftButton)
        answers.stop()
        assert len(answers.seen) == 1
        assert "the disk is full" in answers.seen[0]
        assert out.read_text() == old
        assert sorted(p.name for p in disk.mountpoint.iterdir()) == ["design.txt", "filler.bin"]
    finally:
        context.__exit__(None, None, None)


def test_an_unknown_export_extension_is_refused_with_a_message(window, stored, qtbot, tmp_path):
    history = window.storage_ui.show_history()
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    history.choose_export_path = lambda stem: str(tmp_path / "notes.docx")
    answers = DialogAnswerer(["confirm"])
    qtbot.mouseClick(history.export_button, Qt.MouseButton.LeftButton)
    answers.stop()
    assert len(answers.seen) == 1
    assert ".srt" in answers.seen[0]
    assert not (tmp_path / "notes.docx").exists()


def test_keyboard_find_opens_history_and_tab_order_is_sensible(window, stored, qtbot):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    history = window.history_view
    assert window.shell.current == "history"
    qtbot.waitUntil(history.search_box.hasFocus)
    order = [history.search_box]
    for _ in range(9):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    assert order == [
        history.search_box, history.meetings, history.rename_button, history.speakers_button,
        history.correct_button,
        history.export_button, history.export_redacted_button, history.delete_button,
        history.page.find_box, history.transcript,
    ]
