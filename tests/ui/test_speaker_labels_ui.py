"""Renaming a stored meeting's speakers in the window ("Rename speakers…" on the History page):
real widgets, the real dialog answered by clicks and typing, a real encrypted SQLite store
under real consent grants, the exports written to real files."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel

from app.segments import Segment
from app.storage import StoredMeetingSink, open_store
from app.ui.speaker_labels_dialog import SpeakerLabelsDialog
from tests.ui.dialogs import DialogAnswerer
from tests.ui.storage_helpers import accessible_texts, open_window

pytestmark = pytest.mark.grant("transcript_storage", "transcription")

SAID = [Segment(0.0, 2.0, "Shall we start with the budget?", True, "microphone"),
        Segment(2.5, 5.0, "Yes, the numbers came in this morning.", True, "system"),
        Segment(5.5, 8.0, "Good, share them please.", True, "microphone")]

Step = Callable[[SpeakerLabelsDialog], None]


@pytest.fixture
def meeting_id(gate) -> str:
    """One ended meeting of both speakers, stored as the window stores a meeting."""
    with open_store() as store:
        sink = StoredMeetingSink(store, gate, source="window", title="Budget call")
        for segment in SAID:
            sink.on_final(segment)
        sink.on_finished(SAID)
        return sink.meeting_id


@pytest.fixture
def window(qtbot, gate, meeting_id):
    win = open_window(qtbot, gate)
    yield win
    win.close()


def _open_history(window, qtbot):
    history = window.storage_ui.show_history()
    qtbot.waitUntil(lambda: history.meetings.topLevelItemCount() == 1)
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    qtbot.waitUntil(lambda: history.open_id is not None)
    return history


def _speakers(history) -> list[str]:
    """Who the open conversation says spoke, block by block, as shown."""
    lines = [line for line in history.transcript.toPlainText().splitlines() if line.strip()]
    return [re.sub(r"\s+\d\d:\d\d:\d\d$", "", head) for head in lines[0::2]]


class LabelsAnswerer:
    """Answers each "Rename speakers" dialog the way a user would, one step per poll: the
    step sees the open dialog (type in a field, press Save…). What the fields were prefilled
    with and every problem the dialog showed are recorded."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = list(steps)
        self.prefilled: list[dict[str, str]] = []
        self.problems: list[str] = []
        self.errors: list[BaseException] = []
        self._dialog: SpeakerLabelsDialog | None = None
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SpeakerLabelsDialog) or not self.steps:
            return
        if dialog is not self._dialog:
            self._dialog = dialog
            self.prefilled.append(dialog.labels())
        step = self.steps.pop(0)
        try:
            step(dialog)
        except BaseException as err:  # never leave a modal dialog blocking the test
            self.errors.append(err)
            dialog.reject()
        if dialog.problem.isVisible() and dialog.problem.text() not in self.problems:
            self.problems.append(dialog.problem.text())

    def stop(self) -> None:
        self.timer.stop()
        if self.errors:
            raise self.errors[0]


def type_in(source: str, text: str) -> Step:
    def step(dialog: SpeakerLabelsDialog) -> None:
        field = dialog.fields[source]  # type: ignore[index]
        field.selectAll()
        field.del_()
        if text:
            from PySide6.QtTest import QTest

            QTest.keyClicks(field, text)
    return step


def save(dialog: SpeakerLabelsDialog) -> None:
    dialog.ok_button.click()


def cancel(dialog: SpeakerLabelsDialog) -> None:
    dialog.cancel_button.click()


def _rename(history, qtbot, steps: list[Step]) -> LabelsAnswerer:
    answers = LabelsAnswerer(steps)
    qtbot.mouseClick(history.speakers_button, Qt.MouseButton.LeftButton)
    answers.stop()
    return answers


