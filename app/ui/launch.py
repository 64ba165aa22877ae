"""Start the Qt application and show the main window."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.storage import InstanceLock, MeetingStore

LOCK_WAIT_S = 2.0  # absorbs a CLI command holding the lock for a moment (repair, erase)


def _no_display() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_window_storage(home: Path | None = None) -> tuple[InstanceLock, MeetingStore]:
    """The instance lock and the meeting store, as the window needs them. Raises AlreadyRunning
    while another Candor holds the lock (before the database is touched, so a second window
    never meets a locked database), and the store's own errors (SchemaTooNew, StorageError)."""
    from app.storage import InstanceLock, open_store
    from app.ui.window_storage import WINDOW_HOLDER

    lock = InstanceLock(WINDOW_HOLDER, home).acquire(wait=LOCK_WAIT_S)
    try:
        # Holding the lock, a damaged database is set aside here; the window announces it.
        store = open_store(home, lock=lock)
    except BaseException:
        lock.release()
        raise
    return lock, store


def run_gui() -> int:
    if _no_display():
        print(
            "candor: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set). Run Candor "
            "from a desktop session, or use its command line: candor --help",
            file=sys.stderr,
        )
        return 1
    from app.ui.qt_check import binding_problem

    problem = binding_problem()
    if problem:
        print(f"candor: {problem}", file=sys.stderr)
        return 1
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app.consent import ConsentError, open_gate
    from app.keystore import SecretUnavailable
    from app.storage import AlreadyRunning, SchemaTooNew, StorageError
    from app.ui.main_window import MainWindow

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Candor")
    app.setApplicationDisplayName("Candor")
    app.setDesktopFileName("candor")

    # Qt's event loop does not return to Python by itself, so a periodic no-op lets SIGINT and
    # SIGTERM handlers run. Installed first, so they also end a start-up message box.
    window: MainWindow | None = None

    def _finish() -> None:
        modal = QApplication.activeModalWidget()
        if modal is not None:
            modal.close()
        if window is not None:
            window.close()
        app.quit()

    def _quit(_signum: int, _frame: object) -> None:
        # Posted, not done here: a signal arriving just before a message box starts its own
        # event loop is then handled by that loop instead of being lost.
        QTimer.singleShot(0, _finish)

    signal.signal(signal.SIGINT, _quit)
    signal.signal(signal.SIGTERM, _quit)
    ticker = QTimer()
    ticker.start(200)
    ticker.timeout.connect(lambda: None)

    def refuse(title: str, err: BaseException) -> int:
        print(f"candor: {err}", file=sys.stderr, flush=True)
        QMessageBox.critical(None, title, str(err))
        return 1

    from app.key_protection import unlock_with
    from app.paths import data_dir
    from app.ui.passphrase_dialog import ask_passphrase

    home = data_dir()
    try:
        # Unwrapped once, here, so no worker thread ever has to ask for the passphrase.
        if not unlock_with(home, lambda problem: ask_passphrase(str(home), problem)):
            print("candor: no passphrase was given, so nothing was opened", file=sys.stderr)
            return 1
    except SecretUnavailable as err:
        return refuse("Candor cannot open its keys", err)
    try:
        lock, store = open_window_storage()
    except AlreadyRunning as err:
        return refuse("Candor is already running", err)
    except (StorageError, SchemaTooNew, SecretUnavailable, OSError) as err:
        # Nothing was changed: the message says what is wrong and what to do.
        return refuse("Candor cannot open its stored meetings", err)
    try:
        gate = open_gate()
    except ConsentError as err:
        # Without a trustworthy ledger nothing may run; say why and what to do, change nothing.
        store.close()
        lock.release()
        return refuse("Candor cannot read its consent ledger", err)
    window = MainWindow(gate, store=store, lock=lock)
    window.show()
    return app.exec()
