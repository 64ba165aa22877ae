"""Which model does what: live captions and saved transcripts, chosen with `candor models use`,
asked through one function (`model_for`); a model that does not fit in memory is refused; a
chosen model that went missing is an error that says what was chosen and how to change it."""

from __future__ import annotations

import json

import pytest

from app.cli import main
from app.settings import Settings
from app.textmetrics import wer
from app.transcription import memory
from app.transcription.files import transcribe_file
from app.transcription.model_choice import chosen, model_for
from app.transcription.models import ModelError, load_whisper
from tests.support.data import reference_text, speech_path
from tests.support.model_server import copy_bundled_model

pytestmark = pytest.mark.model


def custom_model(tmp_path):
    """A Whisper model folder the catalogue does not know (tiny.en with its config changed)."""
    folder = copy_bundled_model(tmp_path / "my-whisper")
    with (folder / "config.json").open("a") as handle:
        handle.write("\n")
    return folder


def test_by_default_both_uses_are_the_bundled_tiny_en():
    for use in ("live", "final"):
        location = model_for(use)
        assert location.name == "tiny.en"
        assert location.origin == "bundled"
        assert chosen(use).chosen is False


def test_use_for_final_changes_saved_transcripts_only_and_both_without_for(tmp_path, capsys):
    folder = custom_model(tmp_path)
    assert main(["models", "use", str(folder), "--for", "final"]) == 0
    out = capsys.readouterr().out
    assert f"saved transcripts: {folder}" in out
    assert "live captions: tiny.en (default)" in out
    assert model_for("final").path == folder
    assert model_for("live").name == "tiny.en"
    assert Settings().get("models.final") == str(folder)

    assert main(["models", "use", "tiny.en"]) == 0
    assert model_for("final").name == "tiny.en"
    assert chosen("final").chosen is True


def test_saved_transcripts_follow_the_live_model_until_chosen_apart(tmp_path):
    folder = custom_model(tmp_path)
    assert main(["models", "use", str(folder), "--for", "live"]) == 0
    assert model_for("final").path == folder
    assert chosen("final").chosen is False


def test_a_chosen_model_that_went_missing_is_named_with_what_to_do(tmp_path, gate, capsys):
    folder = custom_model(tmp_path)
    assert main(["models", "use", str(folder), "--for", "final"]) == 0
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    with pytest.raises(ModelError, match=r"chosen for saved transcripts .*--for final"):
        model_for("final")
    assert model_for("live").name == "tiny.en", "the other use is untouched"
    gate.grant("transcription", via="test")
    # file transcription (the window's path too) asks for the final-pass model
    with pytest.raises(ModelError, match="chosen for saved transcripts"):
        transcribe_file(speech_path("jfk.wav"), gate=gate)
    capsys.readouterr()
    assert main(["transcribe", str(speech_path("jfk.wav"))]) == 1
    assert "candor models use NAME --for final" in capsys.readouterr().err


def test_transcribe_uses_the_final_pass_model(tmp_path, gate, capsys):
    folder = custom_model(tmp_path)
    assert main(["models", "use", str(folder), "--for", "final"]) == 0
    gate.grant("transcription", via="test")
    capsys.readouterr()
    assert main(["transcribe", str(speech_path("jfk.wav")), "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "my-whisper"
    text = " ".join(s["text"] for s in result["segments"])
    assert wer(reference_text("jfk.wav"), text) < 0.1


def test_a_model_that_does_not_fit_in_memory_is_refused(monkeypatch, capsys):
    monkeypatch.setattr(memory, "available_memory", lambda: 100 * memory.MB)
    assert main(["models", "use", "tiny.en", "--for", "final"]) == 1
    err = capsys.readouterr().err
    assert "needs about 270 MB of memory and only 100 MB is available" in err
    assert chosen("final").chosen is False, "nothing was recorded"
    assert main(["models", "bench", "tiny.en"]) == 1
    assert "only 100 MB is available" in capsys.readouterr().err
    live = model_for("live")
    with pytest.raises(ModelError, match="only 100 MB"):
        load_whisper(live)
