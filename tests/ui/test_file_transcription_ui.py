"""Transcribing a file from the window (real model, real recordings) and saving transcripts."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.ui.file_transcription import FileTranscriptionWindow
from tests.support.data import read_wav, write_wav
from tests.support.model_server import copy_bundled_model
from tests.ui.dialogs import DialogAnswerer
from tests.ui.windows import shown_main_window

pytestmark = pytest.mark.model

JFK = "ask not what your country can do for you"


@pytest.fixture
def window(qtbot, candor_home):
    return shown_main_window(qtbot)


@pytest.fixture
def long_recording(shared_data, tmp_path) -> Path:
    """Real speech, long enough (about 4 minutes) that Cancel or a withdrawal lands mid-way:
    tiny.en gets through real_concat.wav alone in about a second on these machines."""
    samples, rate = read_wav(shared_data / "speech" / "real_concat.wav")
    return write_wav(tmp_path / "long meeting.wav", np.tile(samples, 5), rate)


def _grants(gate, purpose):
    return [r.collection_method for r in gate.ledger.records()
            if r.purpose == purpose and r.state == "given"]


def _transcribe(window, qtbot, path: Path, answers=("allow",)) -> FileTranscriptionWindow | None:
    """File → Transcribe a file…, answering the permission dialog and choosing `path`."""
    window.choose_audio_file = lambda: str(path)
    answerer = DialogAnswerer(list(answers))
    window.transcribe_file_action.trigger()
    answerer.stop()
    return window.file_transcription


def _wait_done(qtbot, fw: FileTranscriptionWindow, timeout: int = 60000) -> None:
    qtbot.waitUntil(lambda: not fw.running, timeout=timeout)


def _wait_transcribing(qtbot, fw: FileTranscriptionWindow) -> None:
    """Until part of the recording is done: the model is loaded and decoding is under way."""
    qtbot.waitUntil(lambda: fw.percent_done > 0, timeout=60000)


def _assert_no_result(fw: FileTranscriptionWindow) -> None:
    """No transcript shown and nothing to save or keep."""
    assert fw.result is None
    assert fw.transcript.toPlainText() == ""
    assert not fw.save_button.isEnabled()
    assert not fw.keep_button.isEnabled()


def _srt_text(text: str) -> str:
    """The subtitle text of an SRT file, checking each block's shape on the way."""
    lines = []
    for block in text.strip().split("\n\n"):
        index, timing, *body = block.split("\n")
        assert index.isdigit(), block
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", timing), block
        lines += body
    return " ".join(lines)


def test_a_file_is_transcribed_with_progress_and_saved_as_srt(
    window, qtbot, shared_data, tmp_path
):
    fw = _transcribe(window, qtbot, shared_data / "speech" / "jfk.wav")
    assert fw is not None
    assert fw.isVisible()
    assert _grants(window.gate, "transcription") == ["file_transcription"]
    assert "jfk.wav" in fw.file_label.text()
    # First the model loads: the bar is busy, with no made-up percentage.
    assert fw.progress.maximum() == 0
    assert "Loading the model" in fw.status.text()
    assert fw.cancel_button.isVisible()
    seen: list[int] = []
    fw.progress.valueChanged.connect(lambda _v: seen.append(fw.percent_done))
    _wait_done(qtbot, fw)

    assert fw.percent_done == 100
    assert seen[-1] == 100
    assert fw.progress.isVisible()
    assert not fw.cancel_button.isVisible()
    shown = fw.transcript.toPlainText()
    assert JFK in shown.lower()
    assert re.search(r"\[00:00:\d\d – 00:00:\d\d\]", shown), "timestamps are shown"
    assert fw.transcript.isReadOnly()
    assert "Nothing was stored" in fw.status.text()
    assert window.storage.store.list_meetings() == []

    out = tmp_path / "out"
    out.mkdir()
    suggested: list[str] = []
    fw.choose_save_path = lambda name: suggested.append(name) or str(out / "jfk.srt")
    qtbot.mouseClick(fw.save_button, Qt.MouseButton.LeftButton)
    assert suggested == ["jfk"]
    saved = (out / "jfk.srt").read_text(encoding="utf-8")
    assert JFK in _srt_text(saved).lower()
    assert str(out / "jfk.srt") in fw.status.text()
    assert [p.name for p in out.iterdir()] == ["jfk.srt"], "no staging file is left"


