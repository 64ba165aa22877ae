"""How fast a model runs on this machine, and whether it can keep up with live captions here.

A speed check transcribes the clip shipped with Candor (`resources/bench/jfk.wav`, sample audio,
never the user's) a few times as a file is transcribed, and reports the real-time factor (time
taken / audio length; below 1 is faster than real time) in wall time — what the user waits,
including whatever else the machine is doing — and in CPU time of this process.

Promise: the verdict depends on the model and the machine, not on what else the machine happens
to be doing during the check. It is computed from CPU time (which other programs do not lengthen)
and the cores this process may use, never from wall time; the wall figure and the load average
are reported beside it, and a busy machine is said so.

Live captions cost more than transcribing the same audio once: while someone speaks, the
streaming policy re-transcribes its rolling buffer every 0.5 s of new audio (measured: 21 passes
over the 11 s clip); each pass encodes its window padded to 15 s (engine.WINDOW_SECONDS), where
a file pass over this one-window clip encodes Whisper's 30 s. `LIVE_COST_FACTOR` is the ratio,
measured on tiny.en by
`benchmarks/models.py`: CPU time of the streaming passes over the clip / CPU time of one file
pass over it. `rtf_cpu x factor` is the CPU-seconds live captions need per second of speech
(`run_bench(..., measure_live=True)` measures it for the model at hand). The passes run one after
another, each on the recogniser's threads, so on a machine with nothing else to do the recogniser
is busy `CPU need / min(cores, threads)` of real time (`live_load`): a lower bound, as a pass is
not perfectly parallel, but one that a loaded machine does not move.

Past 1.0 the policy does not fall apart: each pass simply covers more new audio, so passes come
every `load x 0.5 s` and a caption (two agreeing passes) appears about `2 x pass time` after the
words. The verdict follows the live-caption goals of benchmarks/live.py (latency p50 1.5 s, p95
3 s): up to 1.5 a pass takes at most ~0.8 s and captions stay within ~1.5 s ("keeps up"); up to
3.0 within ~3 s ("marginal": later, coarser captions); beyond, captions lag more than the goal
and past 8 s the policy skips audio ("too slow").

Measure with nothing else running in the process: CPU time is the process's (the recogniser
runs on CTranslate2's own threads).
"""

from __future__ import annotations

import os
import resource
import statistics
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from app.paths import resources_dir
from app.textmetrics import wer
from app.transcription.models import ModelLocation

# benchmarks/models.py on tiny.en, 2-core machine shared with other work (load 4.4-4.6; CPU time
# is robust to that), with the live passes' 15 s encoder window: over 4 runs the streaming passes
# over the 11 s clip took 7.0-7.9 times (median 7.7) the CPU of one file pass over it: 21 passes,
# 0.31-0.38 CPU-s per s of speech. (With the 30 s window it was 18.0-21.0, median 18.7.)
LIVE_COST_FACTOR = 7.7
BUSY_LOAD_PER_CORE = 1.0  # load average above the cores: other work is waiting for a CPU
KEEPS_UP_BELOW = 1.5  # live load: passes every <= 0.75 s, captions within ~1.5 s (p50 goal)
MARGINAL_BELOW = 3.0  # captions within ~3 s (the p95 goal)
FEED_SECONDS = 0.1  # audio handed to the streaming policy at a time, as capture does

Verdict = Literal["keeps up", "marginal", "too slow"]
LiveFactorSource = Literal["measured", "tiny.en"]


@dataclass(frozen=True, slots=True)
class Clip:
    name: str
    audio: np.ndarray  # 16 kHz mono float32
    reference: str

    @property
    def seconds(self) -> float:
        return len(self.audio) / 16000


@dataclass(frozen=True, slots=True)
class BenchRun:
    wall_seconds: float
    cpu_seconds: float


@dataclass(frozen=True, slots=True)
class LiveCost:
    passes: int
    audio_seconds: float
    cpu_seconds: float
    wall_seconds: float  # time spent in the passes

    @property
    def cpu_per_audio_second(self) -> float:
        return self.cpu_seconds / self.audio_seconds


