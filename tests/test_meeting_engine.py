"""The one meeting engine with a scripted source at the device boundary and everything else
real: the real tiny.en model, the real consent gate, real sinks (the store among them)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.audio.capture import AudioChunk
from app.meeting.engine import MeetingEngine
from app.segments import Segment
from app.storage import StoredMeetingSink, open_store
from app.textmetrics import normalise
from app.transcription.live import PcmStore
from tests.support.data import read_wav, speech_path
from tests.support.scripted_source import (
    BLOCK,
    Lose,
    Overflow,
    ScriptedSource,
    chunks_of,
    scripted,
)
from tests.support.storage import granted_gate

pytestmark = pytest.mark.model

MEETING = ("microphone", "transcription")


class Sink:
    def __init__(self) -> None:
        self.partials: list[Segment] = []
        self.finals: list[Segment] = []
        self.finished: list[Segment] | None = None
        self.closed = False
        self.done = threading.Event()

    def on_partial(self, segment: Segment) -> None:
        self.partials.append(segment)

    def on_final(self, segment: Segment) -> None:
        self.finals.append(segment)

    def on_finished(self, segments) -> None:
        self.finished = list(segments)
        self.done.set()

    def on_closed(self) -> None:
        self.closed = True
        self.done.set()

    def text(self) -> str:
        return normalise(" ".join(s.text for s in self.finals))


class BrokenSink(Sink):
    def on_final(self, segment: Segment) -> None:
        raise OSError("this sink is broken")

    def on_finished(self, segments) -> None:
        raise OSError("this sink is broken")


class Events:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.lost = threading.Event()

    def on_caption(self, kind: str, segment: Segment) -> None:
        pass

    def on_state(self) -> None:
        pass

    def on_problem(self, kind: str, message: str) -> None:
        self.problems.append((kind, message))
        if kind == "device_lost":
            self.lost.set()


def jfk() -> np.ndarray:
    samples, rate = read_wav(speech_path("jfk.wav"))
    assert rate == 16000
    return samples


def meeting(gate, source: ScriptedSource, *sinks, events=None) -> MeetingEngine:
    engine = MeetingEngine(gate, events=events, open_source=scripted({"microphone": source}))
    for sink in sinks:
        engine.attach(sink)
    engine.start()
    engine.set_feature("live_captions", True).result()
    engine.set_feature("microphone", True).result()
    return engine


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_gap_in_the_audio_stays_a_gap_in_captions_and_final_pass(candor_home):
    """3 s of the device's timeline are lost mid-speech: nothing after it slides earlier."""
    audio = jfk()
    cut = 16000 * 5
    script = chunks_of(audio[:cut]) + chunks_of(audio[cut:], start=cut / 16000 + 3.0)
    # paced like a device (a little faster), so live captions keep up on a busy machine
    source = ScriptedSource(script, speed=1.25)
    gate = granted_gate(MEETING)
    sink = Sink()
    engine = meeting(gate, source, sink)
    wait_for(lambda: source.exhausted)
    transcript = engine.stop()
    assert sink.finished == transcript
    offset = engine.channels["microphone"].offset or 0.0
    spoken_end = offset + len(audio) / 16000 + 3.0
    # the last words ("... for your country") end with the audio, 3 s later than without the gap
    last = [s for s in transcript if "country" in s.text.lower()][-1]
    # On the meeting's clock, give or take Whisper's timestamps (its last segment may run to
    # the end of the audio kept, which goes on a little after the speech)
    assert spoken_end - 1.5 < last.end <= spoken_end + 1.0, (last, spoken_end)
    assert sink.finals
    assert spoken_end - 1.5 < sink.finals[-1].end <= spoken_end + 0.5
    assert all(s.source == "microphone" for s in transcript + sink.finals)
    gate.close()


def test_pcm_store_keeps_gaps_as_silence_and_costs_nothing_for_them():
    store = PcmStore()
    store.append(np.full(1600, 0.5, np.float32), 0.0)
    store.append(np.full(1600, 0.5, np.float32), 10.1)  # 10 s gap
    store.append(np.full(1600, 0.5, np.float32), 10.15)  # overlaps the end: cut
    assert len(store) == round(10.1 * 16000) + 1600 + 800
    assert not store[1600:161600].any()
    assert store[161600:161601][0] > 0


