"""A stand-in for `candor listen` with storage given, for crash and second-instance tests:
holds the instance lock, stores finals through StoredMeetingSink, and prints `FINAL n` after
each one returns (as listen prints a caption). With `--like-listen` it opens the store as
`candor listen` does (the command's store: the lock only for the start-up upkeep), so two can
record in one data directory. Run: python -m tests.support.sink_writer."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

from app.segments import Segment
from app.storage import InstanceLock, StoredMeetingSink, open_store
from tests.support.storage import granted_gate

TEXT = "caption {n}: ask not what your country can do for you"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pause", type=float, default=0.0)
    parser.add_argument("--like-listen", action="store_true")
    args = parser.parse_args()
    stack = contextlib.ExitStack()
    if args.like_listen:
        from app.cli.store_access import cli_store

        store = stack.enter_context(cli_store("listen", create=True))
    else:
        lock = InstanceLock("`candor listen`").acquire()
        store = open_store(lock=lock)
    gate = granted_gate()
    sink = StoredMeetingSink(store, gate, source="listen", title="Crash test")
    print(f"MEETING {sink.meeting_id}", flush=True)
    n = 0
    while True:
        sink.on_final(Segment(n * 2.0, n * 2.0 + 1.5, TEXT.format(n=n)))
        print(f"FINAL {n}", flush=True)
        n += 1
        if args.pause:
            time.sleep(args.pause)


if __name__ == "__main__":
    sys.exit(main())
