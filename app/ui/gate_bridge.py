"""Carries consent-gate events (which may come from any thread) to the GUI thread as signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.consent import ConsentGate


class GateBridge(QObject):
    changed = Signal()  # any recorded change: views re-read the gate
    withdrawn = Signal(str)  # a purpose stopped being allowed

    def __init__(self, gate: ConsentGate, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.gate = gate
        # Signals emitted from another thread reach slots in the GUI thread as queued calls.
        self._unsubscribe = (
            gate.on_change(self.changed.emit),
            gate.on_withdrawn(self.withdrawn.emit),
        )

    def detach(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