def test_a_failing_sink_does_not_stop_the_others(candor_home):
    gate = granted_gate(MEETING)
    good, broken = Sink(), BrokenSink()
    events = Events()
    source = ScriptedSource(chunks_of(jfk()), speed=1.25)
    engine = meeting(gate, source, broken, good, events=events)
    wait_for(lambda: source.exhausted)
    transcript = engine.stop()
    assert "not what your country can do for you" in good.text()
    assert good.finished == transcript
    assert transcript
    sink_problems = [m for k, m in events.problems if k == "sink"]
    assert len(sink_problems) == 1
    assert "BrokenSink" in sink_problems[0]
    gate.close()


def test_what_was_captured_before_stop_is_still_captioned(candor_home):
    """All of the speech is in the device's buffer when the meeting ends: none is dropped."""
    gate = granted_gate(MEETING)
    sink = Sink()
    opening = threading.Event()
    source = ScriptedSource(chunks_of(jfk()), speed=0.0, opening=opening)
    engine = MeetingEngine(gate, open_source=scripted({"microphone": source}))
    engine.attach(sink)
    engine.start()
    engine.set_feature("live_captions", True).result()
    began = time.monotonic()
    opened = engine.set_feature("microphone", True)
    assert time.monotonic() - began < 0.2, "opening a device never blocks the caller"
    assert not opened.done()
    opening.set()
    opened.result()
    transcript = engine.stop()
    said = normalise(" ".join(s.text for s in transcript))
    assert "ask what you can do for your country" in said
    assert engine.channels["microphone"].chunks == len(chunks_of(jfk()))
    gate.close()


def test_the_final_transcript_is_not_handed_over_after_a_withdrawal(candor_home):
    gate = granted_gate((*MEETING, "transcript_storage"))
    sink = Sink()
    source = ScriptedSource(chunks_of(jfk()), speed=3.0)
    with open_store() as store:
        stored = StoredMeetingSink(store, gate, source="listen", model="tiny.en")
        engine = meeting(gate, source, sink, stored)
        wait_for(lambda: source.exhausted)

        def progress(fraction: float) -> None:
            if fraction >= 1.0 and gate.allowed("transcription"):
                gate.withdraw("transcription", via="test")  # the pass is made, not handed over

        transcript = engine.stop(on_progress=progress)
        assert sink.finished is None
        assert sink.closed
        assert not engine.final_pass_made
        assert transcript == sink.finals, "the window keeps only what was shown live"
        outcome = stored.outcome
        assert outcome.ended_recorded
        assert not outcome.final_pass_stored
        assert outcome.stored == len(sink.finals) > 0, "the live captions stay stored"
    gate.close()


def test_audio_the_device_could_not_hand_over_is_counted_and_still_a_gap(candor_home):
    """An overflow loses blocks: the engine counts them per source, also after the device is
    closed (what `candor listen` reports at the end), and the audio after them keeps its time."""
    audio = jfk()
    cut = 16000 * 5
    lost = 4  # blocks of 0.1 s
    script: list[AudioChunk | Lose | Overflow] = [
        *chunks_of(audio[:cut]), Overflow(lost),
        *chunks_of(audio[cut:], start=cut / 16000 + lost * BLOCK / 16000)]
    source = ScriptedSource(script, speed=1.25)
    gate = granted_gate(MEETING)
    engine = meeting(gate, source)
    assert engine.lost_blocks() == {"microphone": 0, "system": 0}
    wait_for(lambda: source.exhausted)
    assert engine.lost_blocks()["microphone"] == lost
    transcript = engine.stop()
    assert engine.lost_blocks() == {"microphone": lost, "system": 0}, "kept after the close"
    offset = engine.channels["microphone"].offset or 0.0
    spoken_end = offset + len(audio) / 16000 + lost * BLOCK / 16000
    last = [s for s in transcript if "country" in s.text.lower()][-1]
    # On the meeting's clock, give or take Whisper's timestamps (its last segment may run to
    # the end of the audio kept, which goes on a little after the speech)
    assert spoken_end - 1.5 < last.end <= spoken_end + 1.0, (last, spoken_end)
    gate.close()


