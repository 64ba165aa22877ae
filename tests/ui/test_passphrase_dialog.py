"""At start-up the window asks for the passphrase when the keys are wrapped with one; a wrong
one is asked again with the reason, Cancel opens nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLineEdit

from app import keyvault
from app.key_protection import set_passphrase, unlock_with
from app.keyvault import KdfCost
from app.storage import open_store
from app.ui.passphrase_dialog import PassphraseDialog, ask_passphrase
from tests.support.storage import granted_gate, record_meeting

PASSPHRASE = "a long enough passphrase"
CHEAP = KdfCost(n=2**10, r=8, p=1)


@pytest.fixture
def wrapped_home(candor_home, monkeypatch) -> Iterator[object]:
    monkeypatch.delenv("CANDOR_PASSPHRASE", raising=False)
    candor_home.mkdir(parents=True)
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
    keyvault.forget()
    yield candor_home.resolve()
    keyvault.forget()


def test_a_wrong_passphrase_is_asked_again_with_the_reason(wrapped_home):
    problems: list[str] = []
    answers = iter(["not it at all", PASSPHRASE])

    def ask(problem: str) -> str | None:
        problems.append(problem)
        return next(answers)

    assert unlock_with(wrapped_home, ask)
    assert keyvault.is_unlocked(wrapped_home)
    assert problems[0] == ""
    assert "does not open" in problems[1]


def test_cancel_opens_nothing(wrapped_home):
    assert not unlock_with(wrapped_home, lambda problem: None)
    assert not keyvault.is_unlocked(wrapped_home)


def test_the_dialog_hides_what_is_typed_and_returns_it(qtbot, wrapped_home):
    seen: list[PassphraseDialog] = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, PassphraseDialog):
            QTimer.singleShot(20, answer)
            return
        seen.append(dialog)
        qtbot.keyClicks(dialog.field, PASSPHRASE)
        dialog.ok_button.click()

    QTimer.singleShot(0, answer)
    typed = ask_passphrase(str(wrapped_home), "the passphrase does not open the keys")
    assert typed == PASSPHRASE
    assert seen[0].field.echoMode() == QLineEdit.EchoMode.Password
    assert "does not open" in seen[0].problem.text()
    assert unlock_with(wrapped_home, lambda problem: typed)


PROBE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.ui.launch import run_gui
from app.ui.main_window import MainWindow
from app.ui.passphrase_dialog import PassphraseDialog
answers = iter(sys.argv[1:])
def look():
    modal = QApplication.activeModalWidget()
    if isinstance(modal, PassphraseDialog):
        print('ASKED', modal.problem.text() or '-', flush=True)
        modal.field.setText(next(answers))
        modal.ok_button.click()
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    if windows and windows[0].isVisible():
        store = windows[0].storage.store
        print('OPENED', len(store.list_meetings()), 'meeting(s)', flush=True)
        windows[0].close()
        return
    QTimer.singleShot(50, look)
app = QApplication([])
QTimer.singleShot(50, look)
sys.exit(run_gui())
"""


def test_the_window_asks_at_start_and_opens_the_meetings_with_the_right_one(candor_home):
    gate = granted_gate(home=candor_home)
    store = open_store(candor_home)
    record_meeting(store, gate, ["what was said stays encrypted"])
    store.close()
    gate.close()
    set_passphrase(candor_home, PASSPHRASE, cost=CHEAP)
    env = {k: v for k, v in os.environ.items() if k != "CANDOR_PASSPHRASE"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "not the passphrase", PASSPHRASE],
        capture_output=True, text=True, timeout=90, env={**env, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    asked = [line for line in result.stdout.splitlines() if line.startswith("ASKED")]
    assert len(asked) == 2, result.stdout
    assert asked[0] == "ASKED -"
    assert "does not open" in asked[1]
    assert "OPENED 1 meeting(s)" in result.stdout
