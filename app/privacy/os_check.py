"""`candor privacy check --os`: the no-network and no-stray-files promise, seen by the kernel.

Opt-in because it takes a few seconds and needs strace: it runs Candor's speech stack
(`app.privacy.os_selftest`: the VAD, noise suppression and the speech model, on sound it makes
itself) in a child process under strace, with HOME pointed at an empty folder and a throwaway data
directory, and reports every internet connection, name lookup and file written outside that data
directory (`app.privacy.os_probe`). The user's own data directory is neither read nor changed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from app.privacy.os_probe import run_traced, standard_allowances, strace_available
from app.privacy.results import CheckResult, make_result

TITLE = ("The speech stack opens no network connection, asks no name server and writes nothing "
         "outside the data directory (seen by the kernel, with strace)")
TIMEOUT_S = 180.0


def check_os_level(model: str | None = None) -> CheckResult:
    if not strace_available():
        return make_result("no_network_os_level", TITLE, ["strace is not installed"], [],
                           "install it (Debian: apt-get install strace) and run the check again")
    with tempfile.TemporaryDirectory(prefix="candor-os-check-") as scratch:
        home, data = Path(scratch) / "home", Path(scratch) / "data"
        home.mkdir()
        data.mkdir()
        env = {k: v for k, v in os.environ.items()
               if k in ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "PYTHON_KEYRING_BACKEND")}
        env.update({"HOME": str(home), "CANDOR_HOME": str(data)})
        argv = [sys.executable, "-m", "app.privacy.os_selftest", *([model] if model else [])]
        result = run_traced(argv, env=env, allowed=standard_allowances(data, home),
                            empty_home=home, cwd=Path(scratch), timeout=TIMEOUT_S)
    problems = result.problems()
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or ["no message"]
        problems.append(f"the speech stack did not run (exit {result.returncode}): {tail[0]}")
    evidence = [
        "ran the VAD, noise suppression and the speech model on generated sound under strace: "
        f"{result.processes} processes/threads, {result.syscalls} traced system calls",
        f"{len(result.internet)} internet connection(s), {len(result.dns)} name lookup(s), "
        f"{len(result.outside)} file(s) written outside the data directory, "
        f"{len(result.left_in_home)} left in an empty HOME",
        *(line for line in result.stdout.strip().splitlines()),
    ]
    return make_result("no_network_os_level", TITLE, problems, evidence,
                       "a library Candor loads reached the network or wrote outside the data "
                       "directory: report it; meanwhile run Candor without network access")