def test_a_lost_device_pauses_its_source_and_continues_on_the_same_timeline(candor_home):
    audio = jfk()
    cut = 16000 * 6
    script: list[AudioChunk | Lose] = [*chunks_of(audio[:cut]), Lose(),
                                       *chunks_of(audio[cut:], start=cut / 16000)]
    gate = granted_gate(MEETING)
    events = Events()
    sink = Sink()
    source = ScriptedSource(script, speed=3.0)
    engine = meeting(gate, source, sink, events=events)
    assert events.lost.wait(30)
    assert engine.state.device_lost
    assert engine.running
    engine.switch_device("microphone", 7).result()
    assert source.switched_to == [7]
    wait_for(lambda: source.exhausted and not engine.state.device_lost)
    transcript = engine.stop()
    assert [k for k, _ in events.problems].count("device_lost") == 1, "told once per loss"
    assert "what you can do for your country" in normalise(" ".join(s.text for s in transcript))
    gate.close()


def test_keeping_the_transcript_mid_meeting_keeps_the_meeting_so_far(candor_home):
    gate = granted_gate((*MEETING, "transcript_storage"))
    first = Sink()
    # paced like a device: fed at 3x real time, a loaded machine skipped audio for live captions
    # and a second caption never came
    source = ScriptedSource(chunks_of(jfk()), speed=1.25)
    engine = meeting(gate, source, first)
    wait_for(lambda: len(first.finals) >= 1)
    late = Sink()
    engine.attach(late, replay=True)
    wait_for(lambda: source.exhausted)
    engine.stop()
    assert late.finals == first.finals, "the late sink got the captions before it too"
    gate.close()


def test_a_stored_meeting_names_the_model_that_made_its_final_transcript(candor_home, tmp_path):
    """Live captions by tiny.en, the final pass by the model chosen for saved transcripts: the
    stored meeting says which model made the text it keeps."""
    from app.cli import main
    from tests.support.model_server import copy_bundled_model

    folder = copy_bundled_model(tmp_path / "my-whisper")
    with (folder / "config.json").open("a") as handle:  # not the catalogue's tiny.en any more
        handle.write("\n")
    assert main(["models", "use", str(folder), "--for", "final"]) == 0
    gate = granted_gate((*MEETING, "transcript_storage"))
    store = open_store()
    source = ScriptedSource(chunks_of(jfk()), speed=3.0)
    engine = MeetingEngine(gate, open_source=scripted({"microphone": source}))
    stored = StoredMeetingSink(store, gate, source="window", model="tiny.en",
                               final_model=lambda: engine.final_model)
    engine.attach(stored)
    engine.start()
    engine.set_feature("live_captions", True).result()
    engine.set_feature("microphone", True).result()
    wait_for(lambda: source.exhausted)
    engine.stop()
    assert engine.live_model is not None
    assert engine.live_model.location.name == "tiny.en"
    assert stored.outcome.final_pass_stored
    meeting = store.get(stored.meeting_id)
    assert meeting.summary.model == "my-whisper"
    assert "what you can do for your country" in normalise(" ".join(s.text for s in
                                                                    meeting.segments))
    store.close()
    gate.close()


def test_a_stored_meeting_ends_when_capture_stops_not_when_the_final_pass_is_done(candor_home):
    """Issue 13, defect 6: the final pass (up to a minute here) is not part of the meeting."""
    from datetime import UTC, datetime

    gate = granted_gate((*MEETING, "transcript_storage"))
    sink = Sink()
    source = ScriptedSource(chunks_of(jfk()), speed=3.0)
    with open_store() as store:
        stored = StoredMeetingSink(store, gate, source="listen", model="tiny.en")
        engine = meeting(gate, source, sink, stored)
        wait_for(lambda: source.exhausted)
        progress_at: list[datetime] = []
        engine.stop(on_progress=lambda fraction: progress_at.append(datetime.now(UTC)))
        assert stored.outcome.final_pass_stored
        assert progress_at, "the final pass reported its progress"
        summary = store.summary(stored.meeting_id)
        assert summary.ended is not None
        assert summary.ended <= progress_at[0], "the end is before the final pass began"
    gate.close()



