"""The microphone row as a user sees it: nothing drawn over anything else."""

from __future__ import annotations

import itertools

from app.audio.devices import InputDevice
from app.ui.audio_controls import AudioControls


def _overlaps(controls: AudioControls) -> list[tuple[str, str]]:
    shown = [w for w in controls.children() if hasattr(w, "isVisible") and w.isVisible()]
    return [
        (a.objectName() or type(a).__name__, b.objectName() or type(b).__name__)
        for a, b in itertools.combinations(shown, 2)
        if a.geometry().intersects(b.geometry())
    ]


def test_no_microphone_is_said_beside_the_picker_not_over_it(qtbot):
    controls = AudioControls()
    qtbot.addWidget(controls)
    controls.resize(1000, 40)
    controls.show()
    qtbot.waitExposed(controls)
    controls.set_devices([], None)
    qtbot.wait(10)
    assert controls.status.isVisible()
    assert controls.status.text() == "No microphone found"
    assert _overlaps(controls) == []

    mic = InputDevice(3, "USB microphone", "PulseAudio", 1, 48000.0, True)
    controls.set_devices([mic], 3)
    qtbot.wait(10)
    assert not controls.status.isVisible()
    assert controls.selected_device() == 3
    assert _overlaps(controls) == []
