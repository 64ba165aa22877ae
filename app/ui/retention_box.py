"""How long Candor keeps things: one combo box per stored category (Settings page).

Choosing a shorter period that would erase stored meetings now asks first, naming how many;
Cancel (the default) keeps the old period. The settings and the erase are app.storage's.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QMessageBox, QWidget

from app.storage import RetentionSettings, RetentionSettingsError
from app.storage.retention import CATEGORIES, END_OF_MEETING, PERIOD_LABELS, PERIODS
from app.storage.retention import expired_meetings as expired_under
from app.ui.confirm import confirm_destructive
from app.ui.storage_text import plural
from app.ui.window_storage import WindowStorage

RETENTION_TITLES = {"transcripts": "Keep transcripts", "recordings": "Keep recordings"}
RETENTION_DESCRIPTIONS = {
    "transcripts": "How long stored meeting transcripts are kept before Candor erases them",
    "recordings": "How long meeting audio would be kept; this version never stores audio",
}


class RetentionBox(QGroupBox):
    changed = Signal(str)  # a sentence saying what was set

    def __init__(self, storage: WindowStorage, parent: QWidget | None = None) -> None:
        super().__init__("How long Candor keeps things", parent)
        self.storage = storage
        self.setObjectName("retention_box")
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.retention: dict[str, QComboBox] = {}
        for category in CATEGORIES:
            combo = QComboBox(self)
            combo.setObjectName(f"retention_{category}")
            for period in PERIODS:
                combo.addItem(PERIOD_LABELS[period], period)
            combo.setAccessibleName(RETENTION_TITLES[category])
            combo.setAccessibleDescription(RETENTION_DESCRIPTIONS[category])
            combo.setPlaceholderText("unreadable settings: choose a period")
            combo.activated.connect(
                lambda index, c=category, box=combo: self.set_retention(c, box.itemData(index))
            )
            form.addRow(RETENTION_TITLES[category] + ":", combo)
            self.retention[category] = combo
        self.retention_note = QLabel(self)
        self.retention_note.setObjectName("retention_note")
        self.retention_note.setWordWrap(True)
        form.addRow(self.retention_note)
        self.status = QLabel(self)
        self.status.setObjectName("retention_status_line")
        self.status.setWordWrap(True)
        form.addRow(self.status)
        storage.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        if not self.storage.is_open:
            return
        try:
            settings: RetentionSettings | None = RetentionSettings.load(self.storage.home)
            error = None
        except RetentionSettingsError as err:
            settings, error = None, str(err)
        for category, combo in self.retention.items():
            if settings is None:
                combo.setCurrentIndex(-1)
            else:
                combo.setCurrentIndex(combo.findData(settings.period(category)))
        if error:
            self.retention_note.setText(
                f"⚠ {error} Choosing a period here replaces them (the other category "
                "goes back to its default)."
            )
        else:
            self.retention_note.setText(
                "Expired transcripts are erased when Candor starts and while it runs; each "
                "erase is logged without content. This version never stores meeting audio."
            )
        self.retention_note.setAccessibleName(self.retention_note.text())

    def confirm(self, title: str, text: str, action: str) -> bool:
        return confirm_destructive(self, title, text, action)

    def set_retention(self, category: str, period: str) -> None:
        home = self.storage.home
        try:
            current = RetentionSettings.load(home)
            readable = True
        except RetentionSettingsError:
            current = RetentionSettings()  # the user is replacing settings that cannot be read
            readable = False
        if readable and current.period(category) == period:
            return
        new = current.with_period(category, period)
        if category == "transcripts":
            store = self.storage.store
            now = self.storage.clock()
            already = set(expired_under(store, now, settings=current))
            going = [m for m in expired_under(store, now, settings=new) if m not in already]
            if going and not self.confirm(
                "Erase older transcripts now?",
                f"Keeping transcripts {PERIOD_LABELS[period]} means "
                f"{plural(len(going), 'stored meeting')} older than that "
                f"{'is' if len(going) == 1 else 'are'} erased now, for good. "
                + ("" if period != END_OF_MEETING else
                   "From now on each meeting's transcript is erased when the meeting ends. "),
                f"Erase {len(going)} now",
            ):
                self.refresh()
                return
        try:
            new.save(home)
        except OSError as err:
            QMessageBox.warning(self, "Retention not changed",
                                f"The setting could not be saved: {err.strerror}.")
            self.refresh()
            return
        text = f"{RETENTION_TITLES[category]}: {PERIOD_LABELS[period]}."
        self.status.setText(text)
        self.changed.emit(text)
        # The clock re-plans from the new period (and erases what it made expire at once).
        self.storage.enforce_retention()
        self.storage.notify_changed()
