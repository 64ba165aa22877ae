"""Crashes, damaged databases and a second instance: nothing lost, nothing silently dropped, and
messages a user can act on."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.paths import data_dir
from app.storage import (
    AlreadyRunning,
    DatabaseCorrupt,
    InstanceLock,
    open_store,
    process_identity,
)
from app.storage.database import DB_NAME
from tests.support.processes import dead_process, owned_by
from tests.support.sink_writer import TEXT
from tests.support.storage import granted_gate, record_meeting

REPO = Path(__file__).resolve().parents[1]
CANDOR = Path(sys.executable).parent / "candor"


class Writer:
    """The sink_writer subprocess: a listening Candor that stores every final."""

    def __init__(self, pause: float = 0.0, like_listen: bool = False) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.sink_writer", "--pause", str(pause),
             *(["--like-listen"] if like_listen else [])],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=os.environ.copy(),
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        if not first.startswith("MEETING "):
            self.proc.kill()
            raise AssertionError(f"writer did not start: {first!r} {self.proc.stderr.read()}")
        self.meeting_id = first.split()[1]
        self.printed: list[int] = []

    def read_finals(self, count: int) -> None:
        assert self.proc.stdout is not None
        while len(self.printed) < count:
            line = self.proc.stdout.readline()
            assert line.startswith("FINAL "), line
            self.printed.append(int(line.split()[1]))

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        out, _err = self.proc.communicate(timeout=30)
        # Captions printed before the kill but not yet read by us count too.
        self.printed += [int(line.split()[1]) for line in out.splitlines()
                         if line.startswith("FINAL ")]
        assert self.proc.returncode == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill9()


@pytest.fixture
def writer():
    started: list[Writer] = []

    def start(pause: float = 0.0, like_listen: bool = False) -> Writer:
        w = Writer(pause, like_listen)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CANDOR), *args], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())


@pytest.mark.parametrize("finals_before_kill", [1, 40, 400])
def test_kill_9_keeps_every_final_caption_printed_before_it(writer, finals_before_kill):
    w = writer()
    w.read_finals(finals_before_kill)
    w.kill9()
    assert w.printed == list(range(len(w.printed)))

    lock = InstanceLock("window").acquire(wait=5)  # the dead process's lock is gone
    try:
        store = open_store(lock=lock)
        assert store.recovery is None  # the database survived intact
        assert store.recover_interrupted() == [w.meeting_id]
        meeting = store.get(w.meeting_id)
        stored = [s.text for s in meeting.segments]
        # Every printed caption is stored, in order; at most the one in flight is extra.
        assert stored[: len(w.printed)] == [TEXT.format(n=n) for n in w.printed]
        assert len(w.printed) <= len(stored) <= len(w.printed) + 1
        assert meeting.summary.interrupted
        store.close()
    finally:
        lock.release()


def test_a_second_instance_is_told_who_is_running(writer):
    w = writer(pause=0.05)
    w.read_finals(2)
    with pytest.raises(AlreadyRunning) as caught:
        InstanceLock("the window").acquire(wait=0.2)
    message = str(caught.value)
    assert "already running" in message
    assert "`candor listen`" in message
    assert f"process {w.proc.pid}" in message
    assert "locked" not in message

    erase = candor("data", "erase", "--yes")
    assert erase.returncode == 1
    assert "already running" in erase.stderr
    assert "locked" not in erase.stderr


def test_commands_read_while_another_candor_writes(writer):
    import json

    w = writer(pause=0.0)  # writing as fast as it can
    w.read_finals(5)
    for _ in range(3):
        listed = candor("meetings", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert "locked" not in listed.stderr
        (meeting,) = json.loads(listed.stdout)
        assert meeting["id"] == w.meeting_id
        assert meeting["segments"] >= 5
    shown = candor("meetings", "show", w.meeting_id)
    assert shown.returncode == 0, shown.stderr
    assert TEXT.format(n=0) in shown.stdout


def test_garbage_database_is_moved_aside_and_a_new_one_started(candor_home):
    garbage = os.urandom(64 * 1024)
    (data_dir() / DB_NAME).write_bytes(garbage)
    with InstanceLock("window") as lock:
        store = open_store(lock=lock)
    assert store.recovery is not None
    moved = store.recovery.moved[0]
    assert moved.name.startswith("candor.db.corrupt-")
    assert moved.name.endswith("Z")
    assert moved.read_bytes() == garbage  # nothing dropped
    assert "moved aside to" in store.recovery.message
    assert str(moved) in store.recovery.message
    gate = granted_gate()
    mid = record_meeting(store, gate, ["a fresh start"])
    assert [m.id for m in store.list_meetings()] == [mid]
    store.close()
    with open_store() as again:
        assert again.recovery is None


def test_a_damaged_page_is_detected_and_the_file_kept(candor_home):
    gate = granted_gate()
    with open_store() as store:
        for i in range(30):
            record_meeting(store, gate, [f"meeting {i} sentence {j}" * 5 for j in range(20)])
    path = data_dir() / DB_NAME
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    assert len(data) > 6 * page_size
    data[3 * page_size : 3 * page_size + 200] = os.urandom(200)  # one b-tree page damaged
    path.write_bytes(bytes(data))
    with open_store() as store:  # no Candor running: it takes the lock for the repair
        assert store.recovery is not None
        assert store.recovery.moved[0].read_bytes() == bytes(data)  # the set-aside file as it was
        # The damaged page (page 4) is the root of meeting_keys: without their keys no meeting
        # can be read, so none is brought back, and the user is told why.
        assert store.list_meetings() == []
        assert "None of its 30 meeting(s) could be read back" in store.recovery.message


def test_a_damaged_segments_page_costs_only_the_rows_on_it(candor_home):
    """Many meetings, one damaged leaf of the segments table: every meeting comes back, each
    with its key and consent links (withdrawing with deletion finds it), and only the segments
    that were on the damaged page are missing."""
    gate = granted_gate()
    texts = {}
    with open_store() as store:
        for i in range(12):
            lines = [f"meeting {i} sentence {j} " + "words " * 30 for j in range(25)]
            texts[record_meeting(store, gate, lines, title=f"Meeting {i}")] = lines
    path = data_dir() / DB_NAME
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    leaves = _leaf_pages_of(raw, "segments")
    raw.close()
    assert len(leaves) > 10
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    victim = leaves[len(leaves) // 2]
    data[(victim - 1) * page_size : (victim - 1) * page_size + 100] = b"\xff" * 100
    path.write_bytes(bytes(data))
    with open_store() as store:
        assert store.recovery is not None
        assert "12 meeting(s)" in store.recovery.message
        kept = 0
        for summary in store.list_meetings():
            meeting = store.get(summary.id)
            got = [s.text for s in meeting.segments]
            assert set(got) <= set(texts[summary.id]), "nothing from another meeting or place"
            kept += len(got)
        total = sum(len(t) for t in texts.values())
        assert total - 3 * (total // len(leaves)) <= kept < total
        deleted = store.delete_produced_under(
            {r for m in store.list_meetings() for r in m.consent["transcript_storage"]})
        assert deleted == 12
        assert store.list_meetings() == []


def _leaf_pages_of(conn: sqlite3.Connection, table: str) -> list[int]:
    """Page numbers of the table's b-tree leaves, walked from its root page (no dbstat here)."""
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                           (table,)).fetchone()
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    data = Path(path).read_bytes()
    leaves, todo = [], [root]
    while todo:
        number = todo.pop()
        page = data[(number - 1) * page_size : number * page_size]
        head = 100 if number == 1 else 0
        kind = page[head]
        if kind in (0x0A, 0x0D):
            leaves.append(number)
            continue
        cells = int.from_bytes(page[head + 3 : head + 5], "big")
        todo.append(int.from_bytes(page[head + 8 : head + 12], "big"))  # the right-most child
        for i in range(cells):
            at = int.from_bytes(page[head + 12 + 2 * i : head + 14 + 2 * i], "big")
            todo.append(int.from_bytes(page[at : at + 4], "big"))
    return sorted(leaves)


