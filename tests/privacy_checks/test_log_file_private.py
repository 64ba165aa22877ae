"""The log file is private whatever the umask: a fresh profile used once from the command line
passes every privacy check (it used to fail files_private on the log file, created 0644)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

CANDOR = Path(sys.executable).parent / "candor"


def test_a_fresh_profile_used_under_umask_022_passes_every_check(candor_home):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(CANDOR), *args], capture_output=True, text=True, timeout=120,
                              env=os.environ.copy(), preexec_fn=lambda: os.umask(0o022))

    assert run("consent", "list").returncode == 0
    log = candor_home / "logs" / "candor.log"
    assert log.exists()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    result = run("privacy", "check")
    assert result.returncode == 0, result.stdout
    assert "9 of 9 checks pass" in result.stdout
