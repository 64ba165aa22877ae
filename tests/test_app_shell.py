"""The installed app: command line basics, the main window, and what opening it loads."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import __version__

REPO = Path(__file__).resolve().parents[1]
CANDOR = Path(sys.executable).parent / "candor"
HEAVY_MODULES = ("faster_whisper", "ctranslate2", "noisereduce")


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60):
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, env=env or os.environ.copy()
    )


def test_help_and_version_from_console_script_and_module():
    assert CANDOR.exists(), "the console script `candor` is not installed in the venv"
    helped = run(str(CANDOR), "--help")
    assert helped.returncode == 0
    assert "Nothing leaves" in helped.stdout
    assert "usage: candor" in helped.stdout
    for cmd in ([str(CANDOR)], [sys.executable, "-m", "app"]):
        result = run(*cmd, "--version")
        assert result.returncode == 0
        assert result.stdout.strip() == f"candor {__version__}"


def test_unknown_command_is_bad_usage():
    result = run(str(CANDOR), "no-such-command")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_no_display_gives_a_clear_message(candor_home):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    result = run(str(CANDOR), env=env)
    assert result.returncode == 1
    assert "no display" in result.stderr


def test_main_window_has_title_meeting_area_consent_entry_and_status(qtbot):
    from app.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.windowTitle() == "Candor"
    assert window.meeting_area.isVisible()
    assert window.status_line.isVisible()
    assert window.status_line.text().startswith("Nothing is running")
    with qtbot.waitSignal(window.consent_panel_requested, timeout=1000):
        window.consent_action.trigger()


def test_opening_the_window_loads_no_ai_module(candor_home):
    """The AI libraries load only after consent: a new window imports none of them."""
    probe = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from app.ui.main_window import MainWindow\n"
        "app = QApplication([])\n"
        "w = MainWindow(); w.show(); app.processEvents()\n"
        f"loaded = [m for m in {HEAVY_MODULES!r} if m in sys.modules]\n"
        "print('LOADED', loaded)\n"
        "print('QT', 'PySide6.QtWidgets' in sys.modules)\n"
    )
    result = run(sys.executable, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert "QT True" in result.stdout, "the probe did not really open a window"
    assert "LOADED []" in result.stdout


def test_closing_the_window_ends_the_process_cleanly(candor_home):
    probe = (
        "import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from app.ui.launch import run_gui\n"
        "def close_top():\n"
        "    tops = [w for w in QApplication.topLevelWidgets() if w.windowTitle() == 'Candor']\n"
        "    print('WINDOWS', len(tops), flush=True)\n"
        "    for w in tops: w.close()\n"
        "app = QApplication([])  # timers need an application; run_gui reuses it\n"
        "QTimer.singleShot(1500, close_top)\n"
        "sys.exit(run_gui())\n"
    )
    started = time.monotonic()
    result = run(sys.executable, "-c", probe, timeout=30)
    assert "WINDOWS 1" in result.stdout
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 25


@pytest.mark.skipif(not shutil.which("xvfb-run"), reason="xvfb-run not installed")
def test_window_appears_under_a_virtual_x_server_and_stays_up(candor_home):
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    xvfb = subprocess.Popen(
        [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1280x800x24",
            "sh",
            "-c",
            f"'{CANDOR}' & app=$!; "
            "for i in $(seq 100); do "
            "xwininfo -root -tree | grep -q '\"Candor\"' && break; sleep 0.1; done; "
            "xwininfo -root -tree | grep '\"Candor\"' | head -1; sleep 2; "
            "kill -0 $app && echo STILL_UP; kill -TERM $app; wait $app; echo EXIT=$?",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    out, err = xvfb.communicate(timeout=60)
    assert '"Candor"' in out, out + err
    assert "STILL_UP" in out
    assert "EXIT=0" in out