def test_an_abandoned_final_pass_stops_and_keeps_nothing(candor_home):
    """Everything erased while the final pass runs: the pass stops mid-way, no sink is handed
    anything more (the stored meeting keeps only the live captions it had, to be erased with
    the store), and nothing of the meeting stays in memory."""
    gate = granted_gate((*MEETING, "transcript_storage"))
    sink = Sink()
    source = ScriptedSource(chunks_of(jfk()), speed=3.0)
    with open_store() as store:
        stored = StoredMeetingSink(store, gate, source="listen", model="tiny.en")
        engine = meeting(gate, source, sink, stored)
        wait_for(lambda: source.exhausted)
        wait_for(lambda: len(sink.finals) > 0)
        progressed = threading.Event()

        def progress(fraction: float) -> None:
            if 0.0 < fraction < 1.0:
                progressed.set()

        ended = engine.end(on_progress=progress)
        assert progressed.wait(60), "the final pass never got under way"
        engine.abandon()
        assert ended.result(timeout=60) == []
        assert engine.abandoned
        assert sink.finished is None, "a sink was handed the final transcript"
        assert not sink.closed, "a detached sink was still called"
        assert not stored.outcome.final_pass_stored
        assert len(store.get(stored.meeting_id).segments) == len(sink.finals), \
            "the store holds the live captions only"
        assert engine.ended_transcript() == []
        assert not engine.has_unsaved_transcript
        assert not engine.final_pass_made
    gate.close()


class GapEvents(Events):
    def __init__(self) -> None:
        super().__init__()
        self.gaps: list[Segment] = []

    def on_caption(self, kind: str, segment: Segment) -> None:
        if kind == "gap":
            self.gaps.append(segment)


def test_a_stretch_live_captions_skip_is_reported_as_a_gap_and_kept_by_the_final_pass(
        candor_home):
    """Issue 13, defect 1: behind by more than max_lag, live captions skip audio; the skipped
    stretch reaches the events (the window shows it) and the final pass still covers it."""
    from app.meeting.engine import MeetingOptions
    from app.transcription.streaming import StreamingConfig

    gate = granted_gate(MEETING)
    events = GapEvents()
    sink = Sink()
    # Audio 12x faster than real time with at most 1 s of lag allowed: it must skip.
    source = ScriptedSource(chunks_of(jfk()), speed=12.0)
    engine = MeetingEngine(gate, events=events, open_source=scripted({"microphone": source}),
                           options=MeetingOptions(streaming=StreamingConfig(max_lag=1.0)))
    engine.attach(sink)
    engine.start()
    engine.set_feature("live_captions", True).result()
    engine.set_feature("microphone", True).result()
    wait_for(lambda: source.exhausted)
    # The captions worker meets the backlog at its next pass (later on a busy machine).
    wait_for(lambda: bool(events.gaps))
    transcript = engine.stop()
    for gap in events.gaps:
        assert gap.source == "microphone"
        assert 0.0 <= gap.start < gap.end <= 11.5
        assert gap.text == ""
    assert all(s.text for s in sink.finals), "a gap is not handed to the sinks as a caption"
    assert "country" in normalise(" ".join(s.text for s in transcript))
    gate.close()


@pytest.mark.parametrize("beside_next", [False, True])
def test_the_final_pass_reuses_the_live_model_unless_a_next_meeting_may_run_beside_it(
        candor_home, beside_next):
    """`candor listen` (nothing runs beside its final pass) keeps one model in memory: the live
    one makes the final pass. The window loads the final model afresh, after releasing the live
    one, so a next meeting's captions can come first (its threads run at a lowered priority)."""
    from app.meeting.engine import MeetingOptions
    from app.transcription.engine import WhisperEngine

    class Counted(WhisperEngine):
        def __init__(self) -> None:
            super().__init__("tiny.en")
            self.loads = 0

        def load(self):  # type: ignore[no-untyped-def]
            if not self.loaded:
                self.loads += 1
            return super().load()

    made: dict[str, Counted] = {}

    def factory(use):  # type: ignore[no-untyped-def]
        made[use] = Counted()
        return made[use]

    gate = granted_gate(MEETING)
    source = ScriptedSource(chunks_of(jfk()), speed=3.0)
    engine = MeetingEngine(gate, open_source=scripted({"microphone": source}),
                           model_factory=factory,
                           options=MeetingOptions(final_beside_next=beside_next))
    engine.start()
    engine.set_feature("live_captions", True).result()
    engine.set_feature("microphone", True).result()
    wait_for(lambda: source.exhausted)
    transcript = engine.stop()
    assert "for your country" in normalise(" ".join(s.text for s in transcript))
    assert made["live"].loads == 1
    assert made["final"].loads == (1 if beside_next else 0)
    assert not made["live"].loaded, "the live model is released at the end"
    gate.close()