@dataclass(frozen=True, slots=True)
class BenchResult:
    model: str
    path: Path
    clip: str
    audio_seconds: float
    load_cpu_seconds: float
    runs: tuple[BenchRun, ...]
    text: str
    wer: float
    live_factor: float
    live_factor_source: LiveFactorSource
    live: LiveCost | None
    peak_memory_mb: float
    load_average: float  # 1-minute load average when the check ended
    cores: int  # CPU cores this process may run on
    threads: int  # threads the recogniser ran with

    def _rtfs(self, cpu: bool) -> list[float]:
        return [(r.cpu_seconds if cpu else r.wall_seconds) / self.audio_seconds for r in self.runs]

    @property
    def rtf_wall(self) -> float:
        return statistics.median(self._rtfs(cpu=False))

    @property
    def rtf_wall_range(self) -> tuple[float, float]:
        values = self._rtfs(cpu=False)
        return min(values), max(values)

    @property
    def rtf_cpu(self) -> float:
        return statistics.median(self._rtfs(cpu=True))

    @property
    def parallelism(self) -> int:
        """Cores one pass can use at once."""
        return max(1, min(self.cores, self.threads))

    @property
    def live_cpu_load(self) -> float:
        """CPU-seconds live captions need per second of speech."""
        if self.live is not None:
            return self.live.cpu_per_audio_second
        return self.rtf_cpu * self.live_factor

    @property
    def live_load(self) -> float:
        """Share of real time the recogniser would be busy with live captions on this machine
        with nothing else running (above 1 the passes come less often than every 0.5 s)."""
        return self.live_cpu_load / self.parallelism

    @property
    def live_load_wall(self) -> float:
        """The same share in wall time as measured now, other work on the machine included."""
        if self.live is not None:
            return self.live.wall_seconds / self.live.audio_seconds
        return self.rtf_wall * self.live_factor

    @property
    def machine_busy(self) -> bool:
        return self.load_average > BUSY_LOAD_PER_CORE * self.cores

    @property
    def verdict(self) -> Verdict:
        if self.live_load < KEEPS_UP_BELOW:
            return "keeps up"
        if self.live_load < MARGINAL_BELOW:
            return "marginal"
        return "too slow"

    @property
    def load_note(self) -> str | None:
        """What a busy machine means for the figures, for the user; None when it was not busy."""
        if not self.machine_busy:
            return None
        return (f"the machine was busy while testing (load average {self.load_average:.1f} on "
                f"{self.cores} {'core' if self.cores == 1 else 'cores'}), so the wall times are "
                "longer than they would be with nothing else running; the verdict uses CPU "
                "time, which that does not change")


def available_cores() -> int:
    """Cores this process may run on (its affinity mask, e.g. under a container's CPU set)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this platform
        return 0.0


def bench_clip() -> Clip:
    folder = resources_dir() / "bench"
    with wave.open(str(folder / "jfk.wav"), "rb") as wav:
        raw = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    reference = (folder / "jfk.txt").read_text(encoding="utf-8").strip()
    return Clip("jfk.wav", raw.astype(np.float32) / 32768.0, reference)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure_live_cost(engine: object, audio: np.ndarray) -> LiveCost:
    """CPU time of live captions over `audio`, fed as capture feeds it, when the CPU keeps up
    (a pass every `step` seconds of speech), plus the closing pass."""
    from app.transcription.streaming import StreamingPolicy

    policy = StreamingPolicy(engine)  # type: ignore[arg-type]
    piece = int(FEED_SECONDS * 16000)
    began = _cpu()
    for start in range(0, len(audio), piece):
        policy.insert(audio[start : start + piece])
        policy.process()
    policy.flush()
    return LiveCost(policy.stats.passes, len(audio) / 16000, _cpu() - began,
                    sum(policy.stats.pass_seconds))


def run_bench(location: ModelLocation, *, runs: int = 3, measure_live: bool = False,
              clip: Clip | None = None,
              on_step: Callable[[str], None] | None = None,
              wall_clock: Callable[[], float] = time.perf_counter,
              load_average: Callable[[], float] = _load_average,
              cores: int | None = None) -> BenchResult:
    """Load the model (verified, memory-checked) and time `runs` file passes over the clip.

    The clock, the load average and the core count are the machine's unless given (a test
    gives a slow clock and a high load to show the verdict ignores them)."""
    from app.transcription.engine import WhisperEngine
    from app.transcription.models import default_cpu_threads

    clip = clip or bench_clip()
    step = on_step or (lambda _text: None)
    baseline = _rss_mb()
    engine = WhisperEngine(location, language=None if location.spec is None or
                           location.spec.multilingual else "en")
    step(f"loading {location.name}")
    began = _cpu()
    engine.load()
    load_cpu = _cpu() - began
    results: list[BenchRun] = []
    text = ""
    for index in range(max(1, runs)):
        step(f"run {index + 1} of {max(1, runs)}")
        cpu0, wall0 = _cpu(), wall_clock()
        segments = engine.transcribe_audio(clip.audio)
        results.append(BenchRun(wall_clock() - wall0, _cpu() - cpu0))
        text = " ".join(s.text for s in segments)
    live = None
    factor, source = LIVE_COST_FACTOR, "tiny.en"
    if measure_live:
        step("measuring the cost of live captions")
        live = measure_live_cost(engine, clip.audio)
        file_cpu = statistics.median(r.cpu_seconds for r in results) / clip.seconds
        factor, source = live.cpu_per_audio_second / file_cpu, "measured"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - baseline
    threads = engine.cpu_threads or default_cpu_threads()
    engine.release()
    return BenchResult(
        model=location.name, path=location.path, clip=clip.name, audio_seconds=clip.seconds,
        load_cpu_seconds=load_cpu, runs=tuple(results), text=text,
        wer=wer(clip.reference, text), live_factor=factor,
        live_factor_source=source,  # type: ignore[arg-type]
        live=live, peak_memory_mb=peak, load_average=load_average(),
        cores=cores or available_cores(), threads=threads,
    )
