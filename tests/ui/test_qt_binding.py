"""The Qt binding must survive a long meeting: PySide6 6.12.0 did not (see app/ui/qt_check.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from app.ui.qt_check import binding_problem


def test_the_installed_binding_is_sound():
    assert binding_problem() is None


def test_a_fresh_process_survives_an_hour_of_meter_updates():
    # A fresh interpreter holds few references to None and True, as the app does; pytest holds
    # so many that the bug would not show here in-process.
    script = textwrap.dedent("""
        import os
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtCore import QObject, Signal
        from PySide6.QtWidgets import QApplication, QProgressBar

        class Meter(QObject):
            level = Signal(float, float)

        app = QApplication([])
        bar = QProgressBar()
        meter = Meter()
        meter.level.connect(lambda rms, peak: bar.setValue(int(rms)))
        for _ in range(20 * 3600):  # the meter's 20 updates a second, for an hour
            meter.level.emit(-30.0, -12.0)
            bar.setToolTip("level")
        print("survived")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "survived"
