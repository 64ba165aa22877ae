"""Every file Candor creates is its user's alone (0600 files, 0700 folders), even when the shell's
umask is the usual 022; a data folder left readable by an older Candor is made private at start;
the ledger's signed head is replaced atomically and durably.

Real files, real modes, real commands in their own processes; the head's write is watched, and a
failure injected into it, with real strace."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.consent.gate import ledger_paths
from app.consent.ledger import Ledger
from tests.conftest import IN_CI

CANDOR = Path(sys.executable).parent / "candor"
REPO = Path(__file__).resolve().parents[1]


def loose_umask() -> None:
    os.umask(0o022)


def candor(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(CANDOR), *args], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy(), preexec_fn=loose_umask)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def modes(root: Path) -> dict[str, str]:
    """Every file and folder under root (root included) with its mode."""
    return {str(p.relative_to(root.parent)): f"{stat.S_IMODE(p.lstat().st_mode):04o}"
            for p in [root, *sorted(root.rglob("*"))]}


def not_private(root: Path) -> dict[str, str]:
    found = modes(root)
    return {p: m for p, m in found.items()
            if m != ("0700" if (root.parent / p).is_dir() else "0600")}


@pytest.fixture
def needs_strace() -> None:
    if shutil.which("strace"):
        return
    if IN_CI:
        pytest.fail("strace is missing in CI; the README's test command installs it")
    pytest.skip("strace is not installed (run ./bootstrap test once as root)")


@pytest.mark.model
def test_every_file_candor_creates_is_private_with_a_loose_umask(candor_home, tmp_path,
                                                                 shared_data):
    for purpose in ("transcription", "transcript_storage", "vocabulary_learning"):
        candor("consent", "grant", purpose, "--yes")
    kept = candor("transcribe", str(shared_data / "speech" / "jfk.wav"), "--keep",
                  "--format", "json")
    meeting_id = json.loads(kept.stdout)["meeting_id"]
    candor("data", "retention", "transcripts", "7d")
    candor("vocabulary", "add", "Candor")
    candor("consent", "verify")
    exports = tmp_path / "exports"
    exports.mkdir(mode=0o700)
    candor("data", "export", str(exports / "everything"))
    candor("consent", "receipt", "--out", str(exports / "receipt.json"))
    candor("meetings", "export", meeting_id, "--format", "srt", "--out",
           str(exports / "meeting.srt"))
    held = modes(candor_home)
    for name in ("consent-ledger.sqlite3", "consent-ledger.head", "logs/candor.log",
                 "retention.json", "candor.db"):
        assert f"candor-home/{name}" in held, f"{name} was not created: {sorted(held)}"
    assert not_private(candor_home) == {}
    assert (exports / "everything").is_dir()
    assert (exports / "meeting.srt").read_text().strip()
    assert not_private(exports) == {}


def test_an_existing_data_folder_readable_by_others_is_made_private_at_start(candor_home):
    candor("consent", "grant", "microphone", "--yes")
    for path in [candor_home, *candor_home.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert not_private(candor_home) != {}, "the set-up did not loosen anything"
    candor("consent", "list")
    assert not_private(candor_home) == {}
    assert "microphone" in candor("consent", "list").stdout, "the data still works"


def test_the_ledger_and_its_head_are_private_when_used_as_a_library(tmp_path):
    """Without the command line's umask (a script, a test): the files are 0600 by themselves."""
    old = os.umask(0o022)
    try:
        home = tmp_path / "home"
        ledger = Ledger(*ledger_paths(home))
        ledger.append(purpose="microphone", state="given", type="explicit",
                      collection_method="test")
        ledger.close()
    finally:
        os.umask(old)
    assert not_private(home) == {}


APPEND = (
    "import sys\n"
    "from pathlib import Path\n"
    "from app.consent.gate import ledger_paths\n"
    "from app.consent.ledger import Ledger\n"
    "ledger = Ledger(*ledger_paths(Path(sys.argv[1])))\n"
    "try:\n"
    "    ledger.append(purpose='microphone', state='given', type='explicit',"
    " collection_method='test')\n"
    "except OSError as err:\n"
    "    print('append failed:', err)\n"
)


def traced_append(home: Path, *strace_args: str) -> list[str]:
    trace = home.parent / "trace.txt"
    done = subprocess.run(
        ["strace", "-f", "-qq", "-y", "-o", str(trace), *strace_args,
         sys.executable, "-c", APPEND, str(home)],
        capture_output=True, text=True, timeout=60, cwd=REPO, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    return trace.read_text().splitlines()


def first_record(home: Path) -> None:
    ledger = Ledger(*ledger_paths(home))
    ledger.append(purpose="transcription", state="given", type="explicit",
                  collection_method="test")
    ledger.close()


def test_the_head_is_on_disk_before_it_replaces_the_old_one(tmp_path, needs_strace):
    """A power cut must leave the old head or the new one: the new head's data is fsynced
    before the rename, and the folder after it (else the rename itself can be lost)."""
    home = tmp_path / "home"
    first_record(home)
    head = home / "consent-ledger.head"
    lines = traced_append(home, "-e", "trace=openat,fsync,fdatasync,rename,renameat,renameat2")
    staged = next(i for i, line in enumerate(lines)
                  if "openat(" in line and "consent-ledger.head" in line and "O_CREAT" in line)
    renamed = next(i for i, line in enumerate(lines)
                   if "rename" in line and f'"{head}"' in line)
    staging_fd = lines[staged].split("= ")[-1].split("<")[0]
    synced = [i for i, line in enumerate(lines)
              if line.split(maxsplit=1)[-1].startswith(f"fsync({staging_fd}<")]
    assert any(staged < i < renamed for i in synced), "new head not on disk before the rename"
    folder_synced = [i for i, line in enumerate(lines)
                     if "fsync(" in line and f"<{home}>" in line]
    assert any(i > renamed for i in folder_synced), "the rename was not made durable"


def test_a_head_write_that_fails_leaves_the_old_head_and_nothing_else(tmp_path, needs_strace):
    home = tmp_path / "home"
    first_record(home)
    head = home / "consent-ledger.head"
    before = head.read_text()
    files_before = sorted(p.name for p in home.iterdir())
    # Every write to the head's staging file fails as on a full disk (real syscalls, the
    # error injected by the kernel tracer): only that file's writes, the ledger's are real.
    lines = traced_append(home, "-e", "trace=write", "-e", "inject=write:error=ENOSPC",
                          "-P", str(home / ".consent-ledger.head.saving"),
                          "-P", str(home / "consent-ledger.head.tmp"))
    assert any("INJECTED" in line for line in lines), "the fault never happened"
    assert head.read_text() == before
    assert sorted(p.name for p in home.iterdir()) == files_before, "a staging file was left"
    ledger = Ledger(*ledger_paths(home))
    result = ledger.verify()
    ledger.close()
    assert result.ok, result.describe()  # the record is in; a head one behind is accepted
    assert result.checked == 2
