"""Downloading a model with the hub's own client from a hub-like server on 127.0.0.1: only with
`model_download` (used up by the download), with progress, resuming after a cut connection and
after an interrupted run, refusing (and deleting) bytes that do not match what the hub declared,
recording revision and checksums and checking them again on every later use; and no request at
all from any other command."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from app.cli import main
from app.consent import ConsentRequired, open_gate
from app.transcription.download import (
    ChecksumMismatch,
    DownloadCancelled,
    download_model,
    staging_dir,
)
from app.transcription.manifest import load_manifest
from app.transcription.model_record import RECORD_NAME, read_record
from app.transcription.models import ModelError, locate_model, verify_model
from tests.support.data import speech_path
from tests.support.model_server import HubServer, copy_bundled_model

pytestmark = pytest.mark.model

MODEL_BIN = 75_537_502
SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _gets(server: HubServer, name: str) -> int:
    return sum(1 for method, path, _ in server.requests
               if method == "GET" and path.rsplit("/", 1)[-1] in (name, server._lfs_key(name)))


def test_download_needs_model_download_and_asks_the_hub_nothing_without_it(candor_home, hub,
                                                                           capsys):
    code = main(["models", "download", "base.en"])
    assert code == 3
    assert "model_download" in capsys.readouterr().err
    assert hub.requests == []
    assert not (candor_home / "models" / "base.en").exists()


def test_download_lists_shows_progress_verifies_records_and_uses_up_the_consent(
        candor_home, hub, gate, capsys):
    gate.grant("model_download", via="test")
    # A network slower than loopback: the transfer lasts over a second wherever it runs, so
    # progress has something to show (on loopback a fast machine finished in three updates).
    hub.bytes_per_second = 50_000_000
    code = main(["models", "download", "base.en"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "installed and verified" in out
    percents = [int(line.split(": ")[1].split("%")[0]) for line in err.splitlines()
                if line.startswith("downloading base.en: ")]
    assert percents[-1] == 100
    assert len(percents) >= 5, "progress was shown as it went"
    assert ("GET", "/api/models/Systran/faster-whisper-base.en/revision/"
            + load_manifest().get("base.en").revision, None) in hub.requests

    folder = candor_home / "models" / "base.en"
    record = read_record(folder)
    repo = hub.repos["Systran/faster-whisper-base.en"]
    assert record.revision == repo.commit
    assert {f.name: f.sha256 for f in record.files} == repo.sha256
    assert {f.name: f.declared_kind for f in record.files}["model.bin"] == "sha256"
    assert {f.name: f.declared for f in record.files}["config.json"] == repo.blob_id["config.json"]
    assert not staging_dir("base.en").exists()
    location = locate_model("base.en")
    assert location.origin == "downloaded"
    assert verify_model(location)
    gate.refresh()
    assert not gate.allowed("model_download"), "a download consent is used up by the download"


def test_a_cut_connection_is_resumed_by_the_hub_client_within_the_download(candor_home, hub,
                                                                           gate, capsys):
    gate.grant("model_download", via="test")
    hub.cut_once["model.bin"] = 30_000_000  # the connection drops after 30 MB, once
    assert main(["models", "download", "tiny.en"]) == 0, capsys.readouterr().err
    resumed = hub.range_requests("model.bin")
    assert len(resumed) == 1
    assert int(resumed[0][6:].rstrip("-")) > 20_000_000
    assert hub.bytes_sent < 2 * MODEL_BIN, "resumed, not started again"
    assert verify_model(locate_model("tiny.en"))


def test_an_interrupted_download_resumes_where_it_stopped(candor_home, hub, gate, capsys):
    gate.grant("model_download", via="test")
    hub.cut_once["model.bin"] = 30_000_000
    hub.down_after_cut = True  # ...and the server stays down: this run gives up
    code = main(["models", "download", "tiny.en"])
    err = capsys.readouterr().err
    assert code == 1
    assert "resumes where it stopped" in err
    assert not (candor_home / "models" / "tiny.en").exists(), "no half model is installed"
    part = staging_dir("tiny.en") / "model.bin.part"
    kept = part.stat().st_size
    assert kept > 20_000_000
    gate.refresh()
    assert gate.allowed("model_download"), "a failed download does not use up the consent"

    hub.heal()
    sent_before = hub.bytes_sent
    assert main(["models", "download", "tiny.en"]) == 0, capsys.readouterr().err
    assert f"bytes={kept}-" in hub.range_requests("model.bin")
    assert hub.bytes_sent - sent_before < MODEL_BIN - kept + 5_000_000, "only the rest was sent"
    assert _gets(hub, "config.json") == 1, "files completed in the first run are kept"
    assert verify_model(locate_model("tiny.en"))


def test_wrong_bytes_are_refused_deleted_and_named(candor_home, hub, gate, capsys):
    gate.grant("model_download", via="test")
    hub.corrupt = {"model.bin", "vocabulary.txt"}  # one byte changed; the true checksums declared
    code = main(["models", "download", "base.en"])
    err = capsys.readouterr().err
    assert code == 1
    assert "model.bin (the hub declared sha256" in err
    assert "vocabulary.txt (the hub declared git-sha1" in err
    assert "deleted" in err
    staging = staging_dir("base.en")
    assert not (staging / "model.bin").exists()
    assert not (staging / "vocabulary.txt").exists()
    assert (staging / "config.json").exists(), "the good files are kept"
    assert not (candor_home / "models" / "base.en").exists()

    hub.corrupt = set()
    assert main(["models", "download", "base.en"]) == 0, capsys.readouterr().err
    assert _gets(hub, "config.json") == 1
    assert _gets(hub, "model.bin") == 2
    assert verify_model(locate_model("base.en"))


def test_the_record_is_checked_on_every_later_use(candor_home, hub, gate, capsys):
    gate.grant("model_download", via="test")
    assert main(["models", "download", "base.en"]) == 0
    folder = candor_home / "models" / "base.en"
    model_bin = folder / "model.bin"
    stat = model_bin.stat()
    with model_bin.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01")
    os.utime(model_bin, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    gate.grant("transcription", via="test")
    capsys.readouterr()
    code = main(["transcribe", str(speech_path("jfk.wav")), "--model", "base.en"])
    err = capsys.readouterr().err
    assert code == 1
    assert "from its download record" in err
    assert str(model_bin) in err
    assert "candor models download base.en" in err

    # rewriting the record to match the changed file is detected: it is signed
    raw = json.loads((folder / RECORD_NAME).read_text())
    from app.transcription.models import sha256_file

    for entry in raw["files"]:
        if entry["name"] == "model.bin":
            entry["sha256"] = sha256_file(model_bin)
    (folder / RECORD_NAME).write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="was changed after the download"):
        verify_model(locate_model("base.en"))


def test_cancel_stops_the_transfer_and_the_next_run_resumes(candor_home, hub, gate):
    gate.grant("model_download", via="test")
    hub.bytes_per_second = 40_000_000  # slower than loopback, so there is a middle to stop in
    cancel = threading.Event()
    seen: list[int] = []

    def progress(p):
        seen.append(p.done)
        if p.phase == "downloading" and p.done > 15_000_000:
            cancel.set()

    spec = load_manifest().get("tiny.en")
    with pytest.raises(DownloadCancelled, match="resume"):
        download_model(spec, gate=gate, on_progress=progress, cancel=cancel)
    kept = (staging_dir("tiny.en") / "model.bin.part").stat().st_size
    assert 0 < kept < MODEL_BIN
    assert hub.bytes_sent < spec.size, "the transfer stopped"
    hub.bytes_per_second = None
    result = download_model(spec, gate=gate)
    assert f"bytes={kept}-" in hub.range_requests("model.bin")
    assert result.transferred < spec.size
    assert seen == sorted(seen), "progress only goes forward"


def test_withdrawing_the_consent_from_elsewhere_stops_the_download(candor_home, hub, gate):
    gate.grant("model_download", via="test")
    hub.bytes_per_second = 40_000_000
    elsewhere = open_gate()  # another Candor: the command line while the window downloads
    withdrawn = threading.Event()

    def progress(p):
        if p.done > 10_000_000 and not withdrawn.is_set():
            withdrawn.set()
            elsewhere.withdraw("model_download", via="test")

    try:
        with pytest.raises(ConsentRequired, match="model_download"):
            download_model(load_manifest().get("tiny.en"), gate=gate, on_progress=progress)
    finally:
        elsewhere.close()
    assert hub.bytes_sent < MODEL_BIN
    assert not (candor_home / "models" / "tiny.en").exists()


def test_an_unknown_revision_a_plain_http_address_and_no_network_are_said_clearly(candor_home, hub,
                                                                          gate, capsys):
    gate.grant("model_download", via="test")
    hub.repos["Systran/faster-whisper-base.en"].commit = "f" * 40
    assert main(["models", "download", "base.en"]) == 1
    err = capsys.readouterr().err
    assert "not on the hub" in err
    assert "base.en" in err
    assert main(["models", "download", "tiny.en", "--endpoint", "http://example.org"]) == 1
    assert "only https addresses" in capsys.readouterr().err
    assert main(["models", "download", "tiny.en", "--endpoint", "http://127.0.0.1:9"]) == 1
    assert "check the network" in capsys.readouterr().err


def test_no_other_command_asks_the_hub_anything(candor_home, hub, gate, capsys):
    gate.grant("transcription", via="test")
    copy_bundled_model(candor_home / "models" / "my-folder")
    for argv in (["models", "list"], ["models", "use", "tiny.en"],
                 ["models", "bench", "--runs", "1"], ["models", "delete", "my-folder"]):
        assert main(argv) == 0, (argv, capsys.readouterr().err)
    assert hub.requests == []


def test_deleting_a_download_resets_the_choices_that_named_it(candor_home, hub, gate, capsys):
    gate.grant("model_download", via="test")
    assert main(["models", "download", "base.en"]) == 0
    assert main(["models", "use", "base.en", "--for", "final"]) == 0
    capsys.readouterr()
    assert main(["models", "delete", "base.en"]) == 0
    out = capsys.readouterr().out
    assert "saved transcripts now use tiny.en (default)" in out
    assert not Path(candor_home / "models" / "base.en").exists()
    assert main(["models", "delete", "tiny.en"]) == 2
    assert "bundled" in capsys.readouterr().err


def test_a_downloaded_model_makes_the_final_pass_while_live_captions_use_another(
        candor_home, hub, gate, capsys):
    gate.grant("model_download", via="test")
    assert main(["models", "download", "base.en"]) == 0
    assert main(["models", "use", "base.en", "--for", "final"]) == 0
    capsys.readouterr()

    from app.textmetrics import wer
    from app.transcription.engine import WhisperEngine
    from app.transcription.files import load_audio_file
    from app.transcription.model_choice import model_for
    from tests.support.data import reference_text

    live, final = WhisperEngine(model_for("live")), WhisperEngine(model_for("final"))
    assert live.location.origin == "bundled"
    assert final.location.path == candor_home / "models" / "base.en"
    audio = load_audio_file(speech_path("jfk.wav"))
    words = live.transcribe_window(audio[: 16000 * 4], offset=0.0).words  # a live pass...
    assert "fellow" in " ".join(w.text for w in words).lower()
    text = " ".join(s.text for s in final.transcribe_audio(audio))  # ...and the final pass
    assert wer(reference_text("jfk.wav"), text) < 0.1
    assert live.loaded, "both models are in memory together, as in a meeting"
    assert final.loaded
    live.release()
    final.release()

    gate.grant("transcription", via="test")
    assert main(["transcribe", str(speech_path("jfk.wav")), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "base.en"


def test_downloading_an_intact_model_again_asks_the_hub_nothing(candor_home, hub, gate, capsys):
    gate.grant("model_download", via="test")
    assert main(["models", "download", "base.en"]) == 0
    gate.grant("model_download", via="test")
    requests = len(hub.requests)
    capsys.readouterr()
    assert main(["models", "download", "base.en"]) == 0
    assert "already installed and verified" in capsys.readouterr().out
    assert len(hub.requests) == requests
    gate.refresh()
    assert gate.allowed("model_download"), "the consent was not used"


def _turbo_like(folder: Path) -> Path:
    """The files of a large-v3-turbo repository (vocabulary.json, preprocessor_config.json),
    made from the bundled tiny.en: no other model can be fetched here."""
    copy_bundled_model(folder)
    words = (folder / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
    (folder / "vocabulary.json").write_text(json.dumps(words), encoding="utf-8")
    (folder / "vocabulary.txt").unlink()
    (folder / "preprocessor_config.json").write_text(json.dumps(
        {"feature_size": 80, "sampling_rate": 16000, "hop_length": 160, "chunk_length": 30,
         "n_fft": 400}))
    return folder


def test_a_repository_the_hub_moved_is_followed_and_its_files_verified(candor_home, gate,
                                                                       tmp_path):
    from tests.support.model_server import HubRepo

    spec = load_manifest().get("large-v3-turbo")
    assert spec.repo == "mobiuslabsgmbh/faster-whisper-large-v3-turbo", "the catalogue's old name"
    moved = HubRepo("dropbox-dash/faster-whisper-large-v3-turbo", _turbo_like(tmp_path / "served"),
                    commit=spec.revision)
    with HubServer([moved], redirects={spec.repo: moved.repo_id}) as hub:
        gate.grant("model_download", via="test")
        hub.corrupt = {"model.bin"}  # one byte changed on the way, behind the redirect
        with pytest.raises(ChecksumMismatch, match=r"model\.bin"):
            download_model(spec, gate=gate, endpoint=hub.endpoint)
        hub.corrupt = set()
        gate.grant("model_download", via="test")
        result = download_model(spec, gate=gate, endpoint=hub.endpoint)
    # the client asked for the old name and followed the hub's 307 to the new one, for the
    # listing and for every file
    paths = [path for _, path, _ in hub.requests]
    assert f"/api/models/{spec.repo}/revision/{spec.revision}" in paths
    assert f"/api/models/{moved.repo_id}/revision/{spec.revision}" in paths
    for name in spec.file_names:
        assert f"/{spec.repo}/resolve/{spec.revision}/{name}" in paths, name
        assert f"/{moved.repo_id}/resolve/{spec.revision}/{name}" in paths, name
    # only the refused file was fetched again
    assert _gets(hub, "config.json") == 1
    assert _gets(hub, "model.bin") == 2
    record = read_record(result.path)
    assert record.revision == spec.revision
    assert {f.name: f.sha256 for f in record.files} == moved.sha256
    assert verify_model(locate_model("large-v3-turbo"))
