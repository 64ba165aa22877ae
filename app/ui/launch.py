"""Start the Qt application and show the main window."""

from __future__ import annotations

import os
import signal
import sys


def _no_display() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_gui() -> int:
    if _no_display():
        print(
            "candor: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set). Run Candor "
            "from a desktop session, or use its command line: candor --help",
            file=sys.stderr,
        )
        return 1
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app.consent import ConsentError, open_gate
    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Candor")
    app.setApplicationDisplayName("Candor")
    app.setDesktopFileName("candor")
    try:
        gate = open_gate()
    except ConsentError as err:
        # Without a trustworthy ledger nothing may run; say why and what to do, change nothing.
        QMessageBox.critical(None, "Candor cannot read its consent ledger", str(err))
        return 1
    window = MainWindow(gate)
    window.show()

    # Qt's event loop does not return to Python by itself, so a periodic no-op lets SIGINT and
    # SIGTERM handlers run; both close the window the same way the user would.
    def _quit(_signum: int, _frame: object) -> None:
        window.close()
        app.quit()

    signal.signal(signal.SIGINT, _quit)
    signal.signal(signal.SIGTERM, _quit)
    ticker = QTimer()
    ticker.start(200)
    ticker.timeout.connect(lambda: None)
    return app.exec()
