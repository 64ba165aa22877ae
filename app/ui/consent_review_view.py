"""Consent reviewed over time, in the window: a calm banner naming the permissions due for
review; "Review" opens Privacy & consent with those permissions listed first, each with "Keep"
(records a `reviewed` note) and "Withdraw". Dismissing the banner or doing nothing records
nothing and changes nothing: the banner comes back at the next start while a review is due.

What is due comes from app.consent.review (the ledger's dates, the user's review period, and the
window's clock, which tests move instead of waiting); this module only shows it and forwards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.consent import ConsentGate
from app.consent.review import (
    PERIOD_LABELS,
    ReviewError,
    ReviewStatus,
    due_for_review,
    keep,
    load_period,
)
from app.settings import Settings
from app.ui.consent_panel import ConsentPanel
from app.ui.gate_bridge import GateBridge
from app.ui.storage_ui import NoticeArea

VIA = "consent review"
NOTICE_KEY = "consent_review"
RECHECK_MS = 60 * 60 * 1000  # a window left open for days still notices a review falling due


def _day(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d")


def banner_text(due: list[ReviewStatus], title: Callable[[str], str]) -> str:
    if not due:
        return ""
    names = ", ".join(title(s.purpose) for s in due)
    period = PERIOD_LABELS[due[0].period]
    return (f"Time to look again at what you allowed ({period}): {names}. Nothing changes "
            "unless you choose to; Review shows each one.")


class ReviewBox(QFrame):
    """In Privacy & consent: each permission due for review, with Keep and Withdraw."""

    def __init__(self, review: ConsentReview, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.review = review
        self.setObjectName("review_box")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Permissions due for review")
        self.heading = QLabel(self)
        self.heading.setWordWrap(True)
        self.rows_layout = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(self.rows_layout)
        self.keep_buttons: dict[str, QPushButton] = {}
        self.withdraw_buttons: dict[str, QPushButton] = {}
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.show_due(review.due)

    def show_due(self, due: list[ReviewStatus]) -> None:
        while self.rows_layout.count():
            item = self.rows_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.keep_buttons.clear()
        self.withdraw_buttons.clear()
        self.setVisible(bool(due))
        self.heading.setText("<b>Due for review</b>: do you still want these? Keeping one "
                             "records that you looked again; nothing else changes.")
        for status in due:
            title = self.review.title(status.purpose)
            row = QWidget(self)
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            last = status.last_reviewed_at
            text = QLabel(f"{title}: given {_day(status.given_at)}"
                          + (f", last reviewed {_day(last)}" if last else "")
                          + (f", due {_day(status.due_at)}" if status.due_at else ""), row)
            text.setWordWrap(True)
            keep_button = QPushButton("Keep", row)
            keep_button.setAccessibleName(f"Keep {title}")
            keep_button.setAccessibleDescription(
                f"Record that you looked at {title} again and still allow it")
            keep_button.clicked.connect(lambda _=False, p=status.purpose: self._keep(p))
            withdraw_button = QPushButton("Withdraw", row)
            withdraw_button.setAccessibleName(f"Withdraw {title}")
            withdraw_button.setAccessibleDescription(f"Withdraw {title} now; it stops at once")
            withdraw_button.clicked.connect(lambda _=False, p=status.purpose: self._withdraw(p))
            line.addWidget(text, 1)
            line.addWidget(withdraw_button)
            line.addWidget(keep_button)
            self.rows_layout.addWidget(row)
            self.keep_buttons[status.purpose] = keep_button
            self.withdraw_buttons[status.purpose] = withdraw_button

    def _keep(self, purpose: str) -> None:
        try:
            keep(self.review.gate, [purpose], via=VIA)
        except ReviewError as err:
            self.status.setText(str(err))
        else:
            self.status.setText(f"Kept {self.review.title(purpose)}; recorded as reviewed.")
        self.review.refresh()

    def _withdraw(self, purpose: str) -> None:
        self.review.gate.withdraw(purpose, via=VIA)
        self.status.setText(f"Withdrew {self.review.title(purpose)}.")
        self.review.refresh()


class ConsentReview(QObject):
    """Keeps the banner in step with what is due; `open_review` opens the panel."""

    def __init__(
        self,
        gate: ConsentGate,
        bridge: GateBridge,
        settings: Settings,
        notices: NoticeArea,
        open_panel: Callable[[], ConsentPanel],
        *,
        clock: Callable[[], datetime | None] = lambda: None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.gate = gate
        self.settings = settings
        self.notices = notices
        self._dismissed: frozenset[str] = frozenset()  # due when the banner was dismissed
        self.open_panel = open_panel
        self.clock = clock  # None means now
        self.due: list[ReviewStatus] = []
        self.box: ReviewBox | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(RECHECK_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        bridge.changed.connect(self.refresh)

    def title(self, purpose: str) -> str:
        return self.gate.notices.current(purpose).title

    def refresh(self) -> None:
        now = self.clock() or datetime.now(UTC)
        self.due = due_for_review(self.gate, now, load_period(self.settings), refresh=False)
        due = frozenset(s.purpose for s in self.due)
        shown = due and not due <= self._dismissed  # dismissed: quiet until something new
        self.notices.set_notice(NOTICE_KEY, banner_text(self.due, self.title) if shown else "")
        notice = self.notices.notices.get(NOTICE_KEY)
        if notice is not None and not notice.action_buttons:
            notice.add_action("Review", "Open Privacy & consent to keep or withdraw each one",
                              self._review_clicked)
            notice.dismissed.connect(self._banner_dismissed)
        if self.box is not None:
            self.box.show_due(self.due)

    def _banner_dismissed(self, _key: str) -> None:
        self._dismissed = frozenset(s.purpose for s in self.due)

    def _review_clicked(self) -> None:
        self.open_review()

    def open_review(self) -> ConsentPanel:
        panel = self.open_panel()
        if self.box is None or self.box.parent() is not panel:
            self.box = ReviewBox(self, panel)
            layout = panel.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(1, self.box)  # under the intro, above the permissions
        self.refresh()
        return panel
