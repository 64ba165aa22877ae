"""`candor contribute preview|export`: an anonymised, aggregated, differentially private file of
correction statistics (issue 14 §2). The preview needs nothing; the export needs the single-use
`contribution` permission each time (exit 3 without it). Candor never sends the file anywhere.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError
from app.cli.store_access import cli_store, consent_gate, storage_errors
from app.consent.purposes import CONTRIBUTION


def _epsilon(args: argparse.Namespace) -> float:
    from app.contribution.release import BadEpsilon, check_epsilon

    try:
        return check_epsilon(args.epsilon)
    except BadEpsilon as err:
        raise CliError(str(err), EXIT_USAGE) from err


def _describe(contribution: object) -> list[str]:
    from app.contribution.service import Contribution

    assert isinstance(contribution, Contribution)
    doc = contribution.document
    privacy = doc["privacy"]
    assert isinstance(privacy, dict)
    lines = [
        f"Contribution file ({doc['format']}, Candor {doc['app_version']}, models: "
        f"{', '.join(doc['models']) or 'none'})",  # type: ignore[arg-type]
        f"privacy: epsilon {privacy['epsilon']:g}, delta {privacy['delta']:g}, k {privacy['k']}"
        f" (a pair needs at least {privacy['threshold_meetings']} noisy meetings to be shared)",
        f"read {contribution.meetings_read} meeting(s); {contribution.meetings_with_pairs} with "
        f"corrections to count; {contribution.pairs_before_noise} pair(s) seen in at least "
        f"{privacy['k']} meetings before the noise",
    ]
    pairs = contribution.pairs
    if not pairs:
        lines.append("No pair is frequent enough to share: the file would list none.")
    else:
        width = max(len(str(p["heard"])) for p in pairs)
        lines.append(f"{'heard':<{width}}  →  corrected  (meetings, with noise)")
        lines += [f"{p['heard']!s:<{width}}  →  {p['corrected']}  ({p['meetings']})"
                  for p in pairs]
    return lines


def cmd_preview(args: argparse.Namespace) -> int:
    from app.contribution.service import prepare

    epsilon = _epsilon(args)
    with cli_store("contribute preview") as store, storage_errors():
        contribution = prepare(store, epsilon)
    if args.json:
        print(contribution.text, end="")
        return EXIT_OK
    print("\n".join(_describe(contribution)))
    print("\n`candor contribute export FILE` writes exactly this (as JSON: `--json` shows it); "
          "Candor never sends it anywhere.")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from app.consent import ConsentRequired
    from app.contribution.service import export
    from app.storage.export import ExportError

    epsilon = _epsilon(args)
    path = Path(args.file)
    if path.is_dir():
        raise CliError(f"{path} is a folder; give a file name, e.g. {path / 'contribution.json'}",
                       EXIT_USAGE)
    with cli_store("contribute export") as store, storage_errors(), consent_gate() as gate:
        if gate is None:
            raise ConsentRequired(CONTRIBUTION, "writing a contribution file")
        try:
            contribution = export(store, path, gate, epsilon)
        except ExportError as err:
            raise CliError(str(err), EXIT_FAILURE) from err
    print(f"wrote {path}: {len(contribution.pairs)} pair(s), epsilon {epsilon:g}. Candor sent "
          "nothing; the file is yours to share or delete. The permission was used once: the "
          f"next export asks again (candor consent grant {CONTRIBUTION}).")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    from app.contribution.release import DEFAULT_EPSILON

    parser = subparsers.add_parser(
        "contribute", help="an anonymised, aggregated file of your corrections, to share",
        description=("Aggregated, differentially private statistics of your corrections (which "
                     "term the recogniser heard, what you corrected it to, in how many "
                     "meetings), for you to share if you wish. Candor never sends it."),
    )
    sub = parser.add_subparsers(dest="contribute_command", metavar="ACTION", required=True)
    eps_help = f"privacy budget (default {DEFAULT_EPSILON:g}; smaller shares less)"
    p = sub.add_parser("preview", help="show exactly what the file would hold")
    p.add_argument("--json", action="store_true", help="print the file's exact JSON")
    p.add_argument("--epsilon", default=str(DEFAULT_EPSILON), help=eps_help)
    p.set_defaults(func=cmd_preview)
    p = sub.add_parser("export", help=f"write the file (needs `{CONTRIBUTION}`, asked each time)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--epsilon", default=str(DEFAULT_EPSILON), help=eps_help)
    p.set_defaults(func=cmd_export)
