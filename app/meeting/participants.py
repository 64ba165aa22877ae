"""The other participants' consent (issue 11 §3). They are data subjects too, and Candor's user
is the one who can tell them.

Promise: system audio is captioned in a meeting only after the user confirmed, for that
meeting, that the participants were told; the confirmation is a ledger note
(`participants_informed` under `system_audio`: no names, no content). "Someone objected" is a
ledger note too (`participant_objected`); the engine then stops captioning the others at once
and deletes what was captioned from them in this meeting.
"""

from __future__ import annotations

import threading

from app.consent import ConsentGate
from app.consent.purposes import SYSTEM_AUDIO

# Ready to paste into the call's chat before the others are captioned.
ANNOUNCEMENT = (
    "I'm using Candor to caption this call on my computer; nothing leaves my device; "
    "tell me if you'd rather I stop."
)


class ParticipantsNotInformed(RuntimeError):
    """The user has not confirmed, for this meeting, that the other participants were told."""

    def __init__(self) -> None:
        super().__init__(
            "The other participants have not been told that you caption them. Tell them (for "
            f'example: "{ANNOUNCEMENT}") and confirm it: in the window with "They were told", '
            "or with `candor listen --system-audio --participants-informed`."
        )


class Participants:
    """This meeting's record of what the other participants were told and whether one
    objected."""

    def __init__(self, gate: ConsentGate) -> None:
        self.gate = gate
        self._lock = threading.Lock()
        self.informed_record: str | None = None  # the ledger note's record id
        self.objected_record: str | None = None
        self.objected = False

    @property
    def informed(self) -> bool:
        return self.informed_record is not None and not self.objected

    def confirm_informed(self, via: str) -> str:
        """Record that the participants were told (raises ConsentRequired without
        `system_audio`); returns the ledger record id."""
        with self._lock:
            if self.informed_record is None:
                record = self.gate.record_note(SYSTEM_AUDIO, "participants_informed", via)
                self.informed_record = record.record_id
            return self.informed_record

    def require_informed(self) -> None:
        if not self.informed:
            raise ParticipantsNotInformed()

    def record_objection(self, via: str) -> str | None:
        """Record that someone objected. The note needs `system_audio` still given; after a
        withdrawal the withdrawal itself is the record and None is returned."""
        with self._lock:
            self.objected = True
            if self.objected_record is None and self.gate.allowed(SYSTEM_AUDIO):
                self.objected_record = self.gate.record_note(
                    SYSTEM_AUDIO, "participant_objected", via).record_id
            return self.objected_record
