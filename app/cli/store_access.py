"""How sub-commands open the meeting store and turn storage errors into exit codes.

A command that finds no Candor running takes the instance lock for a moment to do the upkeep the
window would do at start-up: set a damaged database aside, close meetings whose recording
process is gone, and erase transcripts past their retention. While a Candor runs, that instance
does the upkeep and the command only reads (SQLite's busy timeout makes it wait, never fail with
"locked").

Every command says so while a damaged database set aside waits for the user to act on it
(`candor data set-aside --erase` or `--keep`), not only the command that set it aside. A full
disk is one clear message ("the disk is full ...", exit 1), never a traceback; upkeep that cannot
be written on a full disk is skipped with a warning and the command goes on reading.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from app.cli.common import EXIT_FAILURE, EXIT_USAGE, CliError
from app.consent import ConsentGate, open_gate
from app.consent.gate import ledger_paths
from app.keystore import SecretUnavailable
from app.paths import data_dir
from app.storage.database import DiskFull, StorageError, is_disk_full, set_aside_notice
from app.storage.instance_lock import AlreadyRunning, InstanceLock
from app.storage.meetings import MeetingStore
from app.storage.models import UnknownMeeting
from app.storage.retention import RetentionSettingsError, enforce_retention
from app.storage.schema import SchemaTooNew
from app.storage.store import open_store


def warn(message: str) -> None:
    print(f"candor: {message}", file=sys.stderr)


@contextlib.contextmanager
def storage_errors(what: str = "the command") -> Iterator[None]:
    try:
        yield
    except UnknownMeeting as err:
        raise CliError(str(err), EXIT_USAGE) from err
    except (StorageError, SchemaTooNew, AlreadyRunning, SecretUnavailable) as err:
        raise CliError(str(err), EXIT_FAILURE) from err
    except OSError as err:  # the instance lock or a key file on a full disk
        if is_disk_full(err):
            raise CliError(str(DiskFull(data_dir(), what)), EXIT_FAILURE) from err
        raise


@contextlib.contextmanager
def cli_store(command: str, *, create: bool = False) -> Iterator[MeetingStore]:
    """The store for one command; `create=False` leaves a fresh profile untouched."""
    with storage_errors(f"`candor {command}`"):
        lock = InstanceLock(f"`candor {command}`")
        upkeep = lock.try_acquire()
        try:
            store = open_store(lock=lock if upkeep else None, create=create)
            if store.recovery is not None:
                warn(store.recovery.message)
            if upkeep:
                _upkeep(store)
        finally:
            lock.release()
        if store.recovery is None:
            notice = set_aside_notice(store.home)
            if notice is not None:
                warn(notice)
        try:
            yield store
        finally:
            store.close()


def _upkeep(store: MeetingStore) -> None:
    try:
        recovered = store.recover_interrupted()
    except DiskFull as err:
        warn(f"{err} (meetings left open by a crash are closed next time)")
        return
    if recovered:
        warn(f"{len(recovered)} meeting(s) were interrupted by a crash and have been closed; "
             f"every caption saved before it is kept: {', '.join(recovered)}")
    try:
        result = enforce_retention(store)
    except RetentionSettingsError as err:
        warn(str(err))
        return
    except DiskFull as err:
        warn(f"{err} (transcripts past their retention period are erased next time)")
        return
    if result.count:
        warn(f"erased {result.count} transcript(s) past their retention period "
             f"({result.period}): {', '.join(result.erased)}")


@contextlib.contextmanager
def consent_gate() -> Iterator[ConsentGate | None]:
    """The consent gate, or None when no ledger exists yet (then nothing has been given); a
    read-only command does not create a ledger just to look."""
    if not ledger_paths(data_dir())[0].exists():
        yield None
        return
    gate = open_gate()
    try:
        yield gate
    finally:
        gate.close()
