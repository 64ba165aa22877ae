"""Microphone controls: device picker with refresh, level meter, mute, noise-suppression strength
and "Learn room noise". Displays what it is given and forwards what the user asks for."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from app.audio.devices import InputDevice
from app.ui.flow_layout import FlowLayout

METER_FLOOR_DBFS = -60
STRENGTHS = ("low", "medium", "high")


class AudioControls(QWidget):
    device_chosen = Signal(object)  # a device index, or None for the system default
    refresh_requested = Signal()
    mute_toggled = Signal(bool)
    strength_chosen = Signal(str)
    learn_noise_requested = Signal()
    others_mute_toggled = Signal(bool)  # system audio (the other participants)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.device = QComboBox(self)
        self.device.setObjectName("device_picker")
        self.device.setAccessibleName("Microphone device")
        self.device.setAccessibleDescription("Which microphone Candor listens to")
        # "System default" and a little more: 18 characters was wider than the page of a
        # 640 px window at 200 % font; a longer device name still gets its width when there
        # is room (the combo's size hint).
        self.device.setMinimumContentsLength(16)
        self.device.activated.connect(self._device_activated)
        self.refresh = QPushButton("Refresh", self)
        self.refresh.setAccessibleName("Refresh devices")
        self.refresh.setAccessibleDescription("Look again for microphones plugged in or removed")
        self.refresh.clicked.connect(self.refresh_requested)
        self.meter = QProgressBar(self)
        self.meter.setObjectName("level_meter")
        self.meter.setRange(METER_FLOOR_DBFS, 0)
        self.meter.setValue(METER_FLOOR_DBFS)
        self.meter.setTextVisible(False)
        self.meter.setMaximumHeight(14)
        self.meter.setAccessibleName("Microphone level")
        self.meter.setAccessibleDescription("Loudness of the microphone, in dB below full scale")
        self.mute = QPushButton("Mute", self)
        self.mute.setObjectName("mute")
        self.mute.setCheckable(True)
        self.mute.setAccessibleName("Mute")
        self.mute.setAccessibleDescription("While muted, no sound reaches any processing")
        self.mute.toggled.connect(self._mute_toggled)
        self.strength = QComboBox(self)
        self.strength.setObjectName("noise_strength")
        for name in STRENGTHS:
            self.strength.addItem(name.capitalize(), name)
        self.strength.setCurrentIndex(1)
        self.strength.setAccessibleName("Noise suppression strength")
        self.strength.setAccessibleDescription("How strongly background noise is removed")
        self.strength.activated.connect(
            lambda index: self.strength_chosen.emit(self.strength.itemData(index))
        )
        self.learn = QPushButton("Learn room noise", self)
        self.learn.setAccessibleName("Learn room noise")
        self.learn.setAccessibleDescription(
            "Stay quiet for two seconds: Candor learns the background noise to remove it"
        )
        self.learn.clicked.connect(self.learn_noise_requested)
        self.status = QLabel(self)
        self.status.setObjectName("audio_status")
        self.status.hide()
        self.device_label = QLabel("Microphone:", self)
        # One row that wraps: the microphone (device, refresh, level, mute), noise, then the
        # others. Two fixed rows were still wider than the page in a 640 or 800 px window
        # (the page scrolled sideways); each group below stays together when the row wraps.
        flow = FlowLayout(self, margins=0)
        flow.addWidget(_group(self, (self.device_label, 0), (self.device, 1)))
        flow.addWidget(self.refresh)
        flow.addWidget(self.status)
        flow.addWidget(_group(self, (self.meter, 1), (self.mute, 0)))
        flow.addWidget(_group(self, (QLabel("Noise:", self), 0), (self.strength, 0),
                              (self.learn, 0)))
        # The others (system audio): their own meter and mute, shown while they are heard.
        self.others_label = QLabel("Others:", self)
        self.others_meter = QProgressBar(self)
        self.others_meter.setObjectName("others_level_meter")
        self.others_meter.setRange(METER_FLOOR_DBFS, 0)
        self.others_meter.setValue(METER_FLOOR_DBFS)
        self.others_meter.setTextVisible(False)
        self.others_meter.setMaximumHeight(14)
        self.others_meter.setAccessibleName("Others' level")
        self.others_meter.setAccessibleDescription(
            "Loudness of what this computer plays (the other participants), in dB below full scale")
        self.others_mute = QPushButton("Mute others", self)
        self.others_mute.setObjectName("others_mute")
        self.others_mute.setCheckable(True)
        self.others_mute.setAccessibleName("Mute others")
        self.others_mute.setAccessibleDescription(
            "While muted, nothing the computer plays reaches any processing")
        self.others_mute.toggled.connect(self._others_mute_toggled)
        self.others_group = _group(self, (self.others_label, 0), (self.others_meter, 1),
                                   (self.others_mute, 0))
        flow.addWidget(self.others_group)
        self.set_others_visible(False)
        self.set_noise_controls_enabled(False)

    def set_others_visible(self, visible: bool) -> None:
        for widget in (self.others_group, self.others_label, self.others_meter,
                       self.others_mute):
            widget.setVisible(visible)

    def _others_mute_toggled(self, muted: bool) -> None:
        self.others_mute.setText("Unmute others" if muted else "Mute others")
        self.others_mute.setAccessibleName(self.others_mute.text())
        if muted:
            self.others_meter.setValue(METER_FLOOR_DBFS)
            self.others_meter.setToolTip("muted: nothing the computer plays is processed")
        self.others_mute_toggled.emit(muted)

    def set_source_level(self, source: str, rms_dbfs: float, peak_dbfs: float) -> None:
        if source == "system" and not self.others_mute.isChecked():
            self.others_meter.setValue(int(max(METER_FLOOR_DBFS, min(0.0, rms_dbfs))))
            self.others_meter.setToolTip(f"level {rms_dbfs:.0f} dBFS, peak {peak_dbfs:.0f} dBFS")

    def set_devices(self, devices: Sequence[InputDevice], selected: int | None) -> None:
        self.device.clear()
        self.device.addItem("System default", None)
        for device in devices:
            self.device.addItem(device.label, device.index)
        position = self.device.findData(selected) if selected is not None else 0
        self.device.setCurrentIndex(max(position, 0))
        self.status.setText("" if devices else "No microphone found")
        self.status.setAccessibleName(self.status.text())
        self.status.setVisible(not devices)

    def selected_device(self) -> int | None:
        return self.device.currentData()

    def _device_activated(self, index: int) -> None:
        self.device_chosen.emit(self.device.itemData(index))

    def _mute_toggled(self, muted: bool) -> None:
        self.mute.setText("Unmute" if muted else "Mute")
        self.mute.setAccessibleName("Unmute" if muted else "Mute")
        if muted:
            # Muted, no sound is processed: the meter says so instead of freezing at its last
            # level (issue 13, defect 5).
            self.meter.setValue(METER_FLOOR_DBFS)
            self.meter.setToolTip("muted: no sound reaches any processing")
        self.meter.setAccessibleDescription(
            "Muted: no sound reaches any processing" if muted else "The microphone's level")
        self.mute_toggled.emit(muted)

    def set_level(self, rms_dbfs: float, peak_dbfs: float) -> None:
        if self.mute.isChecked():
            return  # a level measured just before the mute, arriving after it
        self.meter.setValue(int(max(METER_FLOOR_DBFS, min(0.0, rms_dbfs))))
        self.meter.setToolTip(f"level {rms_dbfs:.0f} dBFS, peak {peak_dbfs:.0f} dBFS")

    def set_noise_controls_enabled(self, enabled: bool) -> None:
        self.strength.setEnabled(enabled)
        self.learn.setEnabled(enabled)


def _group(parent: QWidget, *parts: tuple[QWidget, int]) -> QWidget:
    """Controls that belong together (a label and its control, a meter and its mute): they
    stay on one line when it has room, and wrap inside the group only when even the group
    alone is wider than the page (200 % font). A part given a stretch takes the room left."""
    group = QWidget(parent)
    flow = FlowLayout(group, margins=0)
    for widget, stretch in parts:
        if stretch:
            widget.setSizePolicy(QSizePolicy.Policy.Expanding, widget.sizePolicy().verticalPolicy())
        flow.addWidget(widget)
    if any(stretch for _widget, stretch in parts):
        group.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    return group