def test_cli_tells_the_user_about_a_damaged_database(candor_home):
    (data_dir() / DB_NAME).write_bytes(b"this is not a database" * 100)
    listed = candor("meetings", "list")
    assert listed.returncode == 0
    assert "damaged" in listed.stderr
    assert "candor.db.corrupt-" in listed.stderr
    assert "No stored meetings." in listed.stdout
    assert len(list(candor_home.glob("candor.db.corrupt-*"))) == 1
    report = candor("data", "report", "--json")
    import json

    categories = {c["category"]: c for c in json.loads(report.stdout)["categories"]}
    assert categories["set_aside_databases"]["count"] == 1


def test_a_damaged_database_in_use_by_another_candor_is_left_alone(candor_home):
    # Another Candor holds the lock (and would have the file open) while it is damaged.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from app.storage import InstanceLock; "
         "InstanceLock('the window').acquire(); print('ready', flush=True); time.sleep(60)"],
        cwd=REPO, stdout=subprocess.PIPE, text=True, env=os.environ.copy(),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        path = data_dir() / DB_NAME
        path.write_bytes(b"garbage" * 1000)
        with pytest.raises(DatabaseCorrupt, match="must be closed first"):
            open_store()
        assert path.read_bytes() == b"garbage" * 1000
        assert not list(candor_home.glob("candor.db.corrupt-*"))
        listed = candor("meetings", "list")
        assert listed.returncode == 1
        assert "damaged" in listed.stderr
    finally:
        holder.kill()
        holder.wait()