def test_dont_allow_transcribes_nothing_and_records_nothing(window, qtbot, shared_data):
    asked: list[str] = []
    window.choose_audio_file = lambda: asked.append("file") or str(
        shared_data / "speech" / "jfk.wav"
    )
    answerer = DialogAnswerer(["deny"])
    window.transcribe_file_action.trigger()
    answerer.stop()
    assert answerer.seen == ["transcription"]
    assert asked == [], "no file is asked for without permission"
    assert window.file_transcription is None, "no transcription window, no work started"
    assert not window.gate.allowed("transcription")
    assert _grants(window.gate, "transcription") == []


def test_a_text_file_named_wav_is_explained_in_the_window(window, qtbot, tmp_path):
    fake = tmp_path / "notes.wav"
    fake.write_text("these are meeting notes, not a recording\n" * 20)
    fw = _transcribe(window, qtbot, fake)
    _wait_done(qtbot, fw)
    status = fw.status.text()
    assert str(fake) in status
    assert "not an audio file" in status
    _assert_no_result(fw)
    assert not fw.progress.isVisible()


def test_a_damaged_model_is_explained_in_the_window(window, qtbot, shared_data, candor_home):
    folder = copy_bundled_model(candor_home / "models" / "tiny.en")
    (folder / "tokenizer.json").unlink()
    fw = _transcribe(window, qtbot, shared_data / "speech" / "jfk.wav")
    _wait_done(qtbot, fw)
    assert "speech model cannot be used" in fw.status.text()
    assert str(folder / "tokenizer.json") in fw.status.text()
    assert fw.result is None


def test_the_window_uses_the_model_chosen_for_saved_transcripts(window, qtbot, shared_data,
                                                               tmp_path):
    from app.cli import main

    folder = copy_bundled_model(tmp_path / "my-whisper")
    with (folder / "config.json").open("a") as handle:
        handle.write("\n")  # a model the catalogue does not know, so its name is its own
    assert main(["models", "use", str(folder), "--for", "final"]) == 0
    fw = _transcribe(window, qtbot, shared_data / "speech" / "jfk.wav")
    _wait_done(qtbot, fw)
    assert fw.result is not None, fw.status.text()
    assert fw.result.model == "my-whisper"

    # a chosen model that went away is named in the window with what to do, not replaced
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    fw.close()
    fw = _transcribe(window, qtbot, shared_data / "speech" / "jfk.wav", answers=())
    _wait_done(qtbot, fw)
    assert "chosen for saved transcripts" in fw.status.text()
    assert "--for final" in fw.status.text()
    assert fw.result is None


def test_cancel_stops_a_long_file_and_keeps_nothing(window, qtbot, long_recording):
    fw = _transcribe(window, qtbot, long_recording)
    _wait_transcribing(qtbot, fw)
    assert fw.percent_done < 100
    qtbot.mouseClick(fw.cancel_button, Qt.MouseButton.LeftButton)
    assert "Cancelling" in fw.status.text()
    _wait_done(qtbot, fw, timeout=10000)
    assert "Cancelled" in fw.status.text()
    _assert_no_result(fw)
    assert window.gate.allowed("transcription"), "cancelling withdraws nothing"


def test_one_file_at_a_time(window, qtbot, shared_data):
    fw = _transcribe(window, qtbot, shared_data / "speech" / "real_concat.wav")
    asked: list[str] = []
    window.choose_audio_file = lambda: asked.append("file") or ""
    window.transcribe_file_action.trigger()
    assert asked == []
    assert fw.running
    assert fw.notice.isVisible()
    assert "Already transcribing real_concat.wav" in fw.notice.text()
    fw.cancel()
    _wait_done(qtbot, fw)
    assert not fw.notice.isVisible()


