"""AudioCapture through the real PulseAudio virtual microphone: what a user would notice."""

from __future__ import annotations

import itertools
import os
import signal
import time

import numpy as np
import pytest

from app.audio.capture import SILENCE_DBFS, AudioCapture, AudioChunk, _BlockRing
from app.audio.errors import DeviceBusyError, DeviceLostError, UnsupportedRateError
from app.consent import ConsentRequired, open_gate
from tests.support.data import read_wav
from tests.support.signals import max_normalised_correlation

pytestmark = pytest.mark.audio

FIRST_BLOCK_TIMEOUT = 10.0


def gate_with(*purposes: str):
    """The real consent gate of this test's data directory, with `purposes` given."""
    gate = open_gate()
    for purpose in purposes:
        gate.grant(purpose, via="test")
    return gate


def collect(capture: AudioCapture, seconds: float) -> list[AudioChunk]:
    chunks = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        chunk = capture.read(timeout=left)
        if chunk is not None:
            chunks.append(chunk)
    return chunks


def samples_of(chunks: list[AudioChunk]) -> np.ndarray:
    return np.concatenate([c.samples for c in chunks]) if chunks else np.zeros(0, np.float32)


def started_capture(gate, **kwargs) -> tuple[AudioCapture, AudioChunk]:
    capture = AudioCapture(gate, **kwargs)
    capture.start()
    first = capture.read(timeout=FIRST_BLOCK_TIMEOUT)
    assert first is not None, "no audio from the virtual microphone"
    return capture, first


def read_until_lost(
    capture: AudioCapture, timeout: float
) -> tuple[list[AudioChunk], DeviceLostError | None]:
    """Read until the device-lost error; None as the error if a read waited `timeout` in vain."""
    chunks = []
    try:
        while (chunk := capture.read(timeout=timeout)) is not None:
            chunks.append(chunk)
    except DeviceLostError as err:
        return chunks, err
    return chunks, None


def source_outputs(virtual_mic) -> list[str]:
    """Recording streams the sound server has open (what a system mixer would show)."""
    listing = virtual_mic.pactl("list", "source-outputs", "short").stdout
    return [line for line in listing.splitlines() if line]


def test_played_clip_is_captured_intact_at_16k(virtual_mic, shared_data):
    wav = shared_data / "speech" / "jfk.wav"
    reference, _ = read_wav(wav)
    capture, first = started_capture(gate_with("microphone"))
    try:
        virtual_mic.play_and_wait(wav)
        chunks = [first, *collect(capture, 0.5)]
    finally:
        capture.stop()
    assert all(c.rate == 16000 and c.samples.dtype == np.float32 for c in chunks)
    captured = samples_of(chunks)
    assert max_normalised_correlation(reference, captured) > 0.9
    # Chunks tile the capture timeline without gaps or overlaps.
    for before, after in itertools.pairwise(chunks):
        assert after.start == pytest.approx(before.end, abs=1e-6)
    assert capture.overflows == 0


def test_level_rises_while_speech_plays(virtual_mic, shared_data):
    capture, _ = started_capture(gate_with("microphone"))
    try:
        quiet = []
        for _ in range(20):
            collect(capture, 0.05)
            quiet.append(capture.level)
        player = virtual_mic.play(shared_data / "speech" / "jfk.wav")
        loud = []
        while player.poll() is None:
            collect(capture, 0.05)
            loud.append(capture.level)
    finally:
        capture.stop()
    quiet_rms = np.median([rms for rms, _ in quiet])
    loud_rms = np.percentile([rms for rms, _ in loud], 75)
    assert loud_rms > quiet_rms + 30
    assert max(peak for _, peak in loud) > max(rms for rms, _ in loud)
    assert capture.level == (SILENCE_DBFS, SILENCE_DBFS)  # stopped: the meter falls to silence


def test_muted_audio_never_reaches_read_and_keeps_its_place_on_the_timeline(
    virtual_mic, shared_data
):
    capture, _ = started_capture(gate_with("microphone"))
    try:
        virtual_mic.play(shared_data / "speech" / "harvard9_concat.wav")
        before = collect(capture, 1.0)
        capture.muted = True
        muted_from = capture.position  # everything after this was captured muted
        during = collect(capture, 1.5)
        level_while_muted = capture.level
        muted_until = capture.position
        capture.muted = False
        after = collect(capture, 1.0)
    finally:
        capture.stop()
    assert before
    assert all(c.end <= muted_from + 1e-6 for c in during), "a muted frame was delivered"
    assert level_while_muted == (SILENCE_DBFS, SILENCE_DBFS)
    assert after, "audio did not resume after unmuting"
    assert after[0].start >= muted_until - 0.1, "the muted stretch was removed from the timeline"
    assert float(np.sqrt(np.mean(samples_of(after) ** 2))) > 1e-3  # speech again