def test_wal_database_survives_reopen_after_kill(writer):
    """The database a crash leaves (with its WAL) passes SQLite's integrity check."""
    w = writer()
    w.read_finals(50)
    w.kill9()
    conn = sqlite3.connect(data_dir() / DB_NAME)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_a_second_listen_does_not_close_the_first_ones_meeting_as_crashed(writer):
    """Two `candor listen` in one data directory: the second one's start-up upkeep leaves the
    first one's meeting alone (its process is alive); once that process is killed, the next
    command closes it as interrupted."""
    first = writer(pause=0.05, like_listen=True)
    first.read_finals(3)
    second = writer(pause=0.05, like_listen=True)  # runs the upkeep while the first records
    second.read_finals(3)
    listed = candor("meetings", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "interrupted by a crash" not in listed.stderr
    states = {m["id"]: m for m in json.loads(listed.stdout)}
    for w in (first, second):
        assert states[w.meeting_id]["ended"] is None, "still being recorded"
        assert not states[w.meeting_id]["interrupted"]
    first.read_finals(len(first.printed) + 2)  # and it really goes on storing
    first.kill9()
    after = candor("meetings", "list", "--json")
    assert "1 meeting(s) were interrupted by a crash" in after.stderr
    assert first.meeting_id in after.stderr
    assert second.meeting_id not in after.stderr
    states = {m["id"]: m for m in json.loads(after.stdout)}
    assert states[first.meeting_id]["interrupted"]
    assert not states[second.meeting_id]["interrupted"]
    assert states[second.meeting_id]["ended"] is None


def test_a_recycled_pid_is_not_mistaken_for_the_meetings_owner(candor_home):
    """The owner's pid now belongs to another live process (here: this one), but its start
    token differs: the meeting's process is gone, so it was interrupted."""
    gate = granted_gate()
    with open_store() as store:
        meeting_id = record_meeting(store, gate, ["before the crash"], finish=False)
    dead = dead_process()
    owned_by(meeting_id, process_identity.ProcessIdentity(os.getpid(), dead.start))
    assert process_identity.is_alive(process_identity.current())
    with open_store() as store:
        assert store.recover_interrupted() == [meeting_id]
        assert store.summary(meeting_id).interrupted
