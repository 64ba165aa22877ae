"""Speech models: found on this device, verified against the manifest before use, remembered,
and a damaged or missing file is named with what to do; `candor models` lists and downloads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.cli import main
from app.transcription import models
from app.transcription.manifest import load_manifest
from app.transcription.models import ModelError, locate_model, verify_model
from tests.support.model_server import ModelServer, copy_bundled_model

pytestmark = pytest.mark.model


def test_default_model_is_the_bundled_tiny_en_and_matches_the_manifest():
    location = locate_model(None)
    assert location.name == "tiny.en"
    assert location.origin == "bundled"
    assert (location.path / "model.bin").stat().st_size == 75_537_502
    assert verify_model(location) is True
    assert models.verification_state(location) == "verified"


def test_verification_is_remembered_and_redone_when_a_file_changes(candor_home, monkeypatch):
    location = locate_model("tiny.en")
    verify_model(location)
    hashed: list[str] = []
    real = models.sha256_file
    monkeypatch.setattr(models, "sha256_file", lambda p: hashed.append(p.name) or real(p))
    verify_model(location)
    assert hashed == [], "a verified, unchanged model must not be hashed again at start-up"

    copy = copy_bundled_model(candor_home / "models" / "tiny.en")
    moved = locate_model("tiny.en")
    assert moved.path == copy.resolve() or moved.path == copy
    verify_model(moved)
    assert sorted(hashed) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    hashed.clear()
    stat = (copy / "config.json").stat()
    os.utime(copy / "config.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    verify_model(moved)
    assert hashed == ["config.json"]


def test_corrupted_model_file_names_the_file_and_what_to_do(candor_home):
    folder = copy_bundled_model(candor_home / "models" / "tiny.en")
    with (folder / "model.bin").open("r+b") as handle:
        handle.seek(40_000_000)
        byte = handle.read(1)
        handle.seek(40_000_000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelError) as caught:
        verify_model(locate_model("tiny.en"))
    message = str(caught.value)
    assert str(folder / "model.bin") in message
    assert "checksum" in message
    assert "candor models download tiny.en" in message


def test_corrupted_model_stops_transcribe_with_the_clear_error(candor_home, gate, shared_data,
                                                               capsys):
    folder = copy_bundled_model(candor_home / "models" / "tiny.en")
    (folder / "model.bin").write_bytes(b"\0" * 75_537_502)
    gate.grant("transcription", via="test")
    code = main(["transcribe", str(shared_data / "speech" / "jfk.wav")])
    err = capsys.readouterr().err
    assert code == 1
    assert str(folder / "model.bin") in err
    assert "does not match its checksum" in err


def test_missing_model_file_is_named(candor_home):
    folder = copy_bundled_model(candor_home / "models" / "tiny.en")
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelError) as caught:
        verify_model(locate_model("tiny.en"))
    assert str(folder / "tokenizer.json") in str(caught.value)
    assert "missing" in str(caught.value)


def test_unknown_model_name_and_missing_folder_are_clear(tmp_path):
    with pytest.raises(ModelError, match=r"unknown model 'large-v9'.*tiny\.en"):
        locate_model("large-v9")
    with pytest.raises(ModelError, match="does not exist"):
        locate_model(str(tmp_path / "nowhere"))


def test_a_folder_the_manifest_does_not_know_is_usable_but_unverifiable(tmp_path):
    folder = copy_bundled_model(tmp_path / "my-model")
    with (folder / "config.json").open("a") as handle:
        handle.write(" ")  # no longer the manifest's file: Candor cannot vouch for it
    location = locate_model(str(folder))
    assert location.spec is None
    assert verify_model(location) is False


def test_loading_sets_the_offline_switches_before_the_hub_library_reads_them():
    # a fresh process whose environment does not have them (the test suite's does)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    code = (
        "from app.transcription.engine import WhisperEngine\n"
        "engine = WhisperEngine(None); engine.load()\n"
        "import huggingface_hub.constants as hub\n"
        "print(hub.HF_HUB_OFFLINE, engine.loaded)\n"
        "engine.release(); print(engine.loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "False"]


def test_models_list_shows_the_bundled_default(capsys):
    assert main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    tiny = next(r for r in rows if r["name"] == "tiny.en")
    assert tiny["default"] is True
    assert tiny["installed"] == "bundled"
    assert tiny["size"] == load_manifest().get("tiny.en").size


# ---- download ---------------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path):
    with ModelServer(copy_bundled_model(tmp_path / "served")) as server:
        yield server


def test_download_needs_model_download_consent(candor_home, served, capsys):
    code = main(["models", "download", "tiny.en", "--url-base", served.url])
    assert code == 3
    assert "model_download" in capsys.readouterr().err
    assert served.requests == []
    assert not (candor_home / "models" / "tiny.en").exists()


def test_download_resumes_verifies_installs_and_uses_up_the_consent(candor_home, served, gate,
                                                                    capsys):
    gate.grant("model_download", via="test")
    served.cut_once["model.bin"] = 30_000_000  # the connection drops after 30 MB
    code = main(["models", "download", "tiny.en", "--url-base", served.url])
    err = capsys.readouterr().err
    assert code == 1
    assert "run it again to resume" in err
    assert "%" in err, "progress is shown"
    assert not (candor_home / "models" / "tiny.en").exists(), "no half model is installed"

    code = main(["models", "download", "tiny.en", "--url-base", served.url])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "installed and verified" in out
    assert ("/models/tiny.en/model.bin", "bytes=30000000-") in served.requests
    assert served.bytes_sent < 2 * 75_537_502 - 30_000_000 + 1, "resumed, not restarted"
    installed = candor_home / "models" / "tiny.en"
    location = locate_model("tiny.en")
    assert location.origin == "downloaded"
    assert location.path == installed
    assert verify_model(location)
    gate.refresh()
    assert not gate.allowed("model_download"), "a download consent is used up by the download"


def test_download_with_wrong_bytes_is_rejected_and_deleted(candor_home, served, gate, capsys):
    with (served.folder / "vocabulary.txt").open("r+b") as handle:
        handle.write(b"X")
    gate.grant("model_download", via="test")
    code = main(["models", "download", "tiny.en", "--url-base", served.url])
    err = capsys.readouterr().err
    assert code == 1
    assert "vocabulary.txt" in err
    assert "does not match the manifest" in err
    assert not (candor_home / "models" / "tiny.en").exists()
    assert not list((candor_home / "models").glob(".tiny.en.partial/vocabulary.txt*"))