def test_unloading_the_device_raises_device_lost_and_keeps_the_audio(virtual_mic, shared_data):
    wav = shared_data / "speech" / "jfk.wav"
    reference, rate = read_wav(wav)
    capture, first = started_capture(gate_with("microphone"))
    try:
        virtual_mic.play(wav)
        chunks = [first, *collect(capture, 3.0)]
        virtual_mic.unload_sink()
        rest, lost = read_until_lost(capture, timeout=1.5)
        assert lost is not None, "no device-lost error within 1.5 s of unloading"
        chunks += rest
        # The error stays until the user picks another device.
        with pytest.raises(DeviceLostError):
            capture.read(timeout=0.1)
    finally:
        capture.stop()
    assert "default" in str(lost)
    assert "Pick another microphone" in str(lost)
    captured = samples_of(chunks)
    heard = reference[: int(2.0 * rate)]  # the first two seconds of the clip were surely captured
    assert max_normalised_correlation(heard, captured) > 0.9


def test_a_removed_microphone_is_lost_although_the_server_moves_the_stream_to_the_speakers(
    virtual_mic, shared_data
):
    """A USB headset unplugged: PulseAudio moves the recording to another source (here the
    monitor of the speakers, which play the call) instead of ending it. Candor must report the
    loss and stop recording, not go on capturing the others as the user's microphone."""
    capture, _ = started_capture(gate_with("microphone"))
    try:
        virtual_mic.play(shared_data / "speech" / "jfk.wav")
        collect(capture, 1.5)
        unplugged_at = capture.position
        virtual_mic.unload_sink()
        virtual_mic.play_system(shared_data / "speech" / "harvard9_concat.wav")
        rest, lost = read_until_lost(capture, timeout=1.5)
        assert lost is not None, "no device-lost error within 1.5 s of unplugging"
        assert "was disconnected" in str(lost)
        assert "switched the recording to" in str(lost), "the user is not told where it went"
        assert "Pick another microphone" in str(lost)
        # What the device delivered up to the unplugging is kept; nothing later was handed out.
        assert all(c.end <= unplugged_at + 0.25 for c in rest), "audio after the loss arrived"
        deadline = time.monotonic() + 5
        while capture.stream_open or source_outputs(virtual_mic):
            assert time.monotonic() < deadline, "Candor went on recording from the speakers"
            time.sleep(0.02)
    finally:
        capture.stop()


def test_stalled_sound_server_is_caught_by_the_watchdog(virtual_mic):
    capture, _ = started_capture(gate_with("microphone"))
    try:
        collect(capture, 0.3)
        os.kill(virtual_mic.pid, signal.SIGSTOP)  # the server keeps the stream but sends nothing
        try:
            _, lost = read_until_lost(capture, timeout=1.5)
            assert lost is not None, "the watchdog did not fire within 1.5 s"
            assert "no audio for 1 s" in str(lost)
        finally:
            os.kill(virtual_mic.pid, signal.SIGCONT)
    finally:
        capture.stop()


def test_switching_device_after_a_loss_continues_the_timeline(virtual_mic, shared_data):
    from app.audio import devices

    capture, _ = started_capture(gate_with("microphone"))
    try:
        chunks = collect(capture, 0.5)
        virtual_mic.unload_sink()
        rest, lost = read_until_lost(capture, timeout=3)
        assert lost is not None
        chunks += rest
        # The user plugs in another microphone and picks it.
        virtual_mic.pactl("load-module", "module-null-sink", "sink_name=vsink2", "rate=48000")
        virtual_mic.pactl("set-default-source", "vsink2.monitor")
        virtual_mic.sink = "vsink2"  # the room now plays into the new device
        deadline = time.monotonic() + 5
        while True:
            try:
                devices.rescan()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        capture.switch_device(None)
        virtual_mic.play(shared_data / "speech" / "jfk.wav")
        later = collect(capture, 3.0)
    finally:
        capture.stop()
    assert later, "no audio after switching device"
    assert later[0].start >= chunks[-1].end - 1e-6
    assert float(np.sqrt(np.mean(samples_of(later) ** 2))) > 1e-3


def test_withdrawing_microphone_closes_the_stream_and_no_frame_arrives_after(
    virtual_mic, shared_data
):
    gate = gate_with("microphone")
    capture, _ = started_capture(gate)
    try:
        virtual_mic.play(shared_data / "speech" / "jfk.wav")
        read = collect(capture, 0.5)
        # Audio piles up unread in the buffer (the device delivers past what was read): it
        # must be dropped, not delivered.
        last_read = read[-1].end if read else 0.0
        deadline = time.monotonic() + 30
        while capture.position < last_read + 0.3:
            assert time.monotonic() < deadline, "the device delivered nothing more"
            time.sleep(0.01)
        assert source_outputs(virtual_mic)
        gate.withdraw("microphone", via="test")
        with pytest.raises(ConsentRequired):
            capture.read(timeout=1)
        deadline = time.monotonic() + 5
        while capture.stream_open or source_outputs(virtual_mic):
            assert time.monotonic() < deadline, "the stream stayed open after the withdrawal"
            time.sleep(0.02)
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            with pytest.raises(ConsentRequired):
                capture.read(timeout=0.05)
        assert not capture.running
    finally:
        capture.stop()


