"""`candor privacy check`: each of Candor's promises checked on this machine, with evidence."""

from __future__ import annotations

import argparse
import json
import sys

from app.cli.common import EXIT_FAILURE, EXIT_OK
from app.cli.store_access import storage_errors


def cmd_check(args: argparse.Namespace) -> int:
    from app.paths import data_dir
    from app.privacy.checks import close_context, open_context, run_checks

    with storage_errors():
        context = open_context(data_dir())
    try:
        if args.os:
            print("candor: running the speech stack under strace (a few seconds)…",
                  file=sys.stderr, flush=True)
        report = run_checks(context, os_level=args.os)
    finally:
        close_context(context)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(f"Candor privacy check: {report.summary()}  ({report.data_dir})\n")
        for result in report.results:
            print(f"{'PASS' if result.passed else 'FAIL'}  {result.title}")
            for line in result.evidence:
                print(f"      {line}")
            if not result.passed and result.remedy:
                print(f"      what to do: {result.remedy}")
        if not report.ok:
            names = ", ".join(r.id for r in report.failed)
            print(f"\n{len(report.failed)} check(s) failed: {names}.")
    return EXIT_OK if report.ok else EXIT_FAILURE


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "privacy", help="check Candor's privacy promises on this machine",
        description="Each promise Candor makes, checked on this machine, with what was looked at.",
    )
    sub = parser.add_subparsers(dest="privacy_command", metavar="ACTION", required=True)
    p = sub.add_parser("check", help="run every check; exit 1 if any fails")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--os", action="store_true",
                   help="also run the speech stack under strace: no network connection, no name "
                   "lookup, no file outside the data directory (needs strace; a few seconds)")
    # It changes nothing, so it reports loose modes instead of the start-up tightening them.
    p.set_defaults(func=cmd_check, tighten=False)
