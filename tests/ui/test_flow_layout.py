"""The wrapping row (app/ui/flow_layout.py) on real widgets: one line when it fits, more lines
and never more width when it does not, no control over another, the stretch still pushing."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QProgressBar, QPushButton, QWidget

from app.ui.flow_layout import FlowLayout
from tests.ui.layout_check import clipped, overlapping


def _row(qtbot) -> tuple[QWidget, list[QPushButton], QProgressBar]:
    host = QWidget()
    qtbot.addWidget(host)
    flow = FlowLayout(host)
    buttons = [QPushButton(text, host) for text in
               ("Microphone", "Noise suppression", "Live captions", "Keep transcript")]
    meter = QProgressBar(host)
    meter.setTextVisible(False)
    for button in buttons[:3]:
        flow.addWidget(button)
    flow.addWidget(meter)
    flow.add_stretch()
    flow.addWidget(buttons[3])
    host.show()
    qtbot.waitExposed(host)
    return host, buttons, meter


def _fit(host: QWidget, width: int) -> None:
    layout = host.layout()
    assert layout is not None
    host.resize(width, layout.heightForWidth(width))
    QApplication.processEvents()


def test_a_row_that_fits_stays_one_line_and_the_meter_takes_the_room(qtbot):
    host, buttons, meter = _row(qtbot)
    _fit(host, 900)
    assert len({b.geometry().center().y() for b in buttons}) == 1
    assert meter.width() > meter.sizeHint().width()
    margin = host.layout().contentsMargins().right()
    assert abs(buttons[3].geometry().right() + 1 - (host.width() - margin)) <= 1  # pushed right
    assert not clipped(host)
    assert not overlapping(host)


def test_a_narrow_row_wraps_instead_of_asking_for_more_width(qtbot):
    host, buttons, _meter = _row(qtbot)
    widest = max(b.sizeHint().width() for b in buttons)
    layout = host.layout()
    assert layout is not None
    assert layout.minimumSize().width() <= widest + 2 * layout.contentsMargins().left()
    one_line = layout.heightForWidth(900)
    _fit(host, widest + 30)
    assert layout.heightForWidth(widest + 30) > one_line
    assert len({b.geometry().top() for b in buttons}) == len(buttons)  # one per line
    assert all(b.geometry().right() <= host.width() for b in buttons)
    assert not clipped(host)
    assert not overlapping(host)


def test_a_hidden_control_leaves_no_gap(qtbot):
    host, buttons, _meter = _row(qtbot)
    _fit(host, 900)
    third = buttons[2].geometry().left()
    buttons[1].hide()
    _fit(host, 900)
    assert buttons[2].geometry().left() < third


def test_a_control_inserted_later_takes_its_place_in_the_row(qtbot):
    host, buttons, _meter = _row(qtbot)
    layout = host.layout()
    assert isinstance(layout, FlowLayout)
    late = QPushButton("Copy announcement")
    layout.insertWidget(1, late)
    _fit(host, 1200)
    assert late.parent() is host
    assert buttons[0].geometry().right() < late.geometry().left() < buttons[1].geometry().left()
