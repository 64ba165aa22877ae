"""Render every page of the window (Meeting, History, Privacy & consent, What Candor holds,
Settings), the opt-in dialog and the file window to PNG (offscreen), light and one dark.

    .venv/bin/python packaging/screenshots.py [OUT_DIR]

Uses a throw-away CANDOR_HOME, so it never touches your data.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CANDOR_HOME"] = tempfile.mkdtemp(prefix="candor-shots-")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from app.ui.consent_dialog import OptInDialog
    from app.ui.main_window import MainWindow

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication([])
    window = MainWindow()
    window.resize(1000, 680)
    window.show()
    app.processEvents()
    shots = {"main-window-first-run.png": window}
    window.grab().save(str(out / "main-window-first-run.png"))

    dialog = OptInDialog(window.gate.notices.current("transcription"), window)
    dialog.show()
    app.processEvents()
    dialog.grab().save(str(out / "opt-in-dialog.png"))
    shots["opt-in-dialog.png"] = dialog
    dialog.close()

    window.gate.grant("microphone", via="dialog")
    window.gate.grant("transcription", via="meeting_toolbar")
    window.meeting_view.welcome.hide()
    window.switches.turn_on("live_captions")
    _live_meeting_shot(app, window, out / "meeting-view.png")
    _file_transcription_shot(app, window, out / "file-transcription.png")
    window.resize(1100, 760)
    window.open_consent_panel("permissions")
    app.processEvents()
    window.grab().save(str(out / "consent-panel.png"))
    window.open_consent_panel("history")
    app.processEvents()
    window.grab().save(str(out / "consent-history.png"))
    _stored_meetings_shots(app, window, out)
    for name in sorted(p.name for p in out.glob("*.png")):
        print(out / name)
    window.close()
    return 0


def _pump(app: object, seconds: float, until: object = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (until and until()):
        app.processEvents()
        time.sleep(0.02)


def _live_meeting_shot(app: object, window: object, path: Path) -> None:
    """A real meeting: JFK's inaugural sentence played into a private PulseAudio virtual
    microphone, captioned live by the real model, caught mid-speech."""
    from tests.support.data import SHARED_DATA
    from tests.support.virtual_mic import VirtualMic, pulseaudio_available

    if not pulseaudio_available():
        print("skipped meeting-view.png: needs PulseAudio for the virtual microphone",
              file=sys.stderr)
        return
    with VirtualMic() as mic:
        window.meeting_view.refresh_devices()
        window.meeting_view.meeting_button.click()
        _pump(app, 60, lambda: window.meeting.state().captions == "on")
        player = mic.play(SHARED_DATA / "speech" / "jfk.wav")
        captions = window.meeting_view.captions
        _pump(app, 30, lambda: "country" in captions.final_text().lower()
              and captions.partial_text())
        window.grab().save(str(path))
        player.kill()
        window.meeting.end(final_pass=False)
        window.meeting.wait_ended(30)
        _pump(app, 1)
        window._close_confirmed = True


def _file_transcription_shot(app: object, window: object, path: Path) -> None:
    """A recording transcribed from File → Transcribe a file…, with the real model."""
    from tests.support.data import SHARED_DATA

    window.choose_audio_file = lambda: str(SHARED_DATA / "speech" / "jfk.wav")
    files = window.transcribe_a_file()
    if files is None:
        return
    files.resize(760, 420)
    _pump(app, 60, lambda: not files.running)
    _pump(app, 0.3)
    files.grab().save(str(path))
    files.close()


SAMPLE_MEETINGS = (
    # Lines starting "> " were said by the others (system audio), the rest by you.
    ("Design review: consent panel", 3, 52, [
        "Let's start with the withdraw button on the consent panel.",
        "> It should take no more clicks than giving consent did.",
        "Agreed. And the count of items it deletes has to be exact.",
        "> The history tab already shows the ledger's head hash.",
        "Next: what the transparency report says about keys.",
    ]),
    ("Weekly sync", 9, 31, [
        "Quick round: the audio capture work is merged.",
        "> Captions run on this machine with the tiny English model.",
        "Retention defaults to thirty days for transcripts.",
    ]),
    ("Call with the accessibility reviewers", 26, 44, [
        "Everything has to work at twice the font size.",
        "Keyboard users need to reach every control in a sensible order.",
    ]),
)


def _stored_meetings_shots(app: object, window: object, out: Path) -> None:
    """The meeting history (list, an open transcript, a search) and What Candor holds."""
    from datetime import UTC, datetime, timedelta

    from app.segments import Segment
    from app.storage import StoredMeetingSink

    gate = window.gate
    gate.grant("transcript_storage", via="meeting_toolbar")
    window.switches.turn_on("save_transcript")
    store = window.storage.store
    now = datetime.now(UTC)
    for title, days_ago, minutes, lines in SAMPLE_MEETINGS:
        started = now - timedelta(days=days_ago, hours=2)
        sink = StoredMeetingSink(store, gate, source="window", title=title, started=started,
                                 device="USB microphone", model="tiny.en", language="en")
        for i, line in enumerate(lines):
            others = line.startswith("> ")
            sink.on_final(Segment(i * 41.5, i * 41.5 + 6.0, line.removeprefix("> "), True,
                                  "system" if others else "microphone"))
        store.finish(sink.meeting_id, ended=started + timedelta(minutes=minutes))
    window.storage.notify_changed()
    window.resize(1280, 760)
    history = window.storage_ui.show_history()
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    app.processEvents()
    window.grab().save(str(out / "meeting-history.png"))
    history.search("consent")
    deadline = time.monotonic() + 10
    while history.searching and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    if history.meetings.topLevelItemCount():
        first = history.meetings.topLevelItem(0)
        if first.childCount():
            history.meetings.setCurrentItem(first.child(0))
    app.processEvents()
    window.grab().save(str(out / "meeting-search.png"))
    history.search("")
    window.storage_ui.open_transparency()
    app.processEvents()
    window.grab().save(str(out / "what-candor-holds.png"))
    window.show_page("settings")
    app.processEvents()
    window.grab().save(str(out / "settings.png"))
    _dark_shot(app, window, out / "meeting-history-dark.png")
    _correcting_shots(app, window, out)
    _damaged_database_shot(app, out)


def _dark_shot(app: object, window: object, path: Path) -> None:
    """The History page in the dark palette (Settings → Theme → Dark)."""
    from app.ui.theme import apply_theme

    apply_theme("dark")
    history = window.storage_ui.show_history()
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    app.processEvents()
    window.grab().save(str(path))
    apply_theme("system")
    app.processEvents()


def _correcting_shots(app: object, window: object, out: Path) -> None:
    """The transcript editor with one corrected segment, What Candor learned, and the models."""
    gate = window.gate
    gate.grant("vocabulary_learning", via="screenshots")
    history = window.storage_ui.show_history()
    history.search("")
    _pump(app, 5, lambda: history.meetings.topLevelItemCount() > 0)
    history.meetings.setCurrentItem(history.meetings.topLevelItem(0))
    editor = window.storage_ui.open_editor(history.selected_id)
    first = editor.meeting.segments[0].text if editor.meeting and editor.meeting.segments else ""
    if first:  # as a user's edit does: the table's text changes, the editor stores it
        editor.table.item(0, 1).setText(first + " Kowalczyk agrees.")
    editor.table.setCurrentCell(0, 1)
    app.processEvents()
    window.storage_ui.editor_window.grab().save(str(out / "correct-transcript.png"))
    window.storage_ui.editor_window.close()
    learned = window.storage_ui.open_vocabulary()
    app.processEvents()
    learned.grab().save(str(out / "what-candor-learned.png"))
    learned.close()
    window.open_models_page()
    window.models_window.resize(1100, 460)
    app.processEvents()
    window.models_window.grab().save(str(out / "speech-models.png"))
    window.models_window.close()


def _damaged_database_shot(app: object, out: Path) -> None:
    """What the window says when it had to set a damaged database aside (a second throw-away
    data directory holding a file that is not a database)."""
    from app.consent import open_gate
    from app.storage import open_store
    from app.storage.database import DB_NAME
    from app.ui.main_window import MainWindow

    home = Path(tempfile.mkdtemp(prefix="candor-shots-damaged-"))
    (home / DB_NAME).write_bytes(b"not a database " * 400)
    window = MainWindow(open_gate(home), store=open_store(home))
    window.meeting_view.welcome.hide()
    window.resize(1000, 680)
    window.show()
    app.processEvents()
    window.grab().save(str(out / "damaged-database-notice.png"))
    window.close()


if __name__ == "__main__":
    sys.exit(main())
