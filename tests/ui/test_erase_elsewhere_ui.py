"""The window when another Candor erases everything: its meeting ends at once, its captions and
in-memory transcript are cleared, and it says so. The erase's ledger reset runs in another
process, as `candor data erase` does it (the window holds the instance lock, so the rest of a
command-line erase waits for it to close; the ledger is what every running Candor watches)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt

from tests.ui.windows import shown_main_window

pytestmark = pytest.mark.audio

ERASE_LEDGER = ("from app.consent import open_gate\n"
                "gate = open_gate()\n"
                "gate.record_erase(via='cli')\n"
                "gate.close()\n")


def test_the_window_stops_and_clears_when_everything_is_erased_elsewhere(
        qtbot, candor_home, virtual_mic, shared_data):
    window = shown_main_window(qtbot)
    window.gate.grant("microphone", via="test")
    window.switches.turn_on("microphone")
    qtbot.mouseClick(window.meeting_view.meeting_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.meeting.state().capturing, timeout=10000)
    window.meeting_view.captions.text.setPlainText("words heard before the erase")
    done = subprocess.run([sys.executable, "-c", ERASE_LEDGER], capture_output=True, text=True,
                          timeout=60, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    qtbot.waitUntil(lambda: "erased_elsewhere" in window.storage_ui.notices.notices,
                    timeout=5000)
    [notice] = [t for t in window.storage_ui.notices.texts() if "erased" in t]
    assert notice.startswith("All data was erased from another Candor window")
    assert "All data was erased" in window.statusBar().currentMessage()
    assert not window.meeting.running
    assert window.meeting_view.captions.text.toPlainText() == ""
    assert not window.has_unsaved_transcript()
    assert not any(s.granted for s in window.gate.states())
    assert window.gate.ended_elsewhere == "erased"
