"""The other participants as a second source, through two PulseAudio null sinks: the room
(its monitor is the default microphone) and the speakers (the default output; its monitor is
system audio). Real speech, the real model, the real gate and store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.meeting.engine import MeetingEngine
from app.meeting.participants import ParticipantsNotInformed
from app.segments import Segment, render
from app.storage import StoredMeetingSink, open_store
from app.textmetrics import normalise
from tests.support.storage import granted_gate

pytestmark = pytest.mark.audio

CANDOR = Path(sys.executable).parent / "candor"
EVERYTHING = ("microphone", "transcription", "system_audio")


def candor(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CANDOR), *args], capture_output=True, text=True, timeout=180,
                          env=env, stdin=subprocess.DEVNULL)


class Sink:
    def __init__(self) -> None:
        self.finals: list[Segment] = []

    def on_partial(self, segment: Segment) -> None:
        pass

    def on_final(self, segment: Segment) -> None:
        self.finals.append(segment)

    def on_finished(self, segments) -> None:
        pass

    def on_closed(self) -> None:
        pass

    def on_retracted(self, source) -> None:
        self.finals = [s for s in self.finals if s.source != source]

    def said(self, source: str) -> str:
        return normalise(" ".join(s.text for s in self.finals if s.source == source))


def test_the_others_are_not_captioned_before_the_user_confirms_they_were_told(candor_home):
    gate = granted_gate(EVERYTHING)
    engine = MeetingEngine(gate).start()
    with pytest.raises(ParticipantsNotInformed, match="--participants-informed"):
        engine.set_feature("system_audio", True).result()
    assert not engine.state.sources["system"].capturing, "nothing of theirs was captured"
    assert gate.notes("system_audio") == []
    engine.stop()
    gate.close()


@pytest.mark.model
def test_you_and_the_others_are_captioned_with_their_source_and_an_objection_deletes_theirs(
    virtual_mic, shared_data
):
    gate = granted_gate((*EVERYTHING, "transcript_storage"))
    sink = Sink()
    with open_store() as store:
        stored = StoredMeetingSink(store, gate, source="window", model="tiny.en")
        engine = MeetingEngine(gate)
        engine.attach(stored)
        engine.attach(sink)
        engine.start()
        engine.participants.confirm_informed(via="test")
        engine.set_feature("live_captions", True).result()
        engine.set_feature("microphone", True).result()
        engine.set_feature("system_audio", True).result()
        assert engine.state.others_captioned
        virtual_mic.play_and_wait(shared_data / "speech" / "ldc93s1.wav")  # you
        virtual_mic.play_system(shared_data / "speech" / "jfk.wav").wait(60)  # the others
        deadline = time.monotonic() + 30
        while "for your country" not in sink.said("system"):
            assert time.monotonic() < deadline, sink.finals
            time.sleep(0.1)
        assert "greasy wash" in sink.said("microphone")  # live captions: "wash water" or "wash for"
        assert "country" not in sink.said("microphone"), "the others' words are not 'You'"
        assert "greasy" not in sink.said("system")
        stored_by_source = {s.source for s in store.get(stored.meeting_id).segments}
        assert stored_by_source == {"microphone", "system"}

        theirs = sum(1 for s in sink.finals if s.source == "system")
        assert engine.someone_objected(via="test").result() == theirs
        assert not engine.state.others_captioned
        assert not engine.state.sources["system"].capturing
        kept = store.get(stored.meeting_id).segments
        assert kept
        assert {s.source for s in kept} == {"microphone"}, "exactly theirs deleted"
        # the live captions stored so far ("wash water" or "wash for")
        assert "greasy wash" in normalise(" ".join(s.text for s in kept))
        virtual_mic.play_system(shared_data / "speech" / "ldc93s1.wav").wait(30)
        transcript = engine.stop()
        assert transcript
        assert all(s.source == "microphone" for s in transcript), "no final pass of theirs"
        final = store.get(stored.meeting_id).segments
        assert {s.source for s in final} == {"microphone"}
    notes = [r.state for r in gate.notes("system_audio")]
    assert notes == ["participants_informed", "participant_objected"]
    gate.close()


def test_exports_say_who_spoke():
    segments = [Segment(0.0, 1.5, "Shall we start?", True, "microphone"),
                Segment(1.6, 3.0, "Yes, go ahead.", True, "system")]
    assert render(segments, "txt") == "You: Shall we start?\nOthers: Yes, go ahead.\n"
    assert "<v You>Shall we start?" in render(segments, "vtt")
    assert "<v Others>Yes, go ahead." in render(segments, "vtt")
    assert "Others: Yes, go ahead." in render(segments, "srt")
    assert "** You: Shall we start?" in render(segments, "md")
    assert [s["source"] for s in json.loads(render(segments, "json"))["segments"]] == [
        "microphone", "system"]
    assert render(segments, "txt", labels={"microphone": "Ana", "system": "Client"}) == (
        "Ana: Shall we start?\nClient: Yes, go ahead.\n")
    # a file's transcript has no source and reads as before
    assert render([Segment(0, 1, "Hello.")], "txt") == "Hello.\n"
    assert "source" not in json.loads(render([Segment(0, 1, "Hello.")], "json"))["segments"][0]


def _grant(env: dict[str, str], *purposes: str) -> None:
    for purpose in purposes:
        assert candor("consent", "grant", purpose, "--yes", env=env).returncode == 0


def test_listen_system_audio_needs_its_permission_and_the_participants_told(virtual_mic):
    env = virtual_mic.env()
    _grant(env, "microphone", "transcription")
    result = candor("listen", "--system-audio", "--seconds", "1", env=env)
    assert result.returncode == 3
    assert "'system_audio'" in result.stderr
    _grant(env, "system_audio")
    result = candor("listen", "--system-audio", "--seconds", "1", env=env)
    assert result.returncode == 3, result.stderr
    assert "--participants-informed" in result.stderr, "says how to confirm"
    assert result.stdout == ""
    history = candor("consent", "history", "--json", env=env).stdout
    assert "participants_informed" not in history, "nothing was confirmed"


@pytest.mark.model
def test_listen_captions_the_others_and_goes_on_when_system_audio_disappears(
    virtual_mic, shared_data
):
    env = {**virtual_mic.env(), "CANDOR_HOME": os.environ["CANDOR_HOME"]}
    _grant(env, *EVERYTHING)
    process = subprocess.Popen(
        [str(CANDOR), "listen", "--json", "--system-audio", "--participants-informed",
         "--seconds", "30"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    line = process.stderr.readline()
    while "listening" not in line:
        assert line, "listen ended before listening"
        line = process.stderr.readline()
    assert "the others" in line
    virtual_mic.play_system(shared_data / "speech" / "jfk.wav").wait(60)
    virtual_mic.unload_speakers()  # the output goes away mid-meeting
    virtual_mic.play_and_wait(shared_data / "speech" / "ldc93s1.wav")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    records = [json.loads(x) for x in out.splitlines()]
    finals = [r for r in records if r["type"] == "final"]
    theirs = normalise(" ".join(r["text"] for r in finals if r["source"] == "system"))
    yours = normalise(" ".join(r["text"] for r in finals if r["source"] == "microphone"))
    assert "what you can do for your country" in theirs
    assert "greasy wash" in yours, "the microphone went on"  # live: "water" or "for"
    assert "system audio stopped" in err
    transcript = records[-1]
    assert transcript["type"] == "transcript"
    sources = {s["source"] for s in transcript["segments"]}
    assert sources == {"microphone", "system"}
    history = candor("consent", "history", "--json", env=env).stdout
    assert "participants_informed" in history


@pytest.mark.model
def test_the_others_echo_in_the_microphone_is_not_captioned_as_you(
    virtual_mic, shared_data, tmp_path
):
    """No headphones: the speakers' sound reaches the microphone 6 dB quieter and ~80 ms late."""
    from tests.support.data import read_wav, write_wav

    samples, rate = read_wav(shared_data / "speech" / "jfk.wav")
    late = write_wav(tmp_path / "echo.wav",
                     np.concatenate([np.zeros(round(0.08 * rate), np.float32), samples]), rate)
    gate = granted_gate(EVERYTHING)
    sink = Sink()
    engine = MeetingEngine(gate)
    engine.attach(sink)
    engine.start()
    engine.participants.confirm_informed(via="test")
    engine.set_feature("live_captions", True).result()
    engine.set_feature("microphone", True).result()
    engine.set_feature("system_audio", True).result()
    others = virtual_mic.play_system(shared_data / "speech" / "jfk.wav")
    echo = virtual_mic.play(late, volume_db=-6.0)
    others.wait(60)
    echo.wait(60)
    deadline = time.monotonic() + 30
    while "for your country" not in sink.said("system"):
        assert time.monotonic() < deadline, sink.finals
        time.sleep(0.1)
    virtual_mic.play_and_wait(shared_data / "speech" / "ldc93s1.wav")  # then the user speaks
    transcript = engine.stop()
    yours = normalise(" ".join(s.text for s in transcript if s.source == "microphone"))
    live_yours = sink.said("microphone")
    for words in ("country", "fellow americans"):
        assert words not in live_yours, live_yours
        assert words not in yours, yours
    assert "greasy wash water" in yours, "the user's own voice still passes"
    assert engine.echo.suppressed > 0
    gate.close()


