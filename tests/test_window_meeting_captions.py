"""The window's meeting (app.meeting.binding over the engine) with the real recogniser: live
captions from the virtual microphone reach the view's events and are stored while the meeting
runs (a caption is emitted under `transcription` and stored under `transcript_storage`: nested
guards)."""

from __future__ import annotations

import threading
import time

import pytest

from app.meeting.binding import WindowMeeting
from app.meeting.features import LIVE_CAPTIONS, SAVE_TRANSCRIPT, FeatureSwitches
from app.storage import open_store
from app.textmetrics import normalise
from tests.support.storage import granted_gate
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.audio, pytest.mark.model]


class Events:
    def __init__(self) -> None:
        self.captions: list[tuple[str, str]] = []
        self.problems: list[tuple[str, str]] = []
        self.final = threading.Event()

    def on_caption(self, kind, segment) -> None:
        self.captions.append((kind, segment.text))
        if kind == "final":
            self.final.set()

    def on_state(self) -> None:
        pass

    def on_problem(self, kind, message) -> None:
        self.problems.append((kind, message))


def test_live_captions_are_shown_and_stored_during_the_meeting(virtual_mic, shared_data):
    gate = granted_gate(("microphone", "transcription", "transcript_storage"))
    switches = FeatureSwitches(gate)
    switches.turn_on(LIVE_CAPTIONS)
    switches.turn_on(SAVE_TRANSCRIPT)
    events = Events()
    with open_store() as store:
        meeting = WindowMeeting(gate, switches, events, store=store)
        meeting.start()
        deadline = time.monotonic() + 30
        while meeting.state.captions != "on" and time.monotonic() < deadline:
            time.sleep(0.1)
        virtual_mic.play_and_wait(shared_data / "speech" / "jfk.wav")
        wait_until(lambda: "for your country" in normalise(
            " ".join(t for k, t in events.captions if k == "final")),
            what="the last words captioned")
        stored_live = meeting._sink.stored
        transcript = meeting.end().result()
        assert events.problems == []
        finals = normalise(" ".join(t for k, t in events.captions if k == "final"))
        assert "not what your country can do for you" in finals
        assert stored_live > 0, "captions are stored while the meeting runs"
        assert "ask what you can do for your country" in normalise(
            " ".join(s.text for s in transcript))
        saved = store.get(meeting.state.stored_meeting_id or store.list_meetings()[0].id)
        assert "ask not what your country" in normalise(" ".join(s.text for s in saved.segments))
    switches.close()
    gate.close()
