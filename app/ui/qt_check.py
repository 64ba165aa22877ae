"""Refuse a Qt binding that would crash Candor mid-meeting.

PySide6 6.12.0 (as published, with CPython 3.11) returns `None` from every void method and
`True` from `SignalInstance.emit()` without taking a reference to it, so each call drops one
reference to the interpreter's `None` or `True`; when a count reaches zero CPython aborts
("Fatal Python error: none_dealloc / bool_dealloc"). Measured here: the window died about 40 s
into any meeting (the level meter alone makes ~70 such calls a second) and at exit after live
captions. 6.11.3 is clean. The lock file pins a clean version; this check catches an
environment that installed another, before the user's meeting is at stake.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

_CALLS = 64


def _dropped(value: object, call: Callable[[], object]) -> bool:
    before = sys.getrefcount(value)
    for _ in range(_CALLS):
        call()
    lost = before - sys.getrefcount(value)
    # The probe must not itself bring the crash nearer: give back what it cost.
    for _ in range(max(0, lost)):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(value))
    # Nearly one per call; other threads may move a count a little, never by this much.
    return lost >= _CALLS - 4


def binding_problem() -> str | None:
    """What is wrong with the installed Qt binding, or None when it is sound."""
    import PySide6
    from PySide6.QtCore import QObject, Signal

    class Probe(QObject):
        fired = Signal()

    probe = Probe()
    lost = []
    if _dropped(None, lambda: probe.setObjectName("probe")):
        lost.append("None")
    if _dropped(True, probe.fired.emit):
        lost.append("True")
    if not lost:
        return None
    return (
        f"PySide6 {PySide6.__version__} has a reference-counting bug (it drops references to "
        f"{' and '.join(lost)}) that makes Python abort within a minute of a meeting. Install "
        "the version Candor is locked to: run ./bootstrap app from the Candor folder, or "
        "pip install 'PySide6-Essentials!=6.12.0'."
    )