def test_renamed_speakers_show_at_once_in_the_conversation_and_in_every_export(
        window, qtbot, tmp_path, meeting_id):
    history = _open_history(window, qtbot)
    assert _speakers(history) == ["You", "Others", "You"]
    answers = _rename(history, qtbot, [type_in("microphone", "Tomasz Nowak"),
                                       type_in("system", "Priya"), save])
    assert answers.prefilled == [{"microphone": "You", "system": "Others"}]
    assert answers.problems == []
    assert _speakers(history) == ["Tomasz Nowak", "Priya", "Tomasz Nowak"]
    assert "Tomasz Nowak" in history.status.text()
    assert history.open_id == meeting_id

    written = {}
    for fmt in ("txt", "md", "srt", "vtt", "json"):
        history.choose_export_path = lambda stem, f=fmt: str(tmp_path / f"{stem}.{f}")
        qtbot.mouseClick(history.export_button, Qt.MouseButton.LeftButton)
        (path,) = tmp_path.glob(f"*.{fmt}")
        written[fmt] = path.read_text(encoding="utf-8")
    assert written["txt"].splitlines() == [
        "Tomasz Nowak: Shall we start with the budget?",
        "Priya: Yes, the numbers came in this morning.",
        "Tomasz Nowak: Good, share them please."]
    assert "Tomasz Nowak: Shall we start" in written["md"]
    assert "Priya: Yes, the numbers" in written["srt"]
    assert "<v Tomasz Nowak>Shall we start" in written["vtt"]
    assert "<v Priya>Yes, the numbers" in written["vtt"]
    assert "You" not in written["txt"] + written["srt"] + written["vtt"]
    assert [s["source"] for s in json.loads(written["json"])["segments"]] == [
        "microphone", "system", "microphone"]


def test_the_names_are_still_there_when_the_window_is_opened_again(window, qtbot, gate):
    history = _open_history(window, qtbot)
    _rename(history, qtbot, [type_in("system", "Priya"), save])
    window.close()

    again = open_window(qtbot, gate, upkeep=False)
    try:
        history = _open_history(again, qtbot)
        assert _speakers(history) == ["You", "Priya", "You"]
        answers = _rename(history, qtbot, [cancel])
        assert answers.prefilled == [{"microphone": "You", "system": "Priya"}]
        assert _speakers(history) == ["You", "Priya", "You"]  # Cancel changed nothing
    finally:
        again.close()


def test_an_emptied_field_goes_back_to_the_default_name(window, qtbot):
    history = _open_history(window, qtbot)
    _rename(history, qtbot, [type_in("microphone", "Tomasz"), type_in("system", "Priya"), save])
    assert _speakers(history) == ["Tomasz", "Priya", "Tomasz"]
    answers = _rename(history, qtbot, [type_in("microphone", ""), save])
    assert answers.prefilled == [{"microphone": "Tomasz", "system": "Priya"}]
    assert _speakers(history) == ["You", "Priya", "You"]


@pytest.mark.parametrize(("typed", "says"), [
    ("x" * 61, "is 61 characters long; give at most 60"),
    ("   ", "is blank (only spaces); type a name, or leave it empty to go back to 'Others'"),
    ("<v Bob>", "holds '<', '>' or a control character"),
])
def test_a_name_that_cannot_be_used_is_explained_and_nothing_changes(window, qtbot, typed,
                                                                    says):
    history = _open_history(window, qtbot)
    seen: dict[str, object] = {}

    def look(dialog: SpeakerLabelsDialog) -> None:
        seen["open"] = dialog.isVisible()  # Save did not close it
        seen["focus"] = dialog.fields["system"].hasFocus()

    answers = _rename(history, qtbot, [type_in("microphone", "Tomasz"), type_in("system", typed),
                                       save, look, cancel])
    assert len(answers.problems) == 1
    assert says in answers.problems[0]
    assert answers.problems[0].startswith("The name for 'Others'")
    assert seen == {"open": True, "focus": True}
    assert _speakers(history) == ["You", "Others", "You"]  # neither name was stored


def test_the_dialog_and_the_command_line_refuse_the_same_names(meeting_id):
    """One check for both: what the dialog refuses, `candor meetings label` refuses with the
    same reason (the dialog's message is the CLI's, capitalised)."""
    from tests.test_cli_storage import candor

    for typed in ("x" * 61, "   ", "<v Bob>"):
        dialog = SpeakerLabelsDialog({"microphone": "You", "system": "Others"})
        dialog.fields["system"].setText(typed)
        dialog.ok_button.click()
        assert dialog.result() != SpeakerLabelsDialog.DialogCode.Accepted
        assert dialog.problem.isVisibleTo(dialog)
        cli = candor("meetings", "label", meeting_id, "--others", typed)
        assert cli.returncode == 2
        reason = dialog.problem.text().rstrip(".")
        assert reason[:1].lower() + reason[1:] in cli.stderr
        dialog.deleteLater()


