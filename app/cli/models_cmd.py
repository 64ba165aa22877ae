"""`candor models list [--json]` and `candor models download NAME [--url-base URL]`."""

from __future__ import annotations

import argparse
import json

from app.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError
from app.cli.progress import StderrPercent


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser(
        "models",
        help="speech models: list them, download one",
        description="Speech recognition models on this device. Candor ships Whisper tiny.en; "
        "others can be downloaded (needs the model_download permission, asked each time).",
    )
    sub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    listing = sub.add_parser("list", help="known and installed models")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_list)

    download = sub.add_parser(
        "download", help="download a model (resumes, verifies its checksums)"
    )
    download.add_argument("name", metavar="NAME", help="a model name from `candor models list`")
    download.add_argument(
        "--url-base",
        metavar="URL",
        help="fetch the files from URL/FILE instead of the manifest's address (e.g. a mirror)",
    )
    download.set_defaults(func=cmd_download)


def cmd_list(args: argparse.Namespace) -> int:
    from app.transcription.models import describe_models

    rows = describe_models()
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for row in rows:
        mark = "*" if row["default"] else " "
        where = row["installed"] or "not installed"
        size = f"{int(row['size']) / 1e6:.0f} MB" if row["size"] else "?"
        state = f", {row['verification']}" if row["verification"] else ""
        print(f"{mark} {row['name']:<12} {size:>7}  {where}{state}  {row['description']}")
    return EXIT_OK


class _DownloadProgress(StderrPercent):
    def __call__(self, done: int, total: int, current: str) -> None:  # type: ignore[override]
        self.show(done / total if total else 1.0,
                  f"{done / 1e6:.1f} of {total / 1e6:.1f} MB, {current}")


def cmd_download(args: argparse.Namespace) -> int:
    from app.consent import open_gate
    from app.transcription.download import DownloadError, download_model
    from app.transcription.manifest import load_manifest

    manifest = load_manifest()
    spec = manifest.get(args.name)
    if spec is None:
        known = ", ".join(sorted(manifest.models))
        raise CliError(f"unknown model {args.name!r}; known models: {known}", EXIT_USAGE)
    gate = open_gate()
    try:
        gate.require("model_download")
        progress = _DownloadProgress(f"downloading {spec.name}")
        try:
            path, transferred = download_model(spec, gate=gate, url_base=args.url_base,
                                               on_progress=progress)
        except DownloadError as err:
            raise CliError(str(err), EXIT_FAILURE) from err
        finally:
            progress.close()
    finally:
        gate.close()
    print(f"model {spec.name} installed and verified in {path} "
          f"({transferred / 1e6:.1f} MB downloaded)")
    return EXIT_OK
