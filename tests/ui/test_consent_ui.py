"""The consent UI with real widgets over the real ledger."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app.consent import PURPOSES, NoticeCatalog, open_gate
from app.ui.consent_dialog import OptInDialog
from app.ui.main_window import MainWindow
from tests.consent.helpers import bump_notice, copy_notices
from tests.ui.dialogs import DialogAnswerer


@pytest.fixture
def window(qtbot, candor_home):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def _grants(gate):
    return [(r.purpose, r.collection_method) for r in gate.ledger.records() if r.state == "given"]


def test_fresh_profile_everything_off_and_panel_shows_not_given(window):
    view = window.meeting_view
    assert all(not button.isChecked() for button in view.toggles.values())
    assert view.welcome.isVisible()
    assert not view.ai_indicator.isVisible()
    panel = window.open_consent_panel()
    assert [row.state_label.text() for row in panel.rows.values()] == ["Not given"] * len(PURPOSES)
    assert [row.action_button.text() for row in panel.rows.values()] == ["Give…"] * len(PURPOSES)


def test_welcome_has_no_accept_all_and_dismissal_grants_nothing(window, qtbot):
    texts = [b.text().lower() for b in window.meeting_view.welcome.findChildren(QPushButton)]
    assert not any("accept" in t or "allow" in t for t in texts)
    qtbot.mouseClick(window.meeting_view.welcome.ok_button, Qt.MouseButton.LeftButton)
    assert not window.meeting_view.welcome.isVisible()
    assert window.gate.ledger.records() == []
    again = MainWindow(open_gate())
    qtbot.addWidget(again)
    assert again.meeting_view.welcome.isHidden(), "the welcome is shown once"


def test_dont_allow_records_nothing_and_the_toggle_goes_back_off(window, qtbot):
    answers = DialogAnswerer(["deny"])
    qtbot.mouseClick(window.meeting_view.toggles["live_captions"], Qt.MouseButton.LeftButton)
    answers.stop()
    assert answers.seen == ["microphone"]
    assert window.gate.ledger.records() == []
    assert not window.meeting_view.toggles["live_captions"].isChecked()
    assert not window.meeting_view.toggles["microphone"].isChecked()


def test_escape_and_closing_the_dialog_mean_dont_allow(window, qtbot):
    def press_escape(dialog: OptInDialog) -> None:
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    def close(dialog: OptInDialog) -> None:
        dialog.close()

    for action in (press_escape, close):
        answers = DialogAnswerer([action])
        qtbot.mouseClick(window.meeting_view.toggles["save_transcript"], Qt.MouseButton.LeftButton)
        answers.stop()
        assert answers.seen == ["transcript_storage"]
        assert window.gate.ledger.records() == []
        assert not window.meeting_view.toggles["save_transcript"].isChecked()


def test_allow_records_exactly_one_grant_for_that_purpose(window, qtbot):
    answers = DialogAnswerer(["allow"])
    qtbot.mouseClick(window.meeting_view.toggles["save_transcript"], Qt.MouseButton.LeftButton)
    answers.stop()
    assert _grants(window.gate) == [("transcript_storage", "meeting_toolbar")]
    assert [p for p in PURPOSES if window.gate.allowed(p)] == ["transcript_storage"]
    assert window.meeting_view.toggles["save_transcript"].isChecked()


def test_a_toggle_looks_on_only_once_it_is_allowed(window, qtbot):
    """Issue 13, defect 2: behind the open permission dialog the toggle is still off."""
    toggle = window.meeting_view.toggles["save_transcript"]
    while_asked: list[bool] = []

    def look_then_allow(dialog) -> None:
        while_asked.append(toggle.isChecked())
        dialog.allow_button.click()

    answers = DialogAnswerer([look_then_allow])
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    answers.stop()
    assert answers.errors == []
    assert while_asked == [False], "the toggle looked on before the user allowed it"
    assert toggle.isChecked()
    assert "Now on." in toggle.accessibleDescription()


def test_captions_ask_for_microphone_and_transcription_separately(window, qtbot):
    answers = DialogAnswerer(["allow", "allow"])
    qtbot.mouseClick(window.meeting_view.toggles["live_captions"], Qt.MouseButton.LeftButton)
    answers.stop()
    assert answers.seen == ["microphone", "transcription"]
    assert _grants(window.gate) == [
        ("microphone", "meeting_toolbar"),
        ("transcription", "meeting_toolbar"),
    ]
    assert window.meeting_view.toggles["live_captions"].isChecked()
    assert window.meeting_view.toggles["microphone"].isChecked()


def test_opening_and_scrolling_the_notice_grants_nothing(qtbot, candor_home):
    gate = open_gate()
    dialog = OptInDialog(gate.notices.current("transcription"))
    qtbot.addWidget(dialog)
    dialog.show()
    bar = dialog.text.verticalScrollBar()
    bar.setValue(bar.maximum())
    qtbot.keyClick(dialog.text, Qt.Key.Key_PageDown)
    dialog.reject()
    assert gate.ledger.records() == []
    assert "processed" in dialog.text.toPlainText()


def test_allow_and_dont_allow_are_equal_and_neither_is_default(qtbot, candor_home):
    dialog = OptInDialog(open_gate().notices.current("microphone"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    allow, deny = dialog.allow_button, dialog.deny_button
    assert allow.size() == deny.size()
    assert allow.font() == deny.font()
    assert not allow.isDefault()
    assert not deny.isDefault()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.result() != dialog.DialogCode.Accepted


class ClickCounter(QObject):
    """Counts the clicks a user makes: mouse presses that reach a button, whoever sends them."""

    def __init__(self) -> None:
        super().__init__()
        self.pressed: list[str] = []
        QApplication.instance().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress and isinstance(watched, QAbstractButton):
            self.pressed.append(watched.text() or watched.accessibleName())
        return False

    def take(self) -> list[str]:
        clicks, self.pressed = self.pressed, []
        return clicks

    def stop(self) -> None:
        QApplication.instance().removeEventFilter(self)


def test_withdraw_in_one_click_closes_the_gate_and_turns_the_toggle_off(window, qtbot):
    def click_allow(dialog: OptInDialog) -> None:  # a mouse click, as a user gives it
        qtbot.mouseClick(dialog.allow_button, Qt.MouseButton.LeftButton)

    counter = ClickCounter()
    answers = DialogAnswerer([click_allow, click_allow])
    qtbot.mouseClick(window.meeting_view.toggles["live_captions"], Qt.MouseButton.LeftButton)
    answers.stop()
    assert answers.errors == []
    assert window.gate.allowed("transcription")
    clicks_to_give = counter.take()
    assert len(clicks_to_give) == 3, clicks_to_give  # the toggle, "Allow" in each notice

    panel = window.open_consent_panel()
    row = panel.rows["transcription"]
    assert row.action_button.text() == "Withdraw"
    before = len(window.gate.ledger.records())
    counter.take()
    qtbot.mouseClick(row.action_button, Qt.MouseButton.LeftButton)
    clicks_to_withdraw = counter.take()
    assert not window.gate.allowed("transcription")
    records = window.gate.ledger.records()
    assert len(records) == before + 1
    assert (records[-1].purpose, records[-1].state, records[-1].collection_method) == (
        "transcription",
        "withdrawn",
        "panel",
    )
    qtbot.waitUntil(lambda: not window.meeting_view.toggles["live_captions"].isChecked())
    assert window.meeting_view.toggles["microphone"].isChecked(), "only captions needed it"
    assert row.state_label.text() == "Not given"
    assert clicks_to_withdraw == ["Withdraw"]
    assert len(clicks_to_withdraw) <= len(clicks_to_give)

    # Giving it again from the panel, counted the same way: "Give…" then "Allow".
    answers = DialogAnswerer([click_allow])
    qtbot.mouseClick(row.action_button, Qt.MouseButton.LeftButton)
    answers.stop()
    clicks_to_give_in_panel = counter.take()
    counter.stop()
    assert window.gate.allowed("transcription")
    assert _grants(window.gate)[-1] == ("transcription", "panel")
    assert len(clicks_to_give_in_panel) == 2, clicks_to_give_in_panel
    assert len(clicks_to_withdraw) <= len(clicks_to_give_in_panel)


def test_withdrawal_from_the_command_line_turns_the_toggle_off(window, qtbot):
    for purpose in ("microphone", "transcription"):
        window.gate.grant(purpose, via="test")
    qtbot.mouseClick(window.meeting_view.toggles["live_captions"], Qt.MouseButton.LeftButton)
    assert window.meeting_view.toggles["live_captions"].isChecked()
    other_process_gate = open_gate()
    other_process_gate.withdraw("transcription", via="cli")
    qtbot.waitUntil(
        lambda: not window.meeting_view.toggles["live_captions"].isChecked(), timeout=5000
    )


def test_reconsent_banner_after_a_notice_version_bump(qtbot, candor_home, tmp_path):
    notices = copy_notices(tmp_path)
    gate = open_gate(candor_home, NoticeCatalog(notices))
    gate.grant("transcription", via="test")
    gate.close()
    bump_notice(notices, "transcription")
    win = MainWindow(open_gate(candor_home, NoticeCatalog(notices)))
    qtbot.addWidget(win)
    win.show()
    assert win.meeting_view.reconsent_banner.isVisible()
    assert "Transcription" in win.meeting_view.reconsent_text.text()
    panel = win.open_consent_panel()
    assert panel.banner.isVisible()
    assert panel.rows["transcription"].state_label.text() == "Needs your consent again"
    assert panel.rows["transcription"].action_button.text() == "Give again…"
    answers = DialogAnswerer(["allow"])
    qtbot.mouseClick(panel.rows["transcription"].action_button, Qt.MouseButton.LeftButton)
    answers.stop()
    assert win.gate.allowed("transcription")
    assert not panel.banner.isVisible()
    assert not win.meeting_view.reconsent_banner.isVisible()
    win.close()


def test_history_tab_lists_the_ledger_verifies_and_exports_receipts(window, qtbot, tmp_path):
    window.gate.grant("microphone", via="test")
    window.gate.withdraw("microphone", via="test", delete_data=True)
    panel = window.open_consent_panel("history")
    history = panel.history
    assert panel.tabs.currentWidget() is history
    assert history.table.rowCount() == 2
    # Plain words: the permission's title, what happened; no ids unless asked for.
    title = window.gate.notices.current("microphone").title
    assert [history.table.item(1, c).text() for c in range(5)][1:] == [
        title, "Withdrawn", "Test", "Yes"]
    assert all(history.table.isColumnHidden(c) for c in range(5, 9))
    assert not history.head.isVisible()
    assert history.integrity.text().startswith("✓")
    head = window.gate.ledger.records()[-1].record_hash
    assert head in history.head.text()
    # "Show details" reveals the ledger's numbers, ids and head hash.
    qtbot.mouseClick(history.details_button, Qt.MouseButton.LeftButton)
    assert not any(history.table.isColumnHidden(c) for c in range(9))
    assert history.head.isVisible()
    record = window.gate.ledger.records()[-1]
    assert [history.table.item(1, c).text() for c in range(5, 9)] == [
        str(record.seq), "microphone", f"v{record.notice_version}", record.record_id]
    target = tmp_path / "receipts.json"
    history.choose_export_path = lambda: str(target)
    qtbot.mouseClick(history.export_button, Qt.MouseButton.LeftButton)
    receipt = json.loads(target.read_text())
    assert receipt["ledger"]["head_hash"] == head
    assert len(receipt["pii_processing"]["purposes"]) == len(PURPOSES)


def test_history_tab_exports_a_kantara_receipt_that_validates_by_keyboard(
    window, qtbot, tmp_path
):
    from tests.consent.test_kantara import validate

    panel = window.open_consent_panel("history")
    history = panel.history
    target = tmp_path / "kantara.json"
    history.choose_kantara_path = lambda: str(target)
    # Nothing given: a Kantara receipt records a consent in force, so the user is told why
    # nothing was saved rather than handed an empty receipt.
    answers = DialogAnswerer(["ok"])
    qtbot.mouseClick(history.kantara_button, Qt.MouseButton.LeftButton)
    answers.stop()
    assert len(answers.seen) == 1
    assert "No permission is given now" in answers.seen[0]
    assert not target.exists()

    window.gate.grant("transcription", via="panel")
    window.gate.grant("microphone", via="dialog")
    # Reachable from the keyboard: it takes Tab focus, and Space presses it.
    assert history.kantara_button.focusPolicy() & Qt.FocusPolicy.TabFocus
    history.window().activateWindow()  # the message box had the keyboard
    qtbot.waitUntil(history.window().isActiveWindow)
    history.kantara_button.setFocus()
    qtbot.waitUntil(history.kantara_button.hasFocus)
    qtbot.keyClick(history.kantara_button, Qt.Key.Key_Space)
    qtbot.waitUntil(target.exists, timeout=10_000)
    receipt = json.loads(target.read_text())
    validate(receipt)
    assert receipt["version"] == "KI-CR-v1.1.0"
    purposes = receipt["services"][0]["purposes"]
    assert sorted(p["candorExtension"]["purposeId"] for p in purposes) == [
        "microphone", "transcription"]
    assert receipt["piiPrincipalId"] == window.gate.ledger.profile_id
    assert "Kantara receipt saved" in history.integrity.text()
    # Candor's own, richer receipt is still what "Export receipts…" saves.
    own = tmp_path / "own.json"
    history.choose_export_path = lambda: str(own)
    qtbot.mouseClick(history.export_button, Qt.MouseButton.LeftButton)
    assert "ledger" in json.loads(own.read_text())
    # Its mnemonic (Alt+K) is unique among the panel's buttons.
    mnemonics = [
        b.text().split("&", 1)[1][0].lower()
        for b in panel.findChildren(QPushButton)
        if "&" in b.text()
    ]
    assert "k" in mnemonics
    assert len(mnemonics) == len(set(mnemonics))
    assert history.kantara_button.accessibleName() == "Export a Kantara consent receipt"


def test_view_notice_shows_the_full_text(window, qtbot):
    panel = window.open_consent_panel()
    answers = DialogAnswerer(["close"])
    qtbot.mouseClick(panel.rows["microphone"].view_button, Qt.MouseButton.LeftButton)
    answers.stop()
    assert answers.seen == ["NoticeViewer"]
    assert window.gate.ledger.records() == []


def _interactive(root: QWidget) -> list[QWidget]:
    kinds = (QAbstractButton, QComboBox, QLineEdit)
    return [w for w in root.findChildren(QWidget) if isinstance(w, kinds) and w.isVisible()]


def test_every_interactive_widget_has_an_accessible_name_and_description(window):
    window.gate.grant("transcript_storage", via="test")
    dialog = OptInDialog(window.gate.notices.current("microphone"), window)
    dialog.show()
    checked = 0
    # Each page as the user sees it: the meeting page, then Privacy & consent.
    window.show_page("meeting")
    widgets = _interactive(window.meeting_view) + _interactive(dialog)
    panel = window.open_consent_panel()
    widgets += _interactive(panel)
    for root in (widgets,):
        for widget in root:
            if widget.objectName().startswith("qt_"):  # Qt's own scroll-area internals
                continue
            iface = QAccessible.queryAccessibleInterface(widget)
            assert iface is not None
            name = iface.text(QAccessible.Text.Name)
            description = iface.text(QAccessible.Text.Description)
            assert name, f"{type(widget).__name__} {widget.objectName()} has no accessible name"
            assert description, f"{name!r} has no accessible description"
            checked += 1
    dialog.close()
    assert checked >= 25


def test_everything_is_reachable_by_keyboard_in_a_sensible_order(window, qtbot):
    view = window.meeting_view
    view.welcome.hide()
    order = []
    first = view.toggles["microphone"]
    first.setFocus()
    qtbot.waitUntil(first.hasFocus)
    widget = first
    for _ in range(12):
        order.append(widget)
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
        widget = QApplication.focusWidget()
        if widget is first:
            break
    names = [w.accessibleName() for w in order]
    assert names[:6] == [
        "Microphone",
        "Noise suppression",
        "Live captions",
        "Hear the others",
        "Keep transcript",
        "Privacy and consent",
    ]
    for w in _interactive(view):
        assert w.focusPolicy() & Qt.FocusPolicy.TabFocus, w.accessibleName()


def test_panel_works_at_double_font_size_without_clipping(window, qtbot):
    app = QApplication.instance()
    font = app.font()
    original = QApplication.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    app.setFont(font)
    try:
        panel = window.open_consent_panel()
        panel.resize(760, 640)  # its usual size; layouts must make room for the larger text
        qtbot.wait(50)
        for widget in _interactive(panel):
            if widget.objectName().startswith("qt_") or not isinstance(widget, QPushButton):
                continue
            assert widget.width() >= widget.sizeHint().width(), widget.text()
            assert widget.height() >= widget.fontMetrics().height(), widget.text()
    finally:
        app.setFont(original)


def test_a_keyboard_user_can_give_consent_without_a_mouse(window, qtbot):
    def by_keyboard(dialog: OptInDialog) -> None:
        assert dialog.text.hasFocus(), "focus starts on the notice, not on a button"
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is dialog.deny_button
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is dialog.allow_button
        qtbot.keyClick(dialog.allow_button, Qt.Key.Key_Space)

    toggle = window.meeting_view.toggles["save_transcript"]
    toggle.setFocus()
    answers = DialogAnswerer([by_keyboard])
    qtbot.keyClick(toggle, Qt.Key.Key_Space)
    answers.stop()
    assert answers.seen == ["transcript_storage"]
    assert _grants(window.gate) == [("transcript_storage", "meeting_toolbar")]
    assert toggle.isChecked()