def test_capture_without_microphone_consent_opens_nothing(virtual_mic):
    capture = AudioCapture(gate_with())
    with pytest.raises(ConsentRequired, match="microphone"):
        capture.start()
    assert not capture.running
    assert source_outputs(virtual_mic) == []


def test_no_sound_server_means_a_clear_no_input_device_error(monkeypatch, tmp_path):
    """No virtual microphone here: PortAudio finds no input at all, as on a machine without one."""
    from app.audio import devices
    from app.audio.errors import NoInputDeviceError

    conf = tmp_path / "client.conf"
    conf.write_text("autospawn = no\n")
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path / 'no-such-server'}")
    monkeypatch.setenv("PULSE_CLIENTCONFIG", str(conf))
    assert devices.rescan() == []
    capture = AudioCapture(gate_with("microphone"))
    with pytest.raises(NoInputDeviceError, match="No microphone was found"):
        capture.start()
    assert not capture.running


class _RejectingFactory:
    """PortAudio's open, with chosen failures first (busy devices cannot be made here)."""

    def __init__(self, errors: dict[int, Exception]) -> None:
        import sounddevice

        self.errors = errors
        self.tried: list[int] = []
        self.real = sounddevice.InputStream

    def __call__(self, **kwargs):
        self.tried.append(kwargs["samplerate"])
        error = self.errors.get(kwargs["samplerate"])
        if error is not None:
            raise error
        return self.real(**kwargs)


def test_unsupported_rates_are_skipped_until_one_works(virtual_mic, shared_data):
    import sounddevice as sd

    bad = sd.PortAudioError("Invalid sample rate", -9997)
    factory = _RejectingFactory({44100: bad, 48000: bad})
    capture, _ = started_capture(gate_with("microphone"), stream_factory=factory)
    try:
        virtual_mic.play_and_wait(shared_data / "speech" / "ldc93s1.wav")
        chunks = collect(capture, 0.5)
    finally:
        capture.stop()
    assert factory.tried[:3] == [44100, 48000, 16000]
    assert capture.device_rate == 16000
    reference, _ = read_wav(shared_data / "speech" / "ldc93s1.wav")
    assert max_normalised_correlation(reference, samples_of(chunks)) > 0.9


def test_open_errors_become_clear_messages(virtual_mic):
    import sounddevice as sd

    from app.audio.errors import NoInputDeviceError

    def every_rate(error: Exception) -> _RejectingFactory:
        rates = (44100, 48000, 16000, 32000, 22050, 96000, 8000)
        return _RejectingFactory(dict.fromkeys(rates, error))

    bad_rate = sd.PortAudioError("Invalid sample rate", -9997)
    with pytest.raises(UnsupportedRateError, match="Pick another microphone"):
        AudioCapture(gate_with("microphone"), stream_factory=every_rate(bad_rate)).start()

    busy = sd.PortAudioError("Device unavailable", -9985)
    with pytest.raises(DeviceBusyError, match="another program is using it"):
        AudioCapture(gate_with("microphone"), stream_factory=every_rate(busy)).start()

    gone = sd.PortAudioError("Error querying device -1")
    with pytest.raises(NoInputDeviceError, match="No microphone was found"):
        AudioCapture(gate_with("microphone"), stream_factory=every_rate(gone)).start()
    assert source_outputs(virtual_mic) == []


def test_rescan_is_refused_while_capturing(virtual_mic):
    from app.audio import devices
    from app.audio.errors import AudioError

    capture, _ = started_capture(gate_with("microphone"))
    try:
        with pytest.raises(AudioError, match="while the microphone is in use"):
            devices.rescan()
        assert capture.read(timeout=1) is not None  # the capture survived the attempt
    finally:
        capture.stop()
    assert any(d.is_default for d in devices.rescan())


def test_ring_counts_blocks_it_cannot_hold():
    ring = _BlockRing(capacity=3, blocksize=4)
    block = np.arange(4, dtype=np.float32).reshape(4, 1)
    assert [ring.push(block * i, 4 * i) for i in range(4)] == [True, True, True, False]
    samples, first = ring.pop()
    assert first == 0
    assert samples.tolist() == [0, 0, 0, 0]
    assert ring.push(block * 9, 36)
    assert [ring.pop()[1] for _ in range(3)] == [4, 8, 36]
    assert ring.pop() is None
