"""The meeting's feature switches (microphone, noise suppression, live captions, keeping the
transcript) and the consent each needs. Plain Python: the window shows it, the session obeys it.

Rules: a feature turns on only when every purpose it needs is given; noise suppression and live
captions work on the microphone's sound, so turning them on turns the microphone on and turning
the microphone off turns them off; a withdrawal turns off at once every feature that needs the
withdrawn purpose.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.consent import ConsentGate, ConsentRequired
from app.consent.purposes import FEATURE_NEEDS, Purpose

MICROPHONE = "microphone"
NOISE_SUPPRESSION = "noise_suppression"
LIVE_CAPTIONS = "live_captions"
SAVE_TRANSCRIPT = "save_transcript"
SYSTEM_AUDIO = "system_audio"  # hear the others: capture and caption what the computer plays

FEATURES: tuple[str, ...] = (MICROPHONE, NOISE_SUPPRESSION, LIVE_CAPTIONS, SYSTEM_AUDIO,
                             SAVE_TRANSCRIPT)

# What each switch needs comes from the one purpose table.
NEEDS: dict[str, tuple[Purpose, ...]] = {feature: FEATURE_NEEDS[feature] for feature in FEATURES}
# Features that process the microphone's sound and so need the microphone switched on.
ON_MICROPHONE = (NOISE_SUPPRESSION, LIVE_CAPTIONS)

LABELS: dict[str, str] = {
    MICROPHONE: "Microphone",
    NOISE_SUPPRESSION: "Noise suppression",
    LIVE_CAPTIONS: "Live captions",
    SYSTEM_AUDIO: "Hear the others",
    SAVE_TRANSCRIPT: "Keep transcript",
}

Listener = Callable[[str, bool], None]


class FeatureSwitches:
    def __init__(self, gate: ConsentGate) -> None:
        self.gate = gate
        self._on: set[str] = set()
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._unsubscribe = gate.on_withdrawn(self._purpose_withdrawn)

    def close(self) -> None:
        self._unsubscribe()

    def is_on(self, feature: str) -> bool:
        return feature in self._on

    def on(self) -> frozenset[str]:
        return frozenset(self._on)

    def missing(self, feature: str) -> list[str]:
        return self.gate.missing(NEEDS[feature])

    def on_change(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def turn_on(self, feature: str) -> None:
        """Raise ConsentRequired naming every missing purpose; otherwise switch on."""
        missing = self.missing(feature)
        if missing:
            raise ConsentRequired(missing)
        changed = []
        with self._lock:
            if feature in ON_MICROPHONE and MICROPHONE not in self._on:
                self._on.add(MICROPHONE)
                changed.append(MICROPHONE)
            if feature not in self._on:
                self._on.add(feature)
                changed.append(feature)
        for name in changed:
            self._tell(name, True)

    def turn_off(self, feature: str) -> None:
        changed = []
        with self._lock:
            dependants = ON_MICROPHONE if feature == MICROPHONE else ()
            for name in (*dependants, feature):
                if name in self._on:
                    self._on.discard(name)
                    changed.append(name)
        for name in changed:
            self._tell(name, False)

    def _purpose_withdrawn(self, purpose: str) -> None:
        for feature in FEATURES:
            if purpose in NEEDS[feature] and self.is_on(feature):
                self.turn_off(feature)

    def _tell(self, feature: str, on: bool) -> None:
        for listener in list(self._listeners):
            listener(feature, on)
