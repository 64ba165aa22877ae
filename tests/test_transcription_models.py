"""Speech models: the catalogue, finding a model on this device, verifying it before use (again
in every process: a changed file is caught even with its mtime put back), refusing folders that
are not Whisper models, and naming a damaged or missing file with what to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.transcription import models
from app.transcription.manifest import (
    NO_PUBLISHED_FIGURE,
    ManifestError,
    figure_text,
    load_manifest,
)
from app.transcription.models import ModelError, locate_model, verify_model
from tests.support.data import speech_path
from tests.support.model_server import copy_bundled_model

pytestmark = pytest.mark.model

CATALOGUE = ("tiny.en", "base.en", "small.en", "distil-small.en", "distil-large-v3",
             "large-v3-turbo")


def _flip_byte(path: Path, offset: int, *, keep_mtime: bool) -> None:
    before = path.stat()
    with path.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))
    if keep_mtime:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert path.stat().st_mtime_ns == before.st_mtime_ns
        assert path.stat().st_size == before.st_size


# ---- the catalogue ------------------------------------------------------------------------------


def test_the_catalogue_lists_six_pinned_models_and_invents_no_checksums():
    manifest = load_manifest()
    assert tuple(manifest.models) == CATALOGUE
    for spec in manifest.models.values():
        assert spec.repo, spec.name
        assert spec.revision, spec.name
        assert len(spec.revision) == 40, spec.name
        assert "model.bin" in spec.file_names, spec.name
        assert spec.size > 0, spec.name
        assert spec.memory_mb
        assert spec.speed_class
        assert spec.accuracy_class
        assert spec.license
        for figure in spec.accuracy:
            assert figure.source, spec.name
            assert figure.url.startswith("https://"), spec.name
        assert spec.accuracy or spec.accuracy_note, spec.name
        # only the bundled model, whose bytes Candor ships, carries checksums
        has_checksums = any(f.sha256 for f in spec.files)
        assert has_checksums == (spec.bundled_package is not None), spec.name
    assert manifest.get("large-v3-turbo").multilingual
    assert not manifest.get("distil-large-v3").multilingual


LEADERBOARD_CSV = ("https://github.com/huggingface/open_asr_leaderboard/blob/"
                   "090df1224774bb3c152b57ed3f99898e679222e5/scripts/data/en_shortform.csv")


LEADERBOARD_IDS = {"tiny.en": "openai/whisper-tiny.en", "base.en": "openai/whisper-base.en",
                   "small.en": "openai/whisper-small.en",
                   "distil-small.en": "distil-whisper/distil-small.en",
                   "distil-large-v3": "distil-whisper/distil-large-v3",
                   "large-v3-turbo": "openai/whisper-large-v3-turbo"}


def test_every_model_has_a_sourced_figure_on_the_one_common_benchmark():
    manifest = load_manifest()
    benchmark = manifest.accuracy_benchmark
    assert benchmark is not None
    assert (benchmark.metric, benchmark.dataset) == ("WER %", "AMI (meetings)")
    headlines = {}
    for spec in manifest.models.values():
        figure = spec.headline_accuracy
        assert figure is not None, f"{spec.name}: every catalogue model has a published figure"
        assert benchmark.matches(figure)
        assert figure.url == LEADERBOARD_CSV, spec.name
        # every figure is for this model's own weights, never a neighbour's (turbo's, not
        # large-v3's)
        for each in spec.accuracy:
            assert each.note == f"leaderboard model {LEADERBOARD_IDS[spec.name]}", spec.name
        headlines[spec.name] = figure.value
    # what the leaderboard shows: more parameters, fewer errors on meetings (within a family)
    assert headlines["tiny.en"] > headlines["base.en"] > headlines["small.en"]
    assert headlines["distil-small.en"] > headlines["distil-large-v3"]


def _write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(raw))
    return path


def test_a_model_without_a_figure_on_the_benchmark_says_so_or_is_refused(tmp_path):
    raw = json.loads(Path("models/manifest.json").read_text())
    raw["models"]["small.en"]["accuracy"] = "none"
    spec = load_manifest(_write(tmp_path, raw)).get("small.en")
    assert spec.headline_accuracy is None
    assert spec.accuracy == ()
    assert figure_text(spec.headline_accuracy) == NO_PUBLISHED_FIGURE == "no published figure"
    # figures only from elsewhere would not compare with the others' figures: refused
    raw["models"]["small.en"]["accuracy"] = [
        f for f in json.loads(Path("models/manifest.json").read_text())["models"]["small.en"]
        ["accuracy"] if f["dataset"] != "AMI (meetings)"]
    with pytest.raises(ManifestError, match=r"'small.en'.*AMI \(meetings\).*\"none\""):
        load_manifest(_write(tmp_path, raw))


def test_a_damaged_catalogue_is_refused_naming_the_model_and_field(tmp_path):
    raw = json.loads(Path("models/manifest.json").read_text())
    raw["models"]["small.en"]["revision"] = "main"
    damaged = tmp_path / "manifest.json"
    damaged.write_text(json.dumps(raw))
    with pytest.raises(ManifestError, match=r"'small.en'.*revision"):
        load_manifest(damaged)


# ---- locating and verifying ---------------------------------------------------------------------


def test_default_model_is_the_bundled_tiny_en_and_matches_the_catalogue():
    location = locate_model(None)
    assert location.name == "tiny.en"
    assert location.origin == "bundled"
    assert (location.path / "model.bin").stat().st_size == 75_537_502
    assert verify_model(location) is True
    assert models.verification_state(location) == "verified"


def test_each_file_is_hashed_once_per_process_and_again_when_it_changes(candor_home, monkeypatch):
    copy = copy_bundled_model(candor_home / "models" / "tiny.en")
    location = locate_model("tiny.en")
    assert location.origin == "downloaded"
    assert location.path == copy.resolve()
    hashed: list[str] = []
    real = models.sha256_file
    monkeypatch.setattr(models, "sha256_file", lambda p: hashed.append(p.name) or real(p))
    verify_model(location)
    assert sorted(hashed) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    hashed.clear()
    verify_model(location)
    assert hashed == [], "an unchanged file is not hashed twice in one process"
    (copy / "config.json").touch()
    verify_model(location)
    assert hashed == ["config.json"]


def test_a_changed_model_file_with_its_mtime_restored_is_refused(candor_home):
    """Issue 10 §10: the old check trusted size and mtime and accepted this file."""
    folder = copy_bundled_model(candor_home / "models" / "tiny.en")
    assert verify_model(locate_model("tiny.en"))
    _flip_byte(folder / "model.bin", 50_000_000, keep_mtime=True)
    # in this process: the ctime moved, so the file is hashed again
    with pytest.raises(ModelError, match="does not match its checksum"):
        verify_model(locate_model("tiny.en"))
    # and in a new process, which hashes every file on first use
    code = ("from app.transcription.models import locate_model, verify_model\n"
            "verify_model(locate_model('tiny.en'))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=os.environ)
    assert result.returncode != 0
    assert "does not match its checksum" in result.stderr
    assert str(folder / "model.bin") in result.stderr


def test_corrupted_model_file_names_the_file_and_what_to_do(candor_home):
    folder = copy_bundled_model(candor_home / "models" / "tiny.en")
    _flip_byte(folder / "model.bin", 40_000_000, keep_mtime=False)
    with pytest.raises(ModelError) as caught:
        verify_model(locate_model("tiny.en"))
    message = str(caught.value)
    assert str(folder / "model.bin") in message
    assert "checksum" in message
    assert "candor models download tiny.en" in message


def test_corrupted_model_stops_transcribe_with_the_clear_error(candor_home, gate, capsys):
    folder = copy_bundled_model(candor_home / "models" / "tiny.en")
    (folder / "model.bin").write_bytes(b"\0" * 75_537_502)
    gate.grant("transcription", via="test")
    code = main(["transcribe", str(speech_path("jfk.wav"))])
    err = capsys.readouterr().err
    assert code == 1
    assert str(folder / "model.bin") in err
    assert "candor models delete tiny.en" in err


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


def test_a_folder_the_catalogue_does_not_know_is_usable_but_unverifiable(tmp_path):
    folder = copy_bundled_model(tmp_path / "my-model")
    with (folder / "config.json").open("a") as handle:
        handle.write(" ")  # no longer the catalogue's file: Candor cannot vouch for it
    location = locate_model(str(folder))
    assert location.spec is None
    assert verify_model(location) is False
    assert models.verification_state(location) == "unverifiable"


def _not_whisper(tmp_path: Path, kind: str) -> Path:
    folder = copy_bundled_model(tmp_path / kind)
    if kind == "pytorch":
        (folder / "model.bin").rename(folder / "model.safetensors")
    elif kind == "translation":
        data = bytearray((folder / "model.bin").read_bytes()[:4096])
        name = b"TransformerSpec\0"
        data[4:6] = len(name).to_bytes(2, "little")
        (folder / "model.bin").write_bytes(bytes(data[:6]) + name + bytes(data[6 + 12:]))
    elif kind == "garbage":
        (folder / "model.bin").write_bytes(os.urandom(4096))
    return folder


@pytest.mark.parametrize(("kind", "says"), [
    ("pytorch", "PyTorch/Transformers model"),
    ("translation", "CTranslate2 TransformerSpec model, not a Whisper speech model"),
    ("garbage", "is not a CTranslate2 model file"),
])
def test_a_folder_that_is_not_a_whisper_model_is_refused(tmp_path, gate, capsys, kind, says):
    folder = _not_whisper(tmp_path, kind)
    gate.grant("transcription", via="test")
    code = main(["transcribe", str(speech_path("jfk.wav")), "--model", str(folder)])
    err = capsys.readouterr().err
    assert code == 2
    assert says in err
    assert main(["models", "use", str(folder)]) == 2
    assert says in capsys.readouterr().err


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


def test_models_list_shows_the_catalogue_and_what_the_bundled_default_is_used_for(capsys):
    assert main(["models", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert tuple(rows) == CATALOGUE
    tiny = rows["tiny.en"]
    assert tiny["default"] is True
    assert tiny["installed"] == "bundled"
    assert tiny["used_for"] == ["final", "live"]
    assert tiny["download_bytes"] == load_manifest().get("tiny.en").size
    assert rows["small.en"]["installed"] is None
    assert rows["large-v3-turbo"]["language"] == "multilingual"
    assert rows["distil-large-v3"]["accuracy"][0]["url"] == LEADERBOARD_CSV
    assert rows["distil-large-v3"]["headline_accuracy"]["dataset"] == "AMI (meetings)"


def test_the_text_listing_shows_each_models_published_figure_and_its_source(candor_home, capsys):
    copy_bundled_model(candor_home / "models" / "my-folder")  # a folder the catalogue lacks
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    lines = {line[2:].split()[0]: line for line in out.splitlines()[1:] if line[2:].strip()}
    for spec in load_manifest().models.values():
        figure = spec.headline_accuracy
        assert figure is not None
        assert f" {figure.value:g} % " in lines[spec.name], (spec.name, lines[spec.name])
    assert f" {NO_PUBLISHED_FIGURE} " in lines["my-folder"], "said, not left blank or borrowed"
    assert "AMI (meetings)" in out
    assert LEADERBOARD_CSV in out, "the column names where its figures come from"
