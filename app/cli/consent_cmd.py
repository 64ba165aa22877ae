"""`candor consent …`: see, give, withdraw, verify and export consent."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError
from app.consent import PURPOSES, ConsentGate, open_gate
from app.consent.anchor import anchor_location
from app.consent.purposes import check_purpose
from app.consent.review import (
    PERIOD_LABELS,
    REVIEW_PERIODS,
    ReviewError,
    ReviewStatus,
    load_period,
    review_statuses,
    save_period,
)
from app.consent.review import keep as keep_reviewed
from app.derived_data import PRODUCING, count_derived, delete_derived


def register(subparsers: argparse._SubParsersAction) -> None:
    consent = subparsers.add_parser(
        "consent",
        help="see, give, withdraw and verify permissions",
        description="Every data use is a separate permission you give or withdraw here.",
    )
    sub = consent.add_subparsers(dest="consent_command", metavar="ACTION", required=True)

    listing = sub.add_parser("list", help="every permission and its state")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_list)

    notice = sub.add_parser("notice", help="show the notice text of a permission")
    notice.add_argument("purpose", metavar="PURPOSE", choices=PURPOSES)
    notice.set_defaults(func=cmd_notice)

    grant = sub.add_parser("grant", help="give a permission after reading its notice")
    grant.add_argument("purpose", metavar="PURPOSE", choices=PURPOSES)
    grant.add_argument(
        "--yes", action="store_true", help="give it without the prompt (you have read the notice)"
    )
    grant.set_defaults(func=cmd_grant)

    revoke = sub.add_parser("revoke", help="withdraw a permission; processing stops at once")
    revoke.add_argument("purpose", metavar="PURPOSE", choices=PURPOSES)
    revoke.add_argument(
        "--delete-data", action="store_true", help="also delete what was produced under it"
    )
    revoke.set_defaults(func=cmd_revoke)

    history = sub.add_parser("history", help="every record of the consent ledger")
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(func=cmd_history)

    verify = sub.add_parser("verify", help="check that the ledger was not changed")
    verify.set_defaults(func=cmd_verify)

    receipt = sub.add_parser("receipt", help="a JSON consent receipt (one permission or all)")
    receipt.add_argument("purpose", metavar="PURPOSE", nargs="?", choices=PURPOSES)
    receipt.add_argument("--out", type=Path, help="write to this file instead of stdout")
    receipt.add_argument(
        "--format",
        choices=("candor", "kantara"),
        default="candor",
        help="candor (default): every event and notice text; kantara: a Kantara Consent "
        "Receipt v1.1 of the permissions given now, readable by other tools",
    )
    receipt.set_defaults(func=cmd_receipt)

    review = sub.add_parser(
        "review",
        help="permissions due for review; --keep records that you looked again and kept them",
        description="A permission given longer ago than the review period (default 6 months) "
        "is due for review. Without --keep this only shows; nothing changes if you ignore it. "
        "To stop one instead, use `candor consent revoke PURPOSE`.",
    )
    # No `choices` here: argparse checks an empty list against them (and fails) before 3.12.
    review.add_argument("purposes", metavar="PURPOSE", nargs="*", help=", ".join(PURPOSES))
    review.add_argument(
        "--keep",
        action="store_true",
        help="record a review for each PURPOSE (or, without PURPOSE, for every one that is due)",
    )
    review.add_argument(
        "--every", metavar="PERIOD", choices=REVIEW_PERIODS,
        help="set the review period: " + ", ".join(REVIEW_PERIODS),
    )
    review.add_argument("--json", action="store_true", help="print JSON")
    review.set_defaults(func=cmd_review)

    fresh = sub.add_parser(
        "new-ledger", help="keep a ledger that fails verification as evidence and start anew"
    )
    fresh.add_argument("--yes", action="store_true", required=True)
    fresh.set_defaults(func=cmd_new_ledger)

    # argparse reports an unknown PURPOSE as "invalid choice" with the valid ones: exit 2.


def _gate() -> ConsentGate:
    return open_gate()


def _utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _day(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d") if moment else "never"


def _review_fields(status: ReviewStatus | None) -> dict[str, Any]:
    if status is None:
        return {"last_reviewed_at": None, "last_confirmed_at": None, "review_due_at": None,
                "review_due": False}
    return {
        "last_reviewed_at": _utc(status.last_reviewed_at),
        "last_confirmed_at": _utc(status.last_confirmed_at),
        "review_due_at": _utc(status.due_at),
        "review_due": status.due,
    }


def _review_text(status: ReviewStatus) -> str:
    confirmed = (
        f"reviewed {_day(status.last_reviewed_at)}" if status.last_reviewed_at
        else f"given {_day(status.given_at)}"
    )
    if status.due_at is None:
        return f"{confirmed}; reviews are off"
    if status.due:
        return f"{confirmed}; DUE FOR REVIEW since {_day(status.due_at)}"
    return f"{confirmed}; review due {_day(status.due_at)}"


def cmd_list(args: argparse.Namespace) -> int:
    gate = _gate()
    now = datetime.now(UTC)
    period = load_period()
    reviews: dict[str, ReviewStatus] = {s.purpose: s for s in review_statuses(gate, now, period)}
    rows: list[dict[str, Any]] = []
    for state in gate.states():
        notice = gate.notices.current(state.purpose)
        rows.append(
            {
                "id": state.purpose,
                "title": notice.title,
                "state": state.state,
                "granted": state.granted,
                "given_at": state.given_at,
                "record_id": state.record_id,
                "notice_version": notice.version,
                "given_under_version": state.notice_version,
                "summary": notice.summary,
                **_review_fields(reviews.get(state.purpose)),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        width = max(len(r["id"]) for r in rows)
        for r in rows:
            when = f"since {r['given_at'][:19].replace('T', ' ')} UTC" if r["granted"] else ""
            print(f"{r['id']:<{width}}  {r['state']:<16}  v{r['notice_version']}  {when}")
            print(f"{'':<{width}}  {r['summary']}")
            status = reviews.get(r["id"])
            if status is not None:
                print(f"{'':<{width}}  {_review_text(status)}")
        due = [s.purpose for s in reviews.values() if s.due]
        if due:
            print(f"\nDue for review ({PERIOD_LABELS[period]}): {', '.join(due)}. Keep with "
                  "`candor consent review --keep`, or withdraw with `candor consent revoke P`.")
    _warn_if_untrusted(gate)
    return EXIT_OK


def cmd_review(args: argparse.Namespace) -> int:
    for purpose in args.purposes:
        check_purpose(purpose)  # UnknownPurpose: exit 2 naming the valid ones
    if args.every:
        save_period(args.every)
        print(f"Consent review: {PERIOD_LABELS[args.every]}.", file=sys.stderr)
    gate = _gate()
    now = datetime.now(UTC)
    period = load_period()
    statuses = review_statuses(gate, now, period)
    kept: list[str] = []
    if args.keep:
        chosen = list(dict.fromkeys(args.purposes)) or [s.purpose for s in statuses if s.due]
        try:
            records = keep_reviewed(gate, chosen, via="cli")
        except ReviewError as err:
            raise CliError(str(err), EXIT_USAGE) from err
        kept = [r.purpose for r in records]
        statuses = review_statuses(gate, now, period)
    elif args.purposes:
        raise CliError(
            "give --keep to record that you reviewed and keep "
            + ", ".join(args.purposes) + "; to stop one, use `candor consent revoke PURPOSE`",
            EXIT_USAGE,
        )
    if args.json:
        print(json.dumps({
            "period": period,
            "kept": kept,
            "permissions": [
                {"id": s.purpose, "given_at": _utc(s.given_at), **_review_fields(s)}
                for s in statuses
            ],
        }, indent=2))
        _warn_if_untrusted(gate)
        return EXIT_OK
    for purpose in kept:
        print(f"Kept after review: {purpose}.")
    if not statuses:
        print("No permission is given, so there is nothing to review.")
    for s in statuses:
        print(f"{s.purpose:<20}  {_review_text(s)}")
    due = [s.purpose for s in statuses if s.due]
    if due and not args.keep:
        print(f"\n{len(due)} due for review ({PERIOD_LABELS[period]}). Keep them with "
              "`candor consent review --keep` (or name some), or withdraw one with "
              "`candor consent revoke PURPOSE`. Ignoring this changes nothing.")
    _warn_if_untrusted(gate)
    return EXIT_OK


def _warn_if_untrusted(gate: ConsentGate) -> None:
    if not gate.integrity.ok:
        print(
            "warning: the consent ledger failed verification, so every permission counts as not "
            f"given: {gate.integrity.describe()}",
            file=sys.stderr,
        )


def cmd_notice(args: argparse.Namespace) -> int:
    notice = _gate().notices.current(args.purpose)
    print(f"{notice.title} — notice version {notice.version} (sha256 {notice.sha256})\n")
    print(notice.body, end="")
    return EXIT_OK


def cmd_grant(args: argparse.Namespace) -> int:
    gate = _gate()
    notice = gate.notices.current(args.purpose)
    if gate.allowed(args.purpose):
        print(f"{args.purpose} is already given (notice version {notice.version}).")
        return EXIT_OK
    if not args.yes:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise CliError(
                f"not giving {args.purpose!r}: consent needs you to read the notice and answer. "
                f"Read it with `candor consent notice {args.purpose}`, then run "
                f"`candor consent grant {args.purpose} --yes`",
                EXIT_USAGE,
            )
        print(notice.body)
        answer = input(f"Allow '{notice.title}'? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("Not given. Nothing was recorded.")
            return EXIT_OK
    record = gate.grant(args.purpose, via="cli")
    print(f"Given: {args.purpose} (notice v{notice.version}); ledger record {record.record_id}")
    print(f"Withdraw at any time with: candor consent revoke {args.purpose}")
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace) -> int:
    gate = _gate()
    grant_ids = gate.grant_record_ids(args.purpose)
    record = gate.withdraw(args.purpose, via="cli", delete_data=args.delete_data)
    if record is None:
        print(f"{args.purpose} was not given; nothing to withdraw.")
    else:
        print(f"Withdrawn: {args.purpose}; ledger record {record.record_id}")
    if args.delete_data and args.purpose not in PRODUCING:
        print(f"{args.purpose} keeps nothing on disk, so there is nothing to delete.")
    elif args.delete_data:
        deleted = delete_derived(args.purpose, grant_ids)
        print(f"Deleted {deleted} item(s) produced under {args.purpose}.")
    elif record is not None:
        remaining = count_derived(args.purpose, grant_ids)
        if remaining:
            print(
                f"{remaining} item(s) produced under it are still kept; delete them with "
                f"`candor consent revoke {args.purpose} --delete-data`."
            )
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    gate = _gate()
    records = gate.ledger.records()
    if args.json:
        print(json.dumps([r.to_dict() for r in records], indent=2))
    else:
        for r in records:
            extra = " (deletion asked)" if r.delete_data_requested else ""
            version = f" notice v{r.notice_version}" if r.notice_version else ""
            print(
                f"#{r.seq:<4} {r.event_time[:19].replace('T', ' ')} UTC  {r.purpose:<20} "
                f"{r.state:<17} via {r.collection_method}{version}{extra}"
            )
        if not records:
            print("The consent ledger is empty: nothing has been given.")
    _warn_if_untrusted(gate)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    gate = _gate()
    result = gate.ledger.verify()
    print(result.describe())
    if result.ok and result.key_location:
        print(f"key: {result.key_location}")
        print(f"anchor (record count and last hash): {anchor_location(gate.ledger.home)}")
    return EXIT_OK if result.ok else EXIT_FAILURE


def cmd_receipt(args: argparse.Namespace) -> int:
    wanted = [args.purpose] if args.purpose else None
    receipt: dict[str, object]
    if args.format == "kantara":
        from app.consent.kantara import NothingGiven, build_kantara_receipt

        try:
            receipt = build_kantara_receipt(_gate(), wanted)
        except NothingGiven as err:
            raise CliError(str(err), EXIT_USAGE) from err
    else:
        from app.consent.receipts import build_receipt

        receipt = build_receipt(_gate(), wanted)
    text = json.dumps(receipt, indent=2, ensure_ascii=False) + "\n"
    if args.out:
        from app.storage.export import ExportError, write_text_atomic

        try:
            write_text_atomic(args.out, text)
        except ExportError as err:
            raise CliError(str(err), EXIT_FAILURE) from err
        print(f"Receipt written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_new_ledger(args: argparse.Namespace) -> int:
    from app.consent.new_ledger import LedgerTrusted, start_new_ledger
    from app.paths import data_dir

    try:
        done = start_new_ledger(data_dir(), via="cli")
    except LedgerTrusted as err:
        raise CliError(str(err), EXIT_USAGE) from err
    print(f"The old ledger could not be trusted: {done.why}")
    if done.kept:
        print(f"It is kept as evidence at {done.kept[0]}"
              + (f" (and {', '.join(str(p) for p in done.kept[1:])})" if done.kept[1:] else "")
              + ".")
    print(f"A new ledger was started ({done.path}); its first record "
          f"({done.record.record_id}) says so. Every permission is now not given.")
    return EXIT_OK