def test_withdrawing_transcription_mid_file_stops_it_and_says_why(
    window, qtbot, long_recording
):
    fw = _transcribe(window, qtbot, long_recording)
    _wait_transcribing(qtbot, fw)
    panel = window.open_consent_panel()
    qtbot.mouseClick(panel.rows["transcription"].action_button, Qt.MouseButton.LeftButton)
    assert not window.gate.allowed("transcription")
    _wait_done(qtbot, fw, timeout=10000)
    assert "permission to transcribe was withdrawn" in fw.status.text()
    _assert_no_result(fw)
    assert window.storage.store.list_meetings() == []


def test_keep_in_history_asks_for_storage_then_stores_the_file(window, qtbot, shared_data):
    window.gate.grant("transcription", via="test")
    fw = _transcribe(window, qtbot, shared_data / "speech" / "jfk.wav", answers=())
    _wait_done(qtbot, fw)
    assert fw.keep_button.isEnabled()

    answerer = DialogAnswerer(["deny"])
    qtbot.mouseClick(fw.keep_button, Qt.MouseButton.LeftButton)
    answerer.stop()
    assert answerer.seen == ["transcript_storage"]
    assert window.storage.store.list_meetings() == [], "never stored without the consent"
    assert "Not kept" in fw.status.text()

    answerer = DialogAnswerer(["allow"])
    qtbot.mouseClick(fw.keep_button, Qt.MouseButton.LeftButton)
    answerer.stop()
    assert answerer.seen == ["transcript_storage"]
    assert _grants(window.gate, "transcript_storage") == ["file_transcription"]
    [summary] = window.storage.store.list_meetings()
    assert summary.source == "file"
    assert summary.title == "jfk.wav"
    stored = window.storage.store.get(summary.id)
    assert JFK in " ".join(s.text for s in stored.segments).lower()
    assert "Kept in history" in fw.status.text()
    assert not fw.keep_button.isEnabled()
    history = window.history_view
    qtbot.waitUntil(lambda: history.meetings.topLevelItemCount() == 1, timeout=5000)
    assert history.meetings.topLevelItem(0).text(0) == "jfk.wav"


@pytest.mark.audio
def test_saving_a_meeting_transcript_held_in_memory_ends_the_close_warning(
    window, qtbot, virtual_mic, shared_data, tmp_path
):
    for purpose in ("microphone", "transcription"):
        window.gate.grant(purpose, via="test")
    window.switches.turn_on("live_captions")
    view = window.meeting_view
    assert not window.save_transcript_action.isEnabled()
    qtbot.mouseClick(view.meeting_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.meeting.state().captions == "on", timeout=20000)
    virtual_mic.play_and_wait(shared_data / "speech" / "jfk.wav")
    qtbot.wait(1500)  # the sound server's and the capture's buffers drain
    assert not window.save_transcript_action.isEnabled(), "not while the meeting runs"
    # The transcript saved is the final pass over the meeting's audio, held in memory: the
    # live captions may lag on a busy machine, the saved text does not depend on them.
    qtbot.mouseClick(view.meeting_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(window.save_transcript_action.isEnabled, timeout=60000)
    assert window.has_unsaved_transcript()

    answerer = DialogAnswerer(["cancel"])
    window.close()
    answerer.stop()
    assert [s for s in answerer.seen if "exists only in memory" in s], "the close warning"
    assert window.isVisible(), "Cancel keeps the window open to save the transcript"

    window.choose_transcript_path = lambda _name: str(tmp_path / "meeting.txt")
    window.save_transcript_action.trigger()
    assert JFK in (tmp_path / "meeting.txt").read_text(encoding="utf-8").lower()
    assert not window.has_unsaved_transcript()
    answerer = DialogAnswerer(["cancel"])
    window.close()
    answerer.stop()
    assert answerer.seen == [], "no warning once the transcript is saved"
    assert not window.isVisible()
