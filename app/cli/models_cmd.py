"""`candor models list | download NAME | use NAME [--for live|final] | bench [NAME] | delete NAME`.

The command line only shows and forwards: the catalogue, downloads, choices and the speed check
live in `app/transcription/` (catalogue.py, download.py, model_choice.py, bench.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from app.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError
from app.cli.progress import StderrPercent


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser(
        "models",
        help="speech models: list, download, choose, test speed, delete",
        description="Speech recognition models on this device. Candor ships Whisper tiny.en; "
        "more accurate ones can be downloaded (needs the model_download permission, asked each "
        "time). Live captions and saved transcripts can use different models.",
    )
    sub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    listing = sub.add_parser("list", help="known and installed models, and what each is used for")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_list)

    download = sub.add_parser(
        "download", help="download a model (resumes, checks every file's checksum)"
    )
    download.add_argument("name", metavar="NAME", help="a model name from `candor models list`")
    download.add_argument("--endpoint", metavar="URL",
                          help="a Hugging Face hub mirror to download from (default: "
                          "$HF_ENDPOINT, else https://huggingface.co)")
    download.set_defaults(func=cmd_download)

    use = sub.add_parser("use", help="choose the model for live captions and/or saved transcripts")
    use.add_argument("name", metavar="NAME|PATH",
                     help="a model from `candor models list`, or a model folder")
    use.add_argument("--for", dest="use", choices=("live", "final"),
                     help="live: live captions; final: saved transcripts (the end-of-meeting "
                     "final pass and file transcription); default: both")
    use.set_defaults(func=cmd_use)

    bench = sub.add_parser("bench", help="test a model's speed on this machine")
    bench.add_argument("name", metavar="NAME|PATH", nargs="?",
                       help="default: the model used for live captions")
    bench.add_argument("--runs", type=int, default=3, help="transcriptions of the clip (3)")
    bench.add_argument("--live", action="store_true",
                       help="also measure live captions with this model (slower)")
    bench.add_argument("--json", action="store_true", help="print JSON")
    bench.set_defaults(func=cmd_bench)

    delete = sub.add_parser("delete", help="delete a downloaded model")
    delete.add_argument("name", metavar="NAME")
    delete.set_defaults(func=cmd_delete)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _mb(value: int | None) -> str:
    return f"{value / 1e6:,.0f} MB" if value else "-"


def cmd_list(args: argparse.Namespace) -> int:
    from app.transcription.catalogue import list_catalogue
    from app.transcription.manifest import NO_PUBLISHED_FIGURE, load_manifest
    from app.transcription.model_choice import USE_TITLES, USES

    entries = list_catalogue()
    if args.json:
        print(json.dumps(_jsonable(entries), indent=2))
        return EXIT_OK
    benchmark = load_manifest().accuracy_benchmark
    print(f"  {'model':<16} {'download':>9} {'memory':>8}  {'speed':<8} {'accuracy':<8} "
          f"{'WER':<19} {'language':<12} state")
    for e in entries:
        used = " + ".join(USE_TITLES[u] for u in USES if u in e.used_for)
        state = (f"{e.installed}, {e.verification}" if e.installed else
                 "not installed" + (" (download started)" if e.partial_download else ""))
        memory = f"{e.memory_mb} MB" + ("" if e.fits_memory else "!")
        wer = (f"{e.headline_accuracy.value:g} %" if e.headline_accuracy
               else NO_PUBLISHED_FIGURE)
        print(f"{'*' if e.default else ' '} {e.name:<16} {_mb(e.download_bytes):>9} "
              f"{memory:>8}  {e.speed_class or '-':<8} {e.accuracy_class or '-':<8} "
              f"{wer:<19} {e.language or '-':<12} {state}" + (f"; used for {used}" if used else ""))
    sourced = next((e.headline_accuracy for e in entries if e.headline_accuracy), None)
    if benchmark is not None and sourced is not None:
        # one source for the column, so the figures compare; --json has every figure
        print(f"WER: published word error rate on {benchmark.dataset} (lower is better), "
              f"{sourced.source}, {sourced.url}; `--json` lists every figure with its source")
    if any(not e.fits_memory for e in entries):
        print("! more memory than is available now", file=sys.stderr)
    return EXIT_OK


class _DownloadProgress(StderrPercent):
    def progress(self, p: Any) -> None:
        what = {"listing": "asking the hub", "downloading": p.file or "",
                "verifying": f"checking {p.file}", "installing": "installing"}[p.phase]
        if p.total:
            self.show(p.fraction if p.phase != "installing" else 1.0,
                      f"{p.done / 1e6:.1f} of {p.total / 1e6:.1f} MB, {what}")


def _intact_download(name: str) -> Path | None:
    """The folder of an earlier download of `name` that still verifies, if there is one."""
    from app.transcription.models import ModelError, locate_model, verify_model

    try:
        location = locate_model(name)
        if location.origin == "downloaded" and verify_model(location):
            return location.path
    except ModelError:
        pass  # absent or damaged: download it (again)
    return None


def cmd_download(args: argparse.Namespace) -> int:
    from app.consent import open_gate
    from app.consent.purposes import MODEL_DOWNLOAD
    from app.transcription.download import DownloadError, download_model
    from app.transcription.manifest import load_manifest
    from app.transcription.memory import memory_fit

    manifest = load_manifest()
    spec = manifest.get(args.name)
    if spec is None:
        known = ", ".join(sorted(manifest.models))
        raise CliError(f"unknown model {args.name!r}; known models: {known}", EXIT_USAGE)
    installed = _intact_download(spec.name)
    if installed is not None:
        print(f"model {spec.name} is already installed and verified in {installed}; nothing was "
              f"downloaded (to fetch it again, `candor models delete {spec.name}` first)")
        return EXIT_OK
    gate = open_gate()
    try:
        gate.require(MODEL_DOWNLOAD)
        fit = memory_fit(spec)
        if not fit.fits:
            print(f"candor: note: {spec.name} needs about {fit.needed_mb} MB of memory and "
                  f"{fit.available_mb} MB is available now; it can be downloaded but not used "
                  "until enough memory is free", file=sys.stderr)
        progress = _DownloadProgress(f"downloading {spec.name}", step=5)
        try:
            result = download_model(spec, gate=gate, endpoint=args.endpoint,
                                    on_progress=progress.progress)
        except DownloadError as err:
            raise CliError(str(err), EXIT_FAILURE) from err
        finally:
            progress.close()
    finally:
        gate.close()
    print(f"model {spec.name} installed and verified in {result.path} (revision "
          f"{result.record.revision[:12]}, {result.transferred / 1e6:.1f} MB downloaded); "
          f"use it with `candor models use {spec.name} --for final`")
    return EXIT_OK


def cmd_use(args: argparse.Namespace) -> int:
    from app.transcription.model_choice import USE_TITLES, USES, choose, chosen
    from app.transcription.models import ModelError, ModelTooLarge

    uses = (args.use,) if args.use else USES
    try:
        location = choose(args.name, uses)
    except ModelTooLarge as err:
        raise CliError(str(err), EXIT_FAILURE) from err
    except ModelError as err:
        raise CliError(str(err), EXIT_USAGE) from err
    for use in USES:
        current = chosen(use)
        print(f"{USE_TITLES[use]}: {current.model}" + ("" if current.chosen else " (default)"))
    if "live" in uses and location.spec is not None and location.spec.speed_class not in \
            ("fastest", "fast"):
        print(f"candor: note: {location.name} may be too slow for live captions on this machine; "
              f"`candor models bench {location.name}` tells", file=sys.stderr)
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from app.transcription.bench import run_bench
    from app.transcription.memory import check_fits
    from app.transcription.model_choice import model_for
    from app.transcription.models import ModelError, ModelTooLarge, locate_model

    if args.runs < 1:
        raise CliError("--runs must be at least 1", EXIT_USAGE)
    try:
        location = locate_model(args.name) if args.name else model_for("live")
        check_fits(location.name, location.spec, location.path)
        result = run_bench(location, runs=args.runs, measure_live=args.live,
                           on_step=lambda text: print(f"bench: {text}", file=sys.stderr,
                                                      flush=True))
    except ModelTooLarge as err:
        raise CliError(str(err), EXIT_FAILURE) from err
    except ModelError as err:
        raise CliError(str(err), EXIT_USAGE if args.name else EXIT_FAILURE) from err
    if args.json:
        data = _jsonable(result)
        data.update(rtf_wall=result.rtf_wall, rtf_cpu=result.rtf_cpu,
                    parallelism=result.parallelism, live_cpu_load=result.live_cpu_load,
                    live_load=result.live_load, live_load_wall=result.live_load_wall,
                    machine_busy=result.machine_busy, verdict=result.verdict)
        print(json.dumps(data, indent=2))
        return EXIT_OK
    low, high = result.rtf_wall_range
    print(f"model {result.model}: {result.audio_seconds:.1f} s clip transcribed "
          f"{len(result.runs)} times")
    print(f"  real-time factor {result.rtf_wall:.3f} (wall, runs {low:.3f}-{high:.3f}; CPU "
          f"{result.rtf_cpu:.3f}); load average {result.load_average:.1f} on {result.cores} "
          f"{'core' if result.cores == 1 else 'cores'}")
    print(f"  word error rate on the clip {100 * result.wer:.1f} %; peak memory "
          f"+{result.peak_memory_mb:.0f} MB")
    how = "measured" if result.live_factor_source == "measured" else "estimated from tiny.en"
    print(f"  live captions need {result.live_cpu_load:.2f} CPU-seconds per second of speech "
          f"({how}, {result.live_factor:.1f}x a file pass); on {result.parallelism} "
          f"{'core' if result.parallelism == 1 else 'cores'} with nothing else running that "
          f"keeps the recogniser busy {result.live_load:.2f}x real time (now, in wall time: "
          f"{result.live_load_wall:.2f}x): {result.verdict}")
    if result.load_note:
        print(f"  note: {result.load_note}")
    advice = {"keeps up": "it can keep up with live captions here",
              "marginal": "live captions would come later and coarser; fine for saved "
                          "transcripts",
              "too slow": "too slow for live captions here; use it for saved transcripts "
                          f"(`candor models use {result.model} --for final`)"}
    print(f"  {advice[result.verdict]}")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    from app.transcription.catalogue import delete_model
    from app.transcription.model_choice import USE_TITLES, chosen
    from app.transcription.models import ModelError

    try:
        deleted = delete_model(args.name)
    except ModelError as err:
        raise CliError(str(err), EXIT_USAGE) from err
    what = "model" if deleted.path else "unfinished download of"
    print(f"deleted the {what} {deleted.name}")
    for use in deleted.reset:
        print(f"{USE_TITLES[use]} now use {chosen(use).model} (default)")
    return EXIT_OK
