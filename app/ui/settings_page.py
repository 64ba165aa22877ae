"""Settings, one page: the speech models in use (and the way to the Speech models page), how long
things are kept, what protects the keys (and how to set a passphrase), noise suppression's
default strength, how often permissions come up for review, and the theme.

Every value is read from and written through its owner (app.transcription.model_choice,
app.storage.retention, app.consent.review, app.settings); the page only shows and forwards.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.consent.review import PERIOD_LABELS as REVIEW_LABELS
from app.consent.review import REVIEW_PERIODS, load_period, save_period
from app.settings import Settings
from app.ui.retention_box import RetentionBox
from app.ui.theme import THEME_LABELS, THEMES, Theme, apply_theme, load_theme
from app.ui.window_storage import WindowStorage

NOISE_KEY = "noise.strength"
NOISE_STRENGTHS = ("low", "medium", "high")
NOISE_DEFAULT = "medium"
MODEL_HINT = (
    "Speech models… downloads more accurate models, tests their speed here and chooses them; "
    "“candor models use NAME --for live” or “--for final” does the same from a terminal."
)
PASSPHRASE_HINT = (
    "Without an OS keyring a passphrase can protect the keys: “candor keys passphrase set” "
    "(and “change”, “remove”). Candor then asks for it when the window opens."
)


def noise_strength(settings: Settings) -> str:
    value = settings.get(NOISE_KEY, NOISE_DEFAULT)
    return value if value in NOISE_STRENGTHS else NOISE_DEFAULT


def _combo(parent: QWidget, name: str, description: str,
           items: list[tuple[str, str]], current: str) -> QComboBox:
    combo = QComboBox(parent)
    combo.setAccessibleName(name)
    combo.setAccessibleDescription(description)
    for label, value in items:
        combo.addItem(label, value)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


class SettingsPage(QScrollArea):
    noise_strength_chosen = Signal(str)
    theme_chosen = Signal(str)
    models_requested = Signal()

    def __init__(self, settings: Settings, storage: WindowStorage,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setObjectName("settings_page")
        self.setAccessibleName("Settings")
        self.setWidgetResizable(True)
        body = QWidget(self)
        layout = QVBoxLayout(body)

        models = QGroupBox("Speech models", body)
        form = QFormLayout(models)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.live_model = QLabel(models)
        self.final_model = QLabel(models)
        for label in (self.live_model, self.final_model):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Live captions:", self.live_model)
        form.addRow("Saved transcripts:", self.final_model)
        self.models_button = QPushButton("Speech &models…", models)
        self.models_button.setAccessibleName("Speech models")
        self.models_button.setAccessibleDescription(
            "Download more accurate models, choose one for live captions and one for saved "
            "transcripts, test their speed here")
        self.models_button.clicked.connect(self.models_requested)
        hint = QLabel(MODEL_HINT, models)
        hint.setWordWrap(True)
        button_row = QHBoxLayout()  # the button at its own width, not the form's
        button_row.addWidget(self.models_button)
        button_row.addStretch(1)
        form.addRow(button_row)
        form.addRow(hint)

        keys = QGroupBox("Keys and passphrase", body)
        keys_layout = QVBoxLayout(keys)
        self.protection = QLabel(keys)
        self.protection.setObjectName("key_protection")
        self.protection.setWordWrap(True)
        self.protection.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        passphrase = QLabel(PASSPHRASE_HINT, keys)
        passphrase.setWordWrap(True)
        passphrase.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        keys_layout.addWidget(self.protection)
        keys_layout.addWidget(passphrase)

        self.retention = RetentionBox(storage, body)

        other = QGroupBox("Noise, reviews and look", body)
        form = QFormLayout(other)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.noise = _combo(
            other, "Noise suppression strength",
            "How strongly background noise is removed when noise suppression is on",
            [(s.capitalize(), s) for s in NOISE_STRENGTHS], noise_strength(settings))
        self.noise.activated.connect(lambda i: self._noise(self.noise.itemData(i)))
        self.review = _combo(
            other, "Ask me to review permissions",
            "How long after giving a permission Candor asks whether you still want it; "
            "nothing changes unless you withdraw it",
            [(REVIEW_LABELS[p].capitalize(), p) for p in REVIEW_PERIODS],
            load_period(settings))
        self.review.activated.connect(lambda i: save_period(self.review.itemData(i), settings))
        self.theme = _combo(
            other, "Theme", "Light, dark, or follow the system's setting",
            [(THEME_LABELS[t], t) for t in THEMES], load_theme(settings))
        self.theme.activated.connect(lambda i: self._theme(self.theme.itemData(i)))
        form.addRow("Noise suppression:", self.noise)
        form.addRow("Review permissions:", self.review)
        form.addRow("Theme:", self.theme)

        layout.addWidget(models)
        layout.addWidget(self.retention)
        layout.addWidget(keys)
        layout.addWidget(other)
        layout.addStretch(1)
        self.setWidget(body)
        self.refresh()

    def refresh(self) -> None:
        from app.transcription.model_choice import USE_TITLES, Use, chosen

        uses: tuple[tuple[QLabel, Use], ...] = (
            (self.live_model, "live"), (self.final_model, "final"))
        for label, use in uses:
            try:
                choice = chosen(use, self.settings)
                text = choice.model + ("" if choice.chosen else " (the default)")
            except Exception as err:  # an unreadable manifest: say so, never guess
                text = f"cannot be read: {err}"
            label.setText(text)
            label.setAccessibleName(f"Model for {USE_TITLES[use]}: {text}")
        self.retention.refresh()
        from app.key_protection import describe_protection
        from app.paths import data_dir

        try:
            protection = describe_protection(data_dir())
            text = (f"What protects your keys: {protection.summary}\n"
                    f"What remains at risk: {protection.residual_risk}")
        except Exception as err:  # an unreadable key store: say so, never guess
            text = f"What protects your keys cannot be read: {err}"
        self.protection.setText(text)
        self.protection.setAccessibleName(text)

    def _noise(self, strength: str) -> None:
        self.settings.set(NOISE_KEY, strength)
        self.noise_strength_chosen.emit(strength)

    def _theme(self, theme: Theme) -> None:
        self.settings.set("theme", theme)
        apply_theme(theme)
        self.theme_chosen.emit(theme)
