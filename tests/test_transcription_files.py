"""Transcribing a recording with the real model: `candor transcribe` and the plain API the
window uses (progress, cancellation, consent withdrawal)."""

from __future__ import annotations

import itertools
import json
import threading

import numpy as np
import pytest

from app.cli import main
from app.consent import ConsentRequired
from app.segments import Segment
from app.textmetrics import normalise, wer
from app.transcription.engine import TranscriptionCancelled
from app.transcription.files import AudioFileError, transcribe_file
from tests.support.data import read_wav, reference_text, write_wav

pytestmark = pytest.mark.model


@pytest.fixture
def allowed(gate):
    gate.grant("transcription", via="test")
    return gate


def test_jfk_gives_ask_not_what_your_country_can_do_for_you(allowed, shared_data, capsys):
    code = main(["transcribe", str(shared_data / "speech" / "jfk.wav")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "ask not what your country can do for you" in normalise(out)
    assert wer(reference_text("jfk.wav"), out) < 0.1
    percents = [int(line.rsplit(" ", 1)[1].rstrip("%")) for line in err.splitlines()
                if line.startswith("transcribing jfk.wav:")]
    assert percents[-1] == 100
    assert percents == sorted(percents)


@pytest.mark.parametrize("fmt", ["srt", "vtt", "json"])
def test_subtitle_and_json_formats_keep_the_timing(allowed, shared_data, capsys, fmt):
    code = main(["transcribe", str(shared_data / "speech" / "jfk.wav"), "--format", fmt])
    out = capsys.readouterr().out
    assert code == 0
    if fmt == "json":
        body = json.loads(out)
        assert body["model"] == "tiny.en"
        segments = body["segments"]
        assert segments[0]["start"] < 1.0 < segments[-1]["end"] <= 11.1
        assert "ask not" in normalise(" ".join(s["text"] for s in segments))
    else:
        assert "00:00:00" in out
        assert "-->" in out
        assert out.startswith("WEBVTT") == (fmt == "vtt")


def test_any_common_format_is_read(allowed, shared_data, tmp_path):
    """A stereo 44.1 kHz FLAC (not what the model wants) is converted on the way in."""
    import av

    samples, rate = read_wav(shared_data / "speech" / "jfk.wav")
    rate_out = 44100
    samples = np.interp(np.arange(int(len(samples) * rate_out / rate)) * rate / rate_out,
                        np.arange(len(samples)), samples)
    rate = rate_out
    target = tmp_path / "jfk.flac"
    with av.open(str(target), "w") as container:
        stream = container.add_stream("flac", rate=rate, layout="stereo")
        # packed stereo: left and right samples interleaved
        pcm = (np.stack([samples, samples], axis=1) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    segments = transcribe_file(target, gate=allowed)
    assert "ask not what your country" in normalise(" ".join(s.text for s in segments))


def test_without_transcription_consent_exit_3_and_nothing_is_transcribed(gate, shared_data,
                                                                          capsys):
    code = main(["transcribe", str(shared_data / "speech" / "jfk.wav")])
    out, err = capsys.readouterr()
    assert code == 3
    assert "transcription" in err
    assert "candor consent grant transcription" in err
    assert out == ""


def test_denoise_also_needs_noise_suppression(allowed, shared_data, capsys):
    code = main(["transcribe", str(shared_data / "speech" / "jfk.wav"), "--denoise"])
    assert code == 3
    assert "noise_suppression" in capsys.readouterr().err


def test_denoise_runs_the_audio_through_the_noise_suppressor(allowed, shared_data, tmp_path,
                                                              capsys):
    allowed.grant("noise_suppression", via="test")
    speech, _ = read_wav(shared_data / "speech" / "jfk.wav")
    fan, _ = read_wav(shared_data / "noise" / "noise_humfan.wav")
    fan = fan[: len(speech)] * np.sqrt(np.mean(speech**2) / np.mean(fan[: len(speech)] ** 2))
    noisy = write_wav(tmp_path / "jfk_fan.wav", speech + 0.3 * fan)  # about 10 dB SNR
    code = main(["transcribe", str(noisy), "--denoise"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "ask not what your country" in normalise(out)


def test_text_file_passed_as_audio_is_bad_input(allowed, tmp_path, capsys):
    notes = tmp_path / "notes.wav"
    notes.write_text("Minutes of the meeting: nothing was decided.\n" * 20)
    code = main(["transcribe", str(notes)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(notes) in err
    assert "not an audio file" in err


@pytest.mark.parametrize("case", ["empty", "missing", "folder", "no-samples"])
def test_unreadable_inputs_are_bad_input_with_a_reason(allowed, tmp_path, capsys, case):
    target = tmp_path / "x.wav"
    if case == "empty":
        target.write_bytes(b"")
    elif case == "folder":
        target.mkdir()
    elif case == "no-samples":
        write_wav(target, np.zeros(0, dtype=np.float32))
    code = main(["transcribe", str(target)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(target) in err
    reason = {"empty": "empty", "missing": "does not exist", "folder": "folder",
              "no-samples": "holds no audio"}[case]
    assert reason in err


def test_silence_and_room_noise_give_no_text(allowed, tmp_path):
    rng = np.random.default_rng(7)
    quiet = write_wav(tmp_path / "quiet.wav", rng.normal(0, 0.002, 16000 * 8))
    assert transcribe_file(quiet, gate=allowed) == []


def test_progress_runs_to_the_end_and_cancel_stops(allowed, shared_data):
    path = shared_data / "speech" / "real_concat.wav"
    seen: list[float] = []
    segments = transcribe_file(path, gate=allowed, on_progress=seen.append)
    assert seen[0] == 0.0
    assert seen[-1] == 1.0
    assert seen == sorted(seen)
    assert all(isinstance(s, Segment) for s in segments)
    assert segments == sorted(segments, key=lambda s: s.start)

    cancel = threading.Event()

    def stop_early(fraction: float) -> None:
        if fraction > 0:
            cancel.set()

    with pytest.raises(TranscriptionCancelled):
        transcribe_file(path, gate=allowed, on_progress=stop_early, cancel=cancel)


def test_withdrawal_during_a_file_yields_nothing(allowed, shared_data):
    def withdraw_midway(fraction: float) -> None:
        if 0 < fraction < 1 and allowed.allowed("transcription"):
            allowed.withdraw("transcription", via="test")

    with pytest.raises(ConsentRequired):
        transcribe_file(shared_data / "speech" / "real_concat.wav", gate=allowed,
                        on_progress=withdraw_midway)


def test_load_audio_error_type_is_value_error(tmp_path):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"ID3" + b"\0" * 100)
    from app.transcription.files import load_audio_file

    with pytest.raises(AudioFileError):
        load_audio_file(bad)


def test_long_recordings_are_cut_at_a_pause_and_stay_accurate(shared_data):
    """Long meetings are transcribed in pieces (memory); a cut must not land in a word."""
    from app.transcription.engine import WhisperEngine, piece_bounds

    audio, _ = read_wav(shared_data / "speech" / "real_concat.wav")
    cuts = piece_bounds(audio, 12.0)
    assert cuts[0] == 0
    assert cuts[-1] == len(audio)
    assert all(0 < b - a <= 12 * 16000 for a, b in itertools.pairwise(cuts))
    for cut in cuts[1:-1]:  # each cut is in a quiet stretch, not in speech
        around = audio[cut - 800 : cut + 800]
        assert np.sqrt(np.mean(around**2)) < 0.1 * np.sqrt(np.mean(audio**2))
    engine = WhisperEngine("tiny.en")
    whole = " ".join(s.text for s in engine.transcribe_audio(audio))
    engine.piece_seconds = 12.0
    pieces = engine.transcribe_audio((audio * 32767).astype(np.int16))
    reference = reference_text("real_concat.wav")
    assert wer(reference, " ".join(s.text for s in pieces)) <= wer(reference, whole) + 0.03
    assert pieces[-1].end > 45.0, "times count from the start of the recording"