def test_a_pause_in_what_the_computer_plays_stays_a_pause_on_the_timeline(
    virtual_mic, shared_data
):
    """An output nothing plays to pauses its monitor: it delivers next to nothing, then real
    time again. Counted frame by frame, what came after the pause was placed that much too
    early: the others seconds ahead of their own echo in the microphone (found no more, so
    captioned as "You") and of the user's reply."""
    from app.audio.system_audio import SystemAudioCapture

    speech = shared_data / "speech" / "ldc93s1.wav"
    gate = granted_gate(("system_audio",))
    capture = SystemAudioCapture(gate)
    capture.start()
    chunks: list[tuple[float, np.ndarray]] = []

    def read_while(going) -> None:
        while going():
            chunk = capture.read(timeout=0.5)
            if chunk is not None:
                chunks.append((chunk.start, chunk.samples))

    try:
        for _turn in range(2):
            player = virtual_mic.play_system(speech)
            read_while(lambda p=player: p.poll() is None)
            quiet_from = time.monotonic()
            # the pause itself is what is tested: two seconds with nothing played
            read_while(lambda t=quiet_from: time.monotonic() < t + 2.0)
    finally:
        capture.stop()
        gate.close()
    end = max(start + len(samples) / 16000 for start, samples in chunks)
    timeline = np.zeros(int(end * 16000) + 1, np.float32)
    for start, samples in chunks:
        timeline[round(start * 16000):round(start * 16000) + len(samples)] = samples
    frames = timeline[: len(timeline) // 1600 * 1600].reshape(-1, 1600)
    loud = np.flatnonzero(np.sqrt(np.mean(frames * frames, axis=1)) > 0.01) / 10.0
    assert len(loud), "nothing played was captured"
    pauses = np.diff(loud)
    longest = float(pauses.max()) if len(pauses) else 0.0
    # ldc93s1 pauses under 0.5 s inside; between the turns two seconds went by
    assert longest >= 1.5, f"the two-second pause came out as {longest:.2f} s on the timeline"
