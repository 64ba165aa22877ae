"""The meeting engine end to end in-process, as `candor listen` runs it: the real microphone
path (virtual mic), the real model, the real store as one of the sinks, and the consent gate
stopping each part."""

from __future__ import annotations

import threading
import time

import pytest

from app.consent import ConsentRequired
from app.meeting.engine import MeetingEngine, MeetingOptions
from app.segments import Segment
from app.storage import StoredMeetingSink, open_store
from app.textmetrics import normalise, wer
from tests.support.data import reference_text
from tests.support.storage import granted_gate
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.audio, pytest.mark.model]


class RecordingSink:
    def __init__(self) -> None:
        self.partials: list[Segment] = []
        self.finals: list[Segment] = []
        self.finished: list[Segment] | None = None
        self.first_final = threading.Event()

    def on_partial(self, segment: Segment) -> None:
        self.partials.append(segment)

    def on_final(self, segment: Segment) -> None:
        self.finals.append(segment)
        self.first_final.set()

    def on_finished(self, segments) -> None:
        self.finished = list(segments)

    def on_closed(self) -> None:
        self.finished = None


def listening(gate, *, sinks=(), denoise=False) -> MeetingEngine:
    """A meeting with its features switched on up front, as `candor listen` starts one."""
    engine = MeetingEngine(gate, options=MeetingOptions(hearing="denoised" if denoise else "raw"))
    for sink in sinks:
        engine.attach(sink)
    engine.start()
    engine.set_feature("live_captions", True).result()
    if denoise:
        engine.set_feature("noise_suppression", True).result()
    engine.set_feature("microphone", True).result()
    return engine


def test_a_meeting_reaches_every_sink_and_the_store(virtual_mic, shared_data):
    gate = granted_gate(("microphone", "transcription", "transcript_storage"))
    sink = RecordingSink()
    with open_store() as store:
        stored = StoredMeetingSink(store, gate, source="window", model="tiny.en")
        session = listening(gate, sinks=[sink, stored])
        virtual_mic.play_and_wait(shared_data / "speech" / "jfk.wav")
        wait_until(lambda: "for your country" in normalise(" ".join(s.text for s in sink.finals)),
                   what="the last words captioned")
        segments = session.stop()
        live = normalise(" ".join(s.text for s in sink.finals))
        # Live windows vary with the audio's timing ("asked not" happens): phrases plus WER.
        assert "not what your country can do for you" in live
        assert wer(reference_text("jfk.wav"), live) <= 0.15, live
        assert sink.partials, "partial captions were shown before they were final"
        assert all(not s.final for s in sink.partials)
        assert sink.finished == segments
        assert "ask what you can do for your country" in normalise(
            " ".join(s.text for s in segments))
        meeting = store.get(stored.meeting_id)
        saved = normalise(" ".join(s.text for s in meeting.segments))
        assert "ask not what your country can do for you" in saved
    assert session.live_model is not None
    assert not session.live_model.loaded, "the model is released when the meeting ends"
    gate.close()


def test_a_meeting_needs_microphone_and_transcription(candor_home):
    gate = granted_gate(("microphone",))
    session = MeetingEngine(gate).start()
    with pytest.raises(ConsentRequired) as caught:
        session.set_feature("live_captions", True).result()
    assert caught.value.purposes == ["transcription"]
    assert session.live_model is None, "no model is loaded without transcription"
    session.stop()
    gate.close()


def test_withdrawing_the_microphone_ends_capture_but_keeps_what_was_said(virtual_mic,
                                                                        shared_data):
    gate = granted_gate(("microphone", "transcription"))
    sink = RecordingSink()
    session = listening(gate, sinks=[sink])
    virtual_mic.play(shared_data / "speech" / "real_concat.wav")
    deadline = time.monotonic() + 60
    while "country" not in normalise(" ".join(s.text for s in sink.finals)):
        assert time.monotonic() < deadline, "no caption of the first sentence"
        time.sleep(0.1)
    gate.withdraw("microphone", via="test")
    deadline = time.monotonic() + 10
    while not session.source_stopped("microphone") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert session.source_stopped("microphone")
    assert session.ended_by("microphone") == "microphone"
    segments = session.stop()
    said = normalise(" ".join(s.text for s in segments))
    assert "ask not what your country" in said, "the final pass covers what was captured"
    assert "jump the fence" not in said, "nothing captured after the withdrawal"
    gate.close()


def test_a_denoised_meeting_is_captioned_on_the_same_timeline(virtual_mic, shared_data):
    gate = granted_gate(("microphone", "transcription", "noise_suppression"))
    sink = RecordingSink()
    session = listening(gate, sinks=[sink], denoise=True)
    virtual_mic.play_and_wait(shared_data / "speech" / "jfk.wav")
    wait_until(lambda: "for your country" in normalise(" ".join(s.text for s in sink.finals)),
               what="the last words captioned")
    segments = session.stop()
    # (denoised audio is recognised a little differently: "asked not" was seen)
    assert "what your country can do for you" in normalise(" ".join(s.text for s in sink.finals))
    assert "what you can do for your country" in normalise(" ".join(s.text for s in segments))
    # the denoiser's delay does not shift the captions: the speech ends about 11 s in
    assert 9.0 < sink.finals[-1].end < session.elapsed()
    gate.close()
