"""`candor privacy check`: each of Candor's promises as a named check, run on this machine.

Promise: every check looks at the real thing — file modes on disk, the raw bytes of every file in
the data directory, the ledger's keyed hash chain, the key files, the meetings' retention dates,
the model files' SHA-256, and the kernel's socket tables of every running Candor process — and
says what it looked at (evidence), whether the promise holds, and if not, what to do. Nothing
here changes any data: a check that finds an expired meeting reports it; it does not erase it.

Each check is a plain function returning a typed `CheckResult`; `run_checks` runs them all and
returns a `PrivacyReport` for the command line and, later, the window ("9 of 9 checks pass").
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app import keystore, keyvault
from app.consent.anchor import ANCHOR_NAME, ledger_left_a_trace
from app.consent.gate import ConsentGate, ledger_paths
from app.consent.ledger import KEY_NAME as LEDGER_KEY_NAME
from app.consent.purposes import MODEL_DOWNLOAD, TRANSCRIPT_STORAGE
from app.key_protection import describe_protection
from app.privacy.plaintext import find_transcript_text
from app.privacy.results import (
    PRIVATE_BITS,
    CheckId,
    CheckResult,
    PrivacyReport,
    make_result,
)
from app.privacy.sockets import candor_sockets
from app.storage import crypto
from app.storage.meetings import MeetingStore
from app.storage.retention import (
    RetentionSettings,
    RetentionSettingsError,
    expired_meetings,
    expires_at,
)

log = logging.getLogger(__name__)

# -- 1. file modes -------------------------------------------------------------------------------


def check_files_private(home: Path) -> CheckResult:
    title = "Every file in the data directory is private to you (0600 files, 0700 folders)"
    problems: list[str] = []
    files = folders = 0
    uid = os.getuid()
    for path in [home, *sorted(home.rglob("*"))]:
        try:
            info = path.lstat()
        except FileNotFoundError:  # removed while we looked
            continue
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISDIR(info.st_mode):
            folders += 1
        elif stat.S_ISREG(info.st_mode):
            files += 1
        else:
            problems.append(f"{path} is not a plain file or folder (mode {info.st_mode:o})")
            continue
        if mode & PRIVATE_BITS:
            problems.append(f"{path} has mode {mode:04o}: others can "
                            + ("enter or list it" if stat.S_ISDIR(info.st_mode) else "read it"))
        if info.st_uid != uid:
            problems.append(f"{path} belongs to user id {info.st_uid}, not you ({uid})")
    evidence = [f"looked at {files} files and {folders} folders in {home}"]
    return make_result(
        "files_private", title, problems, evidence,
        f"make them private: chmod -R go-rwx {home}",
    )


# -- 2. no readable transcript text ---------------------------------------------------------------


def check_no_plaintext(
    home: Path, store: MeetingStore | None, error: str | None = None
) -> CheckResult:
    title = "No transcript text is readable in any file of the data directory"
    remedy = ("delete the files named (they hold a readable copy of what was said), or run "
              "`candor data erase --yes`; if Candor itself wrote them, please report it")
    if error is not None:  # the store cannot be opened, so nothing can be looked for
        return CheckResult("no_plaintext_transcripts", title, "fail",
                           (f"the meeting store could not be opened: {error}",),
                           "see `candor data report`")
    if store is None:
        return make_result("no_plaintext_transcripts", title, [],
                       ["no meeting store exists yet: no transcript has ever been kept"], remedy)
    try:
        scan = find_transcript_text(store, home)
    except Exception as err:  # an unreadable store cannot vouch for anything: fail closed
        return CheckResult("no_plaintext_transcripts", title, "fail",
                           (f"the stored transcripts could not be decrypted to look for them: "
                            f"{err}",), "see `candor data report`; the key may be missing")
    evidence = [
        f"decrypted {scan.segments} segments and {scan.meetings} titles; looked for each "
        f"phrase of them in the raw bytes of {scan.files} files ({scan.bytes} bytes), "
        f"including {', '.join(scan.side_files) or 'no'} SQLite side files",
    ]
    problems = [f"{hit.path}: text of meeting {hit.meeting_id} ({hit.where}) is readable there"
                for hit in scan.hits]
    if scan.skipped:  # what cannot be decrypted cannot be looked for: no vouching for it
        problems.append(f"{scan.skipped} meeting(s) could not be decrypted, so their text could "
                        "not be looked for (see `candor data report`: is the key missing?)")
    return make_result("no_plaintext_transcripts", title, problems, evidence, remedy)


# -- 3. the ledger, 4. stored under consent -----------------------------------------------------


def check_ledger(gate: ConsentGate | None, error: str | None = None) -> CheckResult:
    title = "The consent ledger verifies: no record was changed, removed or reordered"
    if error is not None:
        return CheckResult("ledger_verifies", title, "fail", (error,),
                           "run `candor consent verify`; `candor consent new-ledger --yes` keeps "
                           "it as evidence and starts a new one")
    if gate is None:
        return make_result("ledger_verifies", title, [],
                       ["no consent ledger exists yet: nothing has been given"], "")
    result = gate.ledger.verify()
    evidence = [result.describe()]
    if result.key_location:
        evidence.append(f"keyed with the ledger key in: {result.key_location}")
    return make_result(
        "ledger_verifies", title, [] if result.ok else ["the ledger does not verify"], evidence,
        "run `candor consent verify` for details; every permission counts as not given until "
        "`candor consent new-ledger --yes` keeps this ledger as evidence and starts a new one",
    )


def check_stored_under_consent(gate: ConsentGate | None, store: MeetingStore | None) -> CheckResult:
    title = "Every stored meeting was kept under a 'Keep transcripts' yes recorded in the ledger"
    meetings = store.list_meetings() if store is not None else []
    grants = set(gate.grant_record_ids(TRANSCRIPT_STORAGE)) if gate is not None else set()
    problems = []
    for meeting in meetings:
        records = meeting.consent.get(TRANSCRIPT_STORAGE, [])
        if not records:
            problems.append(f"meeting {meeting.id} names no consent record")
        elif not set(records) <= grants:
            problems.append(f"meeting {meeting.id} was kept under record(s) "
                            f"{', '.join(sorted(set(records) - grants))}, not in this ledger")
    evidence = [f"{len(meetings)} stored meeting(s); {len(grants)} 'Keep transcripts' grant(s) "
                "in the ledger"]
    return make_result(
        "stored_under_recorded_consent", title, problems, evidence,
        "a ledger started anew (`consent new-ledger`) no longer holds the old grants; the old "
        "ledger was kept as evidence. Delete meetings you no longer want with "
        "`candor meetings delete ID`",
    )


# -- 5. where the keys are, 6. the master key's mode -------------------------------------------


def _key_file(name: str, home: Path) -> Path:
    return home / keystore.KEYS_DIR / f"{name}.key"


def check_keys_where_reported(home: Path) -> CheckResult:
    title = "The keys are where the data report says, and can be read there"
    problems, evidence = [], []
    protection = describe_protection(home)
    evidence.append(f"protection in use: {protection.mode}: {protection.summary}")
    evidence.append(f"what remains at risk: {protection.residual_risk}")
    if protection.mode == "passphrase" or keyvault.exists(home):
        for name, path in keystore.key_files(home).items():
            problems.append(f"the keys are wrapped with a passphrase, but {name} also sits in "
                            f"the clear in {path}")
    for name, what in ((crypto.MASTER_KEY_NAME, "storage master key"),
                       (LEDGER_KEY_NAME, "consent ledger key"),
                       (ANCHOR_NAME, "consent ledger anchor")):
        location = keystore.secret_location(name, home=home)
        if location is None:
            evidence.append(f"{what}: none yet (nothing needed it)")
            continue
        evidence.append(f"{what}: {location.describe()}")
        key_file = _key_file(name, home)
        if location.kind == "keyring" and key_file.exists():
            problems.append(f"the report says the {what} is in the OS keyring, but a copy sits "
                            f"in {key_file}")
        try:
            if keystore.get_secret(name, home=home) is None:
                problems.append(f"the {what} is not where the report says")
        except keystore.SecretUnavailable as err:
            problems.append(f"the {what} cannot be read where the report says: {err}")
    return make_result("keys_where_reported", title, problems, evidence,
                   "see `candor data report`; unlock the OS keyring if it is locked; a key in "
                   "the clear beside wrapped ones: `candor keys passphrase remove`, then `set`")


def check_master_key_private(home: Path) -> CheckResult:
    title = "The master key is not readable by anyone else"
    location = keystore.secret_location(crypto.MASTER_KEY_NAME, home=home)
    if location is None:
        return make_result("master_key_private", title, [],
                       ["no master key yet: nothing has been stored"], "")
    if location.kind == "keyring":
        return make_result("master_key_private", title, [],
                       [f"it is in the OS keyring ({location.where}), which only your login "
                        "session can open"], "")
    key_file = _key_file(crypto.MASTER_KEY_NAME, home)
    folder = key_file.parent
    problems = []
    for path in (folder, key_file):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & PRIVATE_BITS:
            problems.append(f"{path} has mode {mode:04o}: other users can read it")
    evidence = [f"key file {key_file} mode {stat.S_IMODE(key_file.stat().st_mode):04o}, "
                f"folder mode {stat.S_IMODE(folder.stat().st_mode):04o}"]
    return make_result("master_key_private", title, problems, evidence,
                   f"chmod 700 {folder} && chmod 600 {key_file} (Candor also tightens it when it "
                   "next reads the key); anyone who copied it meanwhile can read your stored "
                   "transcripts")


# -- 7. retention ------------------------------------------------------------------------------


def check_retention(home: Path, store: MeetingStore | None, now: datetime) -> CheckResult:
    title = "No meeting is kept longer than its retention period"
    try:
        settings = RetentionSettings.load(home)
    except RetentionSettingsError as err:
        return CheckResult("retention_kept", title, "fail", (str(err),),
                           "set the period again: `candor data retention transcripts 30d`")
    if store is None:
        return make_result("retention_kept", title, [],
                       [f"transcripts are kept {settings.transcripts}; none is stored"], "")
    expired = set(expired_meetings(store, now, settings=settings))
    problems = []
    for meeting_id, started, ended in store.retention_rows():
        if meeting_id in expired:
            due = expires_at(started, ended, settings.transcripts)
            problems.append(f"meeting {meeting_id} should have been erased on "
                            f"{due.isoformat(timespec='minutes') if due else '?'}")
    evidence = [f"{len(store.retention_rows())} stored meeting(s); transcripts are kept "
                f"{settings.transcripts}"]
    return make_result("retention_kept", title, problems, evidence,
                   "open Candor or run `candor meetings list`: each erases what has expired; "
                   "or delete them now with `candor meetings delete ID`")


# -- 8. the model ------------------------------------------------------------------------------


def check_model(model: str | None) -> CheckResult:
    from app.privacy.model_files import verify_model_files

    title = "The speech model in use matches its published checksums"
    outcome = verify_model_files(model)
    return make_result("model_verified", title, list(outcome.problems), list(outcome.evidence),
                   outcome.remedy)


# -- 9. sockets --------------------------------------------------------------------------------


def check_sockets(home: Path, download_given: bool = False) -> CheckResult:
    """`download_given`: `model_download` is given now (single-use: it ends once the model is
    installed), so a download the user started may be running."""
    title = "No Candor process holds an internet socket"
    processes = candor_sockets(home)
    pids = {p.pid for p in processes}
    problems, allowed = [], []
    for proc in processes:
        for sock in proc.internet:
            line = f"process {proc.pid} ({proc.command[:80]}): {sock.describe()}"
            # The one network use Candor has: a model download the user started, run by the
            # download worker (`python -m app.transcription.hub_fetch`) that a Candor process
            # started, while the single-use permission for it is given.
            if proc.download_worker and proc.parent in pids and download_given:
                allowed.append(line)
            elif proc.download_worker and proc.parent in pids:
                problems.append(f"{line} — a model download's worker, but the permission to "
                                "download a model is not given now")
            else:
                problems.append(line)
    inet = sum(len(p.inet) for p in processes)
    evidence = [
        f"{len(processes)} Candor process(es) ({', '.join(str(p.pid) for p in processes)}) "
        f"hold {sum(p.other_sockets for p in processes)} local (unix) socket(s) and {inet} "
        "TCP/UDP socket(s), read from /proc/<pid>/fd and /proc/<pid>/net",
        *(f"allowed, a model download you started: {line}" for line in allowed),
    ]
    return make_result("no_internet_sockets", title, problems, evidence,
                   "close that Candor and report it: Candor promises never to use the network "
                   "except for a model download you start")


def _download_given(gate: ConsentGate | None) -> bool:
    if gate is None:
        return False
    gate.refresh()
    return gate.state(MODEL_DOWNLOAD).granted


# -- all of them -------------------------------------------------------------------------------


@dataclass
class CheckContext:
    """What the checks look at; the command line opens these read-only."""

    home: Path
    store: MeetingStore | None = None
    gate: ConsentGate | None = None
    model: str | None = None  # the model in use (None: the default)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    store_error: str | None = None  # why the store could not be opened
    gate_error: str | None = None  # why the ledger could not be opened


def _guarded(check: CheckId, title: str, run: Callable[[], CheckResult]) -> CheckResult:
    try:
        return run()
    except Exception as err:  # a check that cannot run has not shown its promise holds
        log.exception("privacy check %s could not run", check)
        return CheckResult(check, title, "fail", (f"the check could not run: {err}",),
                           "see the log file for details")


def run_checks(context: CheckContext, only: Collection[CheckId] | None = None, *,
               os_level: bool = False) -> PrivacyReport:
    """Every check (or those named in `only`), in order; `os_level` adds the strace check."""
    c = context
    # Checks that only look at file modes run first: reading a key through app.keystore
    # tightens a loosened key file's mode, which must not hide it from the mode checks.
    checks: list[tuple[CheckId, str, Callable[[], CheckResult]]] = [
        ("files_private", "Files are private", lambda: check_files_private(c.home)),
        ("master_key_private", "Master key private", lambda: check_master_key_private(c.home)),
        ("keys_where_reported", "Keys where reported", lambda: check_keys_where_reported(c.home)),
        ("no_plaintext_transcripts", "No readable transcript text",
         lambda: check_no_plaintext(c.home, c.store, c.store_error)),
        ("ledger_verifies", "Ledger verifies", lambda: check_ledger(c.gate, c.gate_error)),
        ("stored_under_recorded_consent", "Stored under recorded consent",
         lambda: check_stored_under_consent(c.gate, c.store)),
        ("retention_kept", "Retention kept", lambda: check_retention(c.home, c.store, c.now)),
        ("model_verified", "Model verified", lambda: check_model(c.model)),
        ("no_internet_sockets", "No internet sockets",
         lambda: check_sockets(c.home, _download_given(c.gate))),
    ]
    if os_level:
        from app.privacy.os_check import check_os_level

        checks.append(("no_network_os_level", "No network, seen by the kernel",
                       lambda: check_os_level(c.model)))
    results = tuple(
        _guarded(check, title, run) for check, title, run in checks if not only or check in only
    )
    return PrivacyReport(c.now, c.home, results)


def _damaged(db: Path) -> str | None:
    import sqlite3

    from app.storage.database import integrity_problem

    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return integrity_problem(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        return str(err)


def open_context(home: Path, now: datetime | None = None) -> CheckContext:
    """Open the store and the ledger of `home` without creating or changing anything (no
    upkeep: an expired meeting must be seen by the check, not erased by opening the store)."""
    from app.consent.errors import ConsentError
    from app.consent.gate import open_gate
    from app.storage.database import DB_NAME, StorageError
    from app.storage.store import open_store

    context = CheckContext(home=home, now=now or datetime.now(UTC))
    db = home / DB_NAME
    try:
        # Opening the store repairs a damaged file (sets it aside): a check must not, so look
        # first through a read-only connection.
        problem = _damaged(db) if db.exists() else None
        if problem is not None:
            context.store_error = (
                f"{db} is damaged ({problem}); Candor sets it aside when it next starts"
            )
        elif db.exists():
            context.store = open_store(home, create=False)
    except (StorageError, OSError) as err:  # reported by the checks, not a crash
        context.store_error = str(err)
    try:
        expected = ledger_paths(home)[0].exists() or ledger_left_a_trace(home, LEDGER_KEY_NAME)
        context.gate = open_gate(home) if expected else None
    except ConsentError as err:
        context.gate_error = str(err)
    return context


def close_context(context: CheckContext) -> None:
    if context.store is not None:
        context.store.close()
    if context.gate is not None:
        context.gate.close()
