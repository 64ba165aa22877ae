"""Erasing everything replaces the consent ledger while other Candors have it open or open it.

Found by a stress run of erases against Candors watching the ledger: 199 of 200 erases failed
("table meta already exists", "has no profile_id", "disk I/O error") and some left a ledger that
no longer verified ("missing although one existed")."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from app.consent import ledger_lock
from app.consent.gate import ledger_paths, open_gate
from app.consent.ledger import ALL_PURPOSES, Ledger
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


def _erase_record(ledger: Ledger) -> None:
    ledger.append(purpose=ALL_PURPOSES, state="data_erased", type="explicit",
                  collection_method="test")


def _waits_on(lock: Path) -> bool:
    """Whether some thread waits for a lock on `lock` (/proc/locks marks waiters "->")."""
    inode = f":{lock.stat().st_ino} "
    return any("->" in line and inode in line
               for line in Path("/proc/locks").read_text().splitlines())


def test_a_candor_opening_the_ledger_during_an_erase_gets_the_complete_new_one(candor_home):
    path, head = ledger_paths(candor_home)
    old = Ledger(path, head)
    old.append(purpose="microphone", state="given", type="explicit", collection_method="test")
    opened: list[Ledger] = []
    gap = threading.Event()

    def open_in_the_gap() -> None:
        gap.wait(10)
        opened.append(Ledger(path, head))  # another Candor starting while the erase runs

    opener = threading.Thread(target=open_in_the_gap)
    opener.start()
    with old.replacing():
        assert not path.exists(), "the old ledger is gone before the new one is written"
        gap.set()
        lock = candor_home / "keys" / ledger_lock.LOCK_NAME
        wait_until(lambda: not opener.is_alive() or _waits_on(lock),
                   what="the other Candor to open the ledger or wait for the erase")
        assert opener.is_alive(), "it opened the ledger while it was being replaced"
        assert not path.exists(), "it made a ledger of its own in the gap"
        new = Ledger(path, head, starting_anew=True)
        _erase_record(new)
    opener.join(10)
    [seen] = opened
    assert [(r.purpose, r.state) for r in seen.records()] == [("*", "data_erased")]
    assert seen.profile_id == new.profile_id, "it opened a ledger of its own"
    assert seen.anchor_problem == "", seen.anchor_problem
    assert seen.verify().ok
    assert Ledger(path, head).verify().ok, "the erase's new ledger no longer verifies"


_WATCHER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from app.consent.errors import ConsentRequired
    from app.consent.gate import open_gate
    home, stop = Path(sys.argv[1]), Path(sys.argv[2])
    failures = 0
    while not stop.exists():
        gate = open_gate(home)  # a Candor starting, watching, guarding, quitting
        gate.start_watching(0.002)
        until = time.monotonic() + 0.3
        while time.monotonic() < until and not stop.exists():
            try:
                with gate.guard("microphone"):
                    pass
            except ConsentRequired:
                pass
            except Exception as err:
                failures += 1
                print(type(err).__name__, err, file=sys.stderr)
        gate.close()
    print(failures)
""")


def test_erases_while_other_candors_start_watch_and_guard_all_succeed(candor_home, tmp_path):
    """Three Candors keep opening the ledger and guarding work while another erases 30
    times: every erase succeeds, nothing fails in the others, and the ledger verifies."""
    open_gate(candor_home).close()
    stop = tmp_path / "stop"
    watchers = [
        subprocess.Popen([sys.executable, "-c", _WATCHER, str(candor_home), str(stop)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         cwd=REPO)
        for _ in range(3)
    ]
    problems: list[str] = []
    try:
        for _ in range(30):
            gate = open_gate(candor_home)
            try:
                gate.record_erase(via="test")
            except Exception as err:
                problems.append(f"{type(err).__name__}: {err}")
            finally:
                gate.close()
    finally:
        stop.touch()
        outputs = [w.communicate(timeout=60) for w in watchers]
    assert problems == []
    for out, err in outputs:
        assert out.strip() == "0", err
        assert "watching the consent ledger failed" not in err, err
    final = open_gate(candor_home)
    assert final.integrity.ok, final.integrity.describe()
    assert [r.state for r in final.ledger.records()] == ["data_erased"]
