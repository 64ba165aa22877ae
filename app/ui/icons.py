"""Icons: the platform theme's first, else the bundled Adwaita symbolic set (resources/icons,
licence in LICENSE.md there) drawn in the palette's text colour, so they read in light and
dark palettes alike."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from app.paths import resources_dir

SYMBOLIC_FILL = "#2e3436"  # the one colour Adwaita's symbolic icons are drawn in
SIZES = (16, 24, 32, 48)


def _text_colour() -> QColor:
    app = QApplication.instance()
    palette = app.palette() if isinstance(app, QApplication) else QPalette()
    return palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)


@lru_cache(maxsize=64)
def _bundled(name: str, colour: str) -> QIcon:
    path = resources_dir() / "icons" / f"{name}-symbolic.svg"
    try:
        svg = path.read_text(encoding="utf-8")
    except OSError:
        return QIcon()
    renderer = QSvgRenderer(QByteArray(svg.replace(SYMBOLIC_FILL, colour).encode()))
    icon = QIcon()
    for size in SIZES:
        pixmap = QPixmap(QSize(size, size))
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def icon(name: str) -> QIcon:
    """The icon named `name` in the freedesktop naming scheme (e.g. "edit-find")."""
    themed = QIcon.fromTheme(name)
    if not themed.isNull():
        return themed
    return _bundled(name, _text_colour().name())


def clear_cache() -> None:
    """After the palette changed (a theme switch), so icons are drawn in the new colour."""
    _bundled.cache_clear()
