"""Light, dark or the platform's choice, and the few colours Candor adds to the palette.

Candor draws with the platform palette: Qt follows the desktop's light/dark setting by itself
(Qt 6.5+), so "system" changes nothing. "light" and "dark" set an explicit Fusion palette
whose text/background pairs keep at least WCAG AA contrast (4.5:1). The accent colours
(warnings, the AI indicator) are picked for the palette in use so they stay readable on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from app.settings import Settings

Theme = Literal["system", "light", "dark"]
THEMES: tuple[Theme, ...] = get_args(Theme)
THEME_LABELS: dict[Theme, str] = {
    "system": "Follow the system", "light": "Light", "dark": "Dark",
}
SETTING_KEY = "theme"


def load_theme(settings: Settings) -> Theme:
    value = settings.get(SETTING_KEY, "system")
    return value if value in THEMES else "system"


def dark_palette() -> QPalette:
    palette = QPalette()
    pairs = {
        QPalette.ColorRole.Window: "#202124",
        QPalette.ColorRole.WindowText: "#e8eaed",
        QPalette.ColorRole.Base: "#17181a",
        QPalette.ColorRole.AlternateBase: "#2a2b2e",
        QPalette.ColorRole.Text: "#e8eaed",
        QPalette.ColorRole.Button: "#303134",
        QPalette.ColorRole.ButtonText: "#e8eaed",
        QPalette.ColorRole.ToolTipBase: "#303134",
        QPalette.ColorRole.ToolTipText: "#e8eaed",
        QPalette.ColorRole.Highlight: "#8ab4f8",
        QPalette.ColorRole.HighlightedText: "#202124",
        QPalette.ColorRole.Link: "#8ab4f8",
        QPalette.ColorRole.PlaceholderText: "#9aa0a6",
        QPalette.ColorRole.BrightText: "#ffffff",
    }
    for role, colour in pairs.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#80868b"))
    return palette


def light_palette() -> QPalette:
    app = QApplication.instance()
    style = app.style() if isinstance(app, QApplication) else None
    return style.standardPalette() if style is not None else QPalette()


_platform_palette: QPalette | None = None  # as the platform gave it, before Candor set one


def apply_theme(theme: Theme) -> None:
    """Set the application palette for `theme` ("system": the platform's own again)."""
    global _platform_palette
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    from app.ui.icons import clear_cache

    if _platform_palette is None:
        # QPalette() is a copy of the current application palette, so setting it changes
        # nothing: the platform's own is kept from before the first change instead.
        _platform_palette = QPalette(app.palette())
    if theme == "dark":
        app.setPalette(dark_palette())
    elif theme == "light":
        app.setPalette(light_palette())
    else:
        app.setPalette(_platform_palette)
    clear_cache()


def apply_saved_theme(settings: Settings) -> None:
    """At start-up: "system" needs nothing (the platform's palette is already in use)."""
    theme = load_theme(settings)
    if theme != "system":
        apply_theme(theme)


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


@dataclass(frozen=True, slots=True)
class Accents:
    warning_background: str
    warning_text: str
    alert: str  # the AI indicator: on-device AI is processing now
    muted_text: str


def accents(palette: QPalette) -> Accents:
    if is_dark(palette):
        return Accents("#4a3c00", "#fff1c2", "#ff8a80", "#bdc1c6")
    return Accents("#fff4ce", "#3b2f00", "#b00020", "#4d5156")
