"""A main window shown for a test, left with nothing running when pytest-qt closes it."""

from __future__ import annotations

from app.ui.main_window import MainWindow


def shown_main_window(qtbot) -> MainWindow:
    win = MainWindow()

    def stop_work(_win: MainWindow) -> None:
        # pytest-qt closes the window before fixture teardown: a file still being transcribed
        # would outlive it, and a transcript left only in memory would ask its discard question
        # with nobody there to answer.
        if win.file_transcription is not None:
            win.file_transcription.shutdown()
        if win.meeting.running:
            win.meeting.end(final_pass=False)
        win.meeting.wait_ended(30)
        win._close_confirmed = True

    qtbot.addWidget(win, before_close_func=stop_work)
    win.show()
    qtbot.waitExposed(win)
    return win