def test_renaming_speakers_is_unavailable_without_keep_transcripts(window, qtbot, gate,
                                                                    meeting_id):
    history = _open_history(window, qtbot)
    assert history.speakers_button.isEnabled()
    gate.withdraw("transcript_storage", via="test")
    qtbot.waitUntil(lambda: not history.speakers_button.isEnabled(), timeout=5000)
    title = gate.notices.current("transcript_storage").title
    _name, description = accessible_texts(history.speakers_button)
    assert f"needs “{title}”" in description
    assert "Privacy & consent" in history.speakers_button.toolTip()
    # The rest of the page still reads and exports what is kept.
    assert history.export_button.isEnabled()
    assert _speakers(history) == ["You", "Others", "You"]

    # A rename asked for just before the withdrawal is refused when it would be stored.
    history.ask_labels = lambda _labels: {"microphone": "Tomasz", "system": "Priya"}
    answers = DialogAnswerer(["confirm"])
    history.rename_speakers_selected()
    qtbot.waitUntil(lambda: bool(answers.seen), timeout=5000)
    answers.stop()
    assert answers.seen == [
        f"message:The speakers were not renamed: renaming speakers changes a stored meeting, "
        f"which needs “{title}”; give it in Privacy & consent."]
    with open_store() as store:
        assert store.get(meeting_id).labels == {"microphone": "You", "system": "Others"}

    gate.grant("transcript_storage", via="test")
    qtbot.waitUntil(history.speakers_button.isEnabled, timeout=5000)


def _stored_and_selected(window, qtbot, gate, *, source: str, title: str):
    """Another meeting, of `source`, stored of segments that say nothing of who spoke (a
    meeting of older versions, or a transcribed file), and selected in the history."""
    said = [Segment(0.0, 2.0, "Shall we start?"), Segment(2.5, 4.0, "Yes, let us.")]
    sink = StoredMeetingSink(window.storage.store, gate, source=source, title=title)
    for segment in said:
        sink.on_final(segment)
    sink.on_finished(said)
    history = window.storage_ui.show_history()
    window.storage.notify_changed()
    qtbot.waitUntil(lambda: history.meetings.topLevelItemCount() == 2)
    (item,) = [history.meetings.topLevelItem(r) for r in range(2)
               if history.meetings.topLevelItem(r).text(0) == title]
    history.meetings.setCurrentItem(item)
    qtbot.waitUntil(lambda: history.open_id == sink.meeting_id)
    return history


def test_a_meeting_of_older_versions_shows_its_renamed_you(window, qtbot, gate):
    history = _stored_and_selected(window, qtbot, gate, source="window", title="Old call")
    assert _speakers(history) == ["You", "You"]
    _rename(history, qtbot, [type_in("microphone", "Tomasz"), save])
    assert _speakers(history) == ["Tomasz", "Tomasz"]


def test_a_transcribed_recording_has_no_speakers_to_rename(window, qtbot, gate):
    history = _stored_and_selected(window, qtbot, gate, source="file", title="Interview.wav")
    assert _speakers(history) == ["Recording", "Recording"]
    assert not history.speakers_button.isEnabled()
    assert "no You or Others to rename" in history.speakers_button.toolTip()
    assert history.rename_button.isEnabled()
    history.meetings.setCurrentItem(history.meetings.topLevelItem(
        [history.meetings.topLevelItem(r).text(0) for r in range(2)].index("Budget call")))
    qtbot.waitUntil(history.speakers_button.isEnabled)


def _mnemonics(texts: list[str]) -> list[str]:
    return [m.group(1).lower() for t in texts for m in [re.search(r"(?<!&)&([^&])", t)] if m]


def test_every_shortcut_letter_on_the_history_page_is_its_own(window, qtbot):
    """Alt+letter reaches one control: the page's buttons and the menu bar share the keys."""
    history = _open_history(window, qtbot)
    buttons = [b.text() for b in history.findChildren(QAbstractButton) if b.isVisible()]
    menus = [a.text() for a in window.menuBar().actions()]
    letters = _mnemonics(buttons + menus)
    assert "s" in _mnemonics(buttons)  # Rename &speakers…
    assert len(letters) == len(set(letters)), sorted(letters)

    dialog = SpeakerLabelsDialog({"microphone": "You", "system": "Others"})
    texts = [w.text() for w in dialog.findChildren(QLabel)]
    texts += [b.text() for b in dialog.findChildren(QAbstractButton)]
    letters = _mnemonics(texts)
    assert sorted(letters) == ["o", "y"], texts
    dialog.deleteLater()
