"""In a dark palette every label on every page stays readable: measured on the rendered pixels
(WCAG contrast ratio of the text against what is behind it), not on the colours asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import QLabel, QWidget

from app.storage import open_store
from app.ui.pages import PAGES
from app.ui.theme import apply_theme, is_dark
from tests.support.storage import record_meeting, speech_sentences
from tests.ui.storage_helpers import open_window

pytestmark = pytest.mark.grant("transcript_storage", "transcription")

AA = 4.5  # WCAG 2.1 AA for body text


def _luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb / 255.0
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * c[..., 0] + 0.7152 * c[..., 1] + 0.0722 * c[..., 2]


def _pixels(widget: QWidget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(image.constBits(), dtype=np.uint8)
    rows = data.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4]
    return rows.reshape(image.height(), image.width(), 4)[..., 2::-1].astype(float)  # BGRA→RGB


def text_contrast(shot: np.ndarray, rect: tuple[int, int, int, int]) -> float:
    """The contrast of the strongest ink in `rect` against its commonest colour."""
    x, y, w, h = rect
    region = shot[y:y + h, x:x + w].reshape(-1, 3)
    colours, counts = np.unique(region, axis=0, return_counts=True)
    background = _luminance(colours[counts.argmax()])
    ink = _luminance(region)
    light, dark = np.maximum(ink, background), np.minimum(ink, background)
    return float(((light + 0.05) / (dark + 0.05)).max())


@pytest.fixture
def dark(qapp):
    apply_theme("dark")
    yield
    apply_theme("system")


def test_every_label_is_readable_in_a_dark_palette(dark, qtbot, gate):
    now = datetime.now(UTC).replace(microsecond=0)
    with open_store() as store:
        record_meeting(store, gate, speech_sentences()[:4], title="Weekly sync",
                       started=now - timedelta(hours=1), ended=now)
    window = open_window(qtbot, gate)
    assert is_dark(window.palette())
    assert window.palette().color(QPalette.ColorRole.WindowText).lightness() > 200
    window.resize(1280, 800)
    window.meeting_view.welcome.show()
    weak: list[str] = []
    checked = 0
    for spec in PAGES:
        window.show_page(spec.id)
        if spec.id == "history":
            window.history_view.meetings.setCurrentItem(
                window.history_view.meetings.topLevelItem(0))
        qtbot.wait(20)
        shot = _pixels(window)
        for label in window.findChildren(QLabel):
            if not label.isVisible() or not label.text().strip() or label.window() is not window:
                continue
            seen = label.visibleRegion().boundingRect()  # the part not scrolled out of view
            if seen.height() < label.fontMetrics().height():
                continue
            top_left = label.mapTo(window, seen.topLeft())
            rect = (top_left.x(), top_left.y(), seen.width(), seen.height())
            ratio = text_contrast(shot, rect)
            checked += 1
            if ratio < AA:
                weak.append(f"{spec.title}: {label.text()[:50]!r} {ratio:.1f}:1")
    window.close()
    assert checked >= 20
    assert not weak, "\n".join(weak)
