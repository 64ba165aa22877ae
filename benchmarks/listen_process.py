"""Peak memory and CPU of a real `candor listen --system-audio` process, the final pass included.

benchmarks/meeting.py measures the engine inside the benchmark's own process, whose peak RSS
also holds the whole-file reference passes and every earlier run; a user's meeting is one
`candor` process. Here each run is that process: "You" spoken into the virtual microphone and
"Others" played by the virtual speakers (espeak-ng dev sets, generated at run time), for
`--minutes` of meeting, then the final pass. Reported per run: the child's peak RSS
(its own rusage, from wait4), its CPU-seconds per second of the run (user + system), and the
seconds from the end of the meeting to the saved-or-printed transcript, and the blocks of audio
lost on the way in per source (what `candor listen` says at the end; goal: none in 10 minutes).

Run: .venv/bin/python benchmarks/listen_process.py [--runs N] [--minutes M]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from devset import MEETING_SENTENCES, concatenate, generate  # noqa: E402

from tests.support.virtual_mic import VirtualMic  # noqa: E402

# This checkout's code, whichever virtualenv runs the benchmark (a worktree has none of its
# own): `python -m app` is `candor` (pyproject.toml's script is app.cli:main).
CANDOR = [sys.executable, "-m", "app"]
PURPOSES = ("microphone", "transcription", "system_audio")


def speech_for(minutes: float, work: Path) -> tuple[Path, Path]:
    """Two recordings of at least `minutes` each, different sentences and voices per side."""
    half = len(MEETING_SENTENCES) // 2
    you = generate(MEETING_SENTENCES[:half], work / "you", voices=("en-us", "en-gb"))
    others = generate(MEETING_SENTENCES[half:], work / "others",
                      voices=("en-us+f3", "en-gb-scotland", "en-029+f2"))
    paths = work / "you.wav", work / "others.wav"
    for utterances, path in zip((you, others), paths, strict=True):
        turn = sum(u.seconds + 0.6 for u in utterances)
        repeats = max(1, int(minutes * 60 / turn) + 1)
        concatenate(list(utterances) * repeats, path)
    return paths


def run_once(mic: VirtualMic, home: Path, you: Path, others: Path, seconds: float) -> dict:
    env = {**os.environ, **mic.env(), "CANDOR_HOME": str(home),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for purpose in PURPOSES:
        subprocess.run([*CANDOR, "consent", "grant", purpose, "--yes"], env=env, check=True,
                       capture_output=True)
    process = subprocess.Popen(
        [*CANDOR, "listen", "--json", "--system-audio", "--participants-informed",
         "--seconds", f"{seconds:.0f}"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    line = process.stderr.readline()
    while "listening" not in line:
        if not line:
            raise RuntimeError("candor listen ended before listening: " + process.stderr.read())
        line = process.stderr.readline()
    started = time.monotonic()
    players = [mic.play_system(others), mic.play(you)]
    samples: list[tuple[float, float]] = []  # (seconds since start, RSS MB)
    sampler = threading.Thread(target=_sample_rss, args=(process.pid, started, samples),
                               daemon=True)
    sampler.start()
    # The meeting ends when --seconds is up; the players are cut there. wait4 gives this one
    # process's own peak RSS and CPU (RUSAGE_CHILDREN would mix every child so far).
    assert process.stdout is not None
    stdout, stderr = [], []
    readers = [threading.Thread(target=lambda f=f, into=into: into.append(f.read()))
               for f, into in ((process.stdout, stdout), (process.stderr, stderr))]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    ended = time.monotonic()
    for reader in readers:
        reader.join()
    out, err = "".join(stdout), "".join(stderr)
    for player in players:
        player.kill()
        player.wait()
    if process.returncode != 0:
        raise RuntimeError(f"candor listen failed ({process.returncode}): {err[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    live = [mb for at, mb in samples if at < seconds]
    after = [mb for at, mb in samples if at >= seconds]
    records = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    finals = [r for r in records if r.get("type") == "final"]
    return {
        "peak_rss_mb": usage.ru_maxrss / 1024,
        # sampled every 0.5 s: the live meeting's own peak, before the final pass begins
        "live_peak_rss_mb": max(live) if live else float("nan"),
        # sampled likewise from the end of the meeting: the final pass's own peak
        "final_peak_rss_mb": max(after) if after else float("nan"),
        "cpu_cores": cpu / (ended - started),
        "wall_s": ended - started,
        "after_meeting_s": (ended - started) - seconds,
        "captions": {s: sum(1 for r in finals if r["source"] == s) for s in ("microphone",
                                                                              "system")},
        "lost_blocks": lost_blocks(err),
    }


def lost_blocks(stderr: str) -> dict[str, int]:
    found = {"microphone": 0, "system": 0}
    for count, who in re.findall(r"(\d+) blocks? of audio from (your microphone|the others)",
                                 stderr):
        found["microphone" if who == "your microphone" else "system"] += int(count)
    return found


def _sample_rss(pid: int, started: float, into: list[tuple[float, float]]) -> None:
    status = Path(f"/proc/{pid}/status")
    while True:
        try:
            text = status.read_text()
        except OSError:
            return
        for line in text.splitlines():
            if line.startswith("VmRSS:"):
                into.append((time.monotonic() - started, int(line.split()[1]) / 1024))
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=3.0, help="meeting length per run")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="candor-listen-bench-"))
    you, others = speech_for(args.minutes, work)
    seconds = args.minutes * 60
    results = []
    with VirtualMic() as mic:
        for run in range(args.runs):
            results.append({"run": run, **run_once(mic, work / f"home-{run}", you, others,
                                                   seconds)})
    load = os.getloadavg()
    print(json.dumps({"meeting_seconds": seconds, "loadavg": load, "runs": results}, indent=2))
    print(f"\n{'run':>3} {'peak MB':>8} {'live MB':>8} {'final MB':>8} {'cores':>6} "
          f"{'after s':>8} {'you':>4} {'others':>6} {'lost':>5}")
    for r in results:
        print(f"{r['run']:>3} {r['peak_rss_mb']:>8.0f} {r['live_peak_rss_mb']:>8.0f} "
              f"{r['final_peak_rss_mb']:>8.0f} {r['cpu_cores']:>6.2f} "
              f"{r['after_meeting_s']:>8.1f} {r['captions']['microphone']:>4} "
              f"{r['captions']['system']:>6} {sum(r['lost_blocks'].values()):>5}")
    cores = [r["cpu_cores"] for r in results]
    print(f"peak RSS max {max(r['peak_rss_mb'] for r in results):.0f} MB; cores "
          f"{min(cores):.2f}-{max(cores):.2f} (median {statistics.median(cores):.2f}); "
          f"load average {load[0]:.2f}")


if __name__ == "__main__":
    main()
