"""`candor data report|export|erase|retention`: everything Candor holds, and control over it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli.common import EXIT_FAILURE, EXIT_USAGE, CliError
from app.cli.store_access import cli_store, consent_gate, storage_errors, warn
from app.consent import open_gate
from app.paths import data_dir
from app.storage.database import erase_set_aside, keep_set_aside, set_aside_databases
from app.storage.erase import erase_everything
from app.storage.export import ExportError, export_all
from app.storage.instance_lock import InstanceLock
from app.storage.report import build_report, format_report
from app.storage.retention import (
    CATEGORIES,
    PERIOD_LABELS,
    PERIODS,
    RetentionSettings,
    RetentionSettingsError,
)


def cmd_report(args: argparse.Namespace) -> int:
    with cli_store("data report") as store, storage_errors(), consent_gate() as gate:
        report = build_report(store, gate=gate)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_report(report), end="")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    dest = Path(args.dir)

    def progress(done: int, total: int, what: str) -> None:
        if what != "done":
            print(f"exporting {done + 1}/{total}: {what}", file=sys.stderr)

    with cli_store("data export") as store, storage_errors(), consent_gate() as gate:
        try:
            result = export_all(store, dest, gate=gate, progress=progress)
        except ExportError as err:
            raise CliError(str(err), EXIT_FAILURE if err.disk_full else EXIT_USAGE) from err
    print(f"Exported {result.meetings} meeting(s), {result.vocabulary_terms} vocabulary "
          f"term(s), consent "
          f"{'receipts' if result.receipts else 'note'} and the data report to {dest}")
    if result.damaged:
        warn(f"{len(result.damaged)} meeting(s) could not be read and are listed as "
             f"'.unreadable.txt' files: {', '.join(result.damaged)}")
        return 1
    return 0


def _erase_ledger() -> str:
    """The consent core replaces the ledger (and its key) by one whose only record says that
    everything was erased."""
    gate = open_gate()
    try:
        record = gate.record_erase(via="cli")
    finally:
        gate.close()
    return (f"the consent ledger now holds only the record that everything was erased "
            f"({record.record_id})")


def cmd_erase(args: argparse.Namespace) -> int:
    if not args.yes:
        raise CliError(
            "this erases every stored meeting, its keys, the vocabulary, settings and logs, for "
            "good. "
            "Run `candor data erase --yes` to confirm (`candor data export DIR` first keeps a "
            "copy).",
            EXIT_USAGE,
        )
    with storage_errors():
        lock = InstanceLock("`candor data erase`").acquire(wait=2.0)
        try:
            result = erase_everything(lock=lock, ledger_eraser=_erase_ledger)
        finally:
            lock.release()
    print(f"Erased {result.meetings} meeting(s), {result.vocabulary_terms} vocabulary term(s) "
          f"and {len(result.removed)} file(s); destroyed "
          f"keys: {', '.join(result.keys_destroyed) or 'none'}.")
    print(result.ledger[:1].upper() + result.ledger[1:] + ".")
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    with storage_errors():
        try:
            settings = RetentionSettings.load()
        except RetentionSettingsError as err:
            if args.category is None:
                raise
            warn(f"{err}\nReplacing them with the defaults plus your change.")
            settings = RetentionSettings()
    if args.category is not None:
        if args.period is None:
            raise CliError(f"give a period for {args.category}: {', '.join(PERIODS)}", EXIT_USAGE)
        try:
            settings = settings.with_period(args.category, args.period)
        except ValueError as err:
            raise CliError(str(err), EXIT_USAGE) from err
        settings.save()
    for category in CATEGORIES:
        period = settings.period(category)
        print(f"{category}: {period} ({PERIOD_LABELS[period]})")
    return 0


def cmd_set_aside(args: argparse.Namespace) -> int:
    """Damaged databases set aside: list them, keep them (no more reminders) or erase them."""
    home = data_dir()
    if args.action == "erase":
        if not args.yes:
            raise CliError(
                "this erases the damaged databases set aside, and any meeting still in them, "
                "for good. Run `candor data set-aside erase --yes` to confirm.", EXIT_USAGE)
        removed = erase_set_aside(home)
        print(f"Erased {len(removed)} file(s) of damaged databases set aside."
              if removed else "No damaged database is set aside.")
        return 0
    if args.action == "keep":
        kept = keep_set_aside(home)
        if kept:
            print(f"Kept {len(kept)} damaged database(s): {', '.join(str(p) for p in kept)}. "
                  "Candor no longer reminds you of them; `candor data report` still lists them "
                  "and `candor data set-aside erase --yes` removes them.")
        else:
            print("No damaged database is waiting for a decision.")
        return 0
    found = set_aside_databases(home)
    if not found:
        print("No damaged database is set aside.")
        return 0
    for path in found:
        state = "kept" if path.name.endswith(".kept") else "waiting for your decision"
        print(f"{path}  {path.stat().st_size} bytes  ({state})")
    print("`candor data set-aside keep` keeps them and stops the reminder; "
          "`candor data set-aside erase --yes` removes them.")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data", help="what Candor stores: report, export, erase, retention",
        description="Everything Candor holds on this device, and control over it.",
    )
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    p = sub.add_parser("report", help="what is stored, where, how protected, until when")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("export", help="copy everything Candor holds into a new folder")
    p.add_argument("dir", metavar="DIR", help="a new or empty folder")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("erase", help="erase all stored data and keys")
    p.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    p.set_defaults(func=cmd_erase)

    p = sub.add_parser("set-aside", help="damaged databases set aside: list, keep or erase them",
                       description="A damaged meeting database is moved aside (never deleted) "
                       "and a new one started. Candor reminds you until you decide: keep it "
                       "(for recovery; no more reminders) or erase it.")
    p.add_argument("action", nargs="?", choices=("list", "keep", "erase"), default="list")
    p.add_argument("--yes", action="store_true", help="confirm erase: this cannot be undone")
    p.set_defaults(func=cmd_set_aside)

    p = sub.add_parser("retention", help="show or set how long stored data is kept")
    p.add_argument("category", nargs="?", choices=CATEGORIES)
    p.add_argument("period", nargs="?", metavar="PERIOD", help=f"one of: {', '.join(PERIODS)}")
    p.set_defaults(func=cmd_retention)
