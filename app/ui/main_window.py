"""The main window: a meeting area, the way to the consent panel, and a status bar."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QToolBar, QVBoxLayout, QWidget

WINDOW_TITLE = "Candor"
IDLE_STATUS = "Nothing is running. Candor processes nothing until you allow it, and only here."


class MainWindow(QMainWindow):
    consent_panel_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(WINDOW_TITLE)
        self.resize(960, 640)

        self.consent_action = QAction("Privacy && consent…", self)
        self.consent_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.consent_action.setToolTip("See, give and withdraw every permission Candor uses")
        self.consent_action.triggered.connect(self.consent_panel_requested)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.quit_action)
        privacy_menu = self.menuBar().addMenu("&Privacy")
        privacy_menu.addAction(self.consent_action)

        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("main_toolbar")
        toolbar.addAction(self.consent_action)
        self.addToolBar(toolbar)

        self.meeting_area = QWidget(self)
        self.meeting_area.setObjectName("meeting_area")
        self.meeting_area.setAccessibleName("Meeting")
        layout = QVBoxLayout(self.meeting_area)
        placeholder = QLabel("No meeting in progress.", self.meeting_area)
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(placeholder)
        self.setCentralWidget(self.meeting_area)

        self.statusBar().showMessage(IDLE_STATUS)
