"""A meeting in the real window, for running in a process of its own (under strace).

Run as `python -m tests.support.window_meeting DONE_FILE` with QT_QPA_PLATFORM=offscreen and a
virtual microphone in the environment. It opens Candor's main window as `candor` does, turns on
live captions and "keep transcript" (the permissions must be given already), starts the meeting
with a click, and says on stderr `window: captions on` once captions run; whoever runs it then
plays speech into the microphone and creates DONE_FILE when the speech has been played. Then it
ends the meeting, waits until the transcript is kept, prints the kept transcript (the final pass)
on stdout, closes the window and exits 0. Every wait is on a condition, polled by the Qt event
loop; after WAIT_S seconds without it, exit 1 saying which.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

WAIT_S = 90.0


def main(done_file: Path) -> int:
    from app.ui.launch import open_window_storage
    from app.ui.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    lock, store = open_window_storage()
    window = MainWindow(store=store, lock=lock)
    window.show()
    outcome: list[int] = []
    steps: list[tuple[str, Callable[[], bool], Callable[[], None]]] = []

    def finish(code: int, why: str = "") -> None:
        if why:
            print(f"window: {why}", file=sys.stderr, flush=True)
        outcome.append(code)
        window._close_confirmed = True
        window.close()
        app.quit()

    def captions_on() -> None:
        print("window: captions on", file=sys.stderr, flush=True)

    def end_meeting() -> None:
        window.meeting_view.meeting_button.click()

    def kept() -> None:
        [meeting] = window.storage.store.list_meetings()
        stored = window.storage.store.get(meeting.id)
        print(" ".join(s.text for s in stored.segments), flush=True)
        finish(0)

    view = window.meeting_view
    steps.extend([
        ("captions on", lambda: window.meeting.state().captions == "on", captions_on),
        ("the speech played", done_file.exists, end_meeting),
        ("the transcript kept", lambda: "kept, encrypted" in view.meeting_status.text(), kept),
    ])
    started = [time.monotonic()]

    def poll() -> None:
        if outcome or not steps:
            return
        what, done, then = steps[0]
        if done():
            steps.pop(0)
            started[0] = time.monotonic()
            then()
        elif time.monotonic() - started[0] > WAIT_S:
            finish(1, f"gave up waiting for {what}: {view.meeting_status.text()}")

    for feature in ("live_captions", "save_transcript"):
        window.switches.turn_on(feature)
    view.meeting_button.click()
    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(50)
    app.exec()
    return outcome[0] if outcome else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
