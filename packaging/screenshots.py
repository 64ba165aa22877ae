"""Render the main window, the opt-in dialog and the consent panel to PNG (offscreen).

    .venv/bin/python packaging/screenshots.py [OUT_DIR]

Uses a throw-away CANDOR_HOME, so it never touches your data.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CANDOR_HOME"] = tempfile.mkdtemp(prefix="candor-shots-")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


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
    window.meeting_view.set_ai_activity("Transcribing on this device")
    app.processEvents()
    window.grab().save(str(out / "meeting-view.png"))
    panel = window.open_consent_panel()
    panel.resize(780, 900)
    app.processEvents()
    panel.grab().save(str(out / "consent-panel.png"))
    panel.tabs.setCurrentIndex(1)
    app.processEvents()
    panel.grab().save(str(out / "consent-history.png"))
    for name in sorted(p.name for p in out.glob("*.png")):
        print(out / name)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
