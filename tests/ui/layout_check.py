"""What "clipped" and "overlapping" mean for the layout test, measured on real widgets."""

from __future__ import annotations

from itertools import combinations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QComboBox,
    QLabel,
    QScrollBar,
    QSplitterHandle,
    QStackedWidget,
    QTabBar,
    QWidget,
)

from app.ui.elided_label import ElidedLabel

TOLERANCE = 1  # px: rounding of fractional font metrics
SETTLE_ROUNDS = 100  # a page whose geometry still changes after this many passes never settles


def settle(root: QWidget) -> None:
    """Let Qt finish laying `root` out: a resize or a page change starts a cascade of posted
    layout requests (a wrapped label or row asks for its height at its new width, its page
    grows, the scroll area resizes it…), one event-loop pass each. Measuring before the cascade
    ends sees a state no user sees; a fixed wait is too short on a busy machine. Done when no
    widget's geometry changed in a whole pass."""
    before: list[QRect] | None = None
    for _ in range(SETTLE_ROUNDS):
        QApplication.processEvents()
        now = [root.geometry(), *(w.geometry() for w in root.findChildren(QWidget))]
        if now == before:
            return
        before = now
    raise AssertionError(f"{_name(root)} never settled: its layout keeps changing")


def _shown(widget: QWidget) -> bool:
    return widget.isVisible() and not widget.objectName().startswith("qt_") \
        and widget.width() > 0 and widget.height() > 0


def clipped(root: QWidget) -> list[str]:
    """Every visible control whose text does not fit it: a label or button narrower than its
    text, a wrapped label shorter than its lines, a combo box narrower than its longest item."""
    problems = []
    for w in root.findChildren(QWidget):
        if not _shown(w):
            continue
        if isinstance(w, ElidedLabel):
            continue  # a status line: "…" at the edge by design, whole in its tooltip
        if isinstance(w, QLabel) and w.text().strip():
            if w.wordWrap():
                need = w.heightForWidth(w.width())
                if need > w.height() + TOLERANCE:
                    problems.append(f"label {w.text()[:40]!r}: needs {need} px high, has "
                                    f"{w.height()}")
            else:
                # Unwrapped, a label needs its whole text's width (rich text included).
                need = w.minimumSizeHint().width()
                if need > w.width() + TOLERANCE:
                    problems.append(f"label {w.text()[:40]!r}: needs {need} px, has "
                                    f"{w.width()}")
        elif isinstance(w, QAbstractButton) and w.text() and not isinstance(w.parent(), QTabBar):
            hint = w.sizeHint()
            if hint.width() > w.width() + TOLERANCE or w.height() < w.fontMetrics().height():
                problems.append(f"button {w.text()!r}: needs {hint.width()}×{hint.height()}, "
                                f"has {w.width()}×{w.height()}")
        elif isinstance(w, QComboBox) and w.count():
            longest = max(w.fontMetrics().horizontalAdvance(w.itemText(i))
                          for i in range(w.count()))
            if longest > w.width():
                problems.append(f"combo {w.accessibleName()!r}: longest item {longest} px, "
                                f"has {w.width()}")
    return problems


def _children(widget: QWidget) -> list[QWidget]:
    direct = Qt.FindChildOption.FindDirectChildrenOnly
    return [c for c in widget.findChildren(QWidget, options=direct) if _shown(c)
            and not isinstance(c, (QScrollBar, QSplitterHandle)) and not c.isWindow()]


def overlapping(root: QWidget) -> list[str]:
    """Visible siblings laid out on top of each other (a stacked widget's pages and a scroll
    area's internals excepted)."""
    problems = []
    for parent in [root, *root.findChildren(QWidget)]:
        if not _shown(parent) or isinstance(parent, (QStackedWidget, QAbstractScrollArea)):
            continue
        if parent.layout() is None:
            continue
        kids = _children(parent)
        for a, b in combinations(kids, 2):
            overlap: QRect = a.geometry().intersected(b.geometry())
            if overlap.width() > TOLERANCE and overlap.height() > TOLERANCE:
                problems.append(f"{_name(a)} overlaps {_name(b)} in {_name(parent)}")
    return problems


def _name(w: QWidget) -> str:
    text = getattr(w, "text", None)
    label = text() if callable(text) else ""
    return f"{type(w).__name__}({w.objectName() or w.accessibleName() or label!s:.30})"
