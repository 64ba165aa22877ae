"""Meeting store figures: per-segment insert latency (each its own durable transaction), database
size per hour of transcript, and the speed of opening, listing, searching, deleting and exporting
at 100 hours of stored transcripts.

Run: flock /tmp/candor-cpu.lock .venv/bin/python benchmarks/storage.py [--hours 100]
Prints one JSON object, then a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.consent import open_gate
from app.segments import Segment
from app.storage import (
    RetentionSettings,
    StoredMeetingSink,
    enforce_retention,
    export_all,
    open_store,
)
from app.storage.database import DB_NAME

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech" / "transcripts.json"
SEGMENT_SECONDS = 4.0  # a live final caption every ~4 s
SEGMENTS_PER_HOUR = int(3600 / SEGMENT_SECONDS)


def sentences() -> list[str]:
    text = " ".join(v["text"] for v in json.loads(SHARED.read_text()).values())
    words = text.split()
    # ~11 words per 4 s caption is ~165 words a minute: brisk meeting speech.
    return [" ".join(words[i : i + 11]) for i in range(0, len(words) - 11, 11)]


def hour_of_segments(lines: list[str], offset: int = 0) -> list[Segment]:
    return [
        Segment(i * SEGMENT_SECONDS, (i + 1) * SEGMENT_SECONDS - 0.2,
                lines[(i + offset) % len(lines)])
        for i in range(SEGMENTS_PER_HOUR)
    ]


def db_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.glob(f"{DB_NAME}*") if p.is_file())


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=int, default=100, help="hours of transcript stored")
    args = parser.parse_args()
    lines = sentences()
    results: dict[str, object] = {"segments_per_hour": SEGMENTS_PER_HOUR,
                                  "avg_segment_chars": round(statistics.mean(map(len, lines)), 1)}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        os.environ["CANDOR_HOME"] = str(home)
        gate = open_gate()
        for purpose in ("transcript_storage", "transcription"):
            gate.grant(purpose, via="test")
        store = open_store()

        # 1. One live hour through the sink: each final is its own durable transaction,
        #    guarded by the real consent gate.
        sink = StoredMeetingSink(store, gate, source="listen", title="Benchmark hour")
        latencies = []
        for seg in hour_of_segments(lines):
            t0 = time.perf_counter()
            sink.on_final(seg)
            latencies.append(time.perf_counter() - t0)
        latencies.sort()
        results["insert_ms"] = {
            "median": ms(statistics.median(latencies)),
            "p95": ms(latencies[int(len(latencies) * 0.95)]),
            "max": ms(latencies[-1]),
        }
        t0 = time.perf_counter()
        sink.on_finished(hour_of_segments(lines, offset=1))
        results["final_pass_replace_ms"] = ms(time.perf_counter() - t0)
        store.close()
        results["db_bytes_per_hour"] = db_bytes(home)
        plain = sum(len(s.text.encode()) for s in hour_of_segments(lines))
        results["plaintext_bytes_per_hour"] = plain

        # 2. Fill to N hours (one meeting per hour, written as final passes).
        store = open_store()
        base = datetime.now(UTC) - timedelta(days=20)
        for h in range(1, args.hours):
            mid = store.begin(gate, source="window", title=f"Meeting {h}",
                              started=base + timedelta(hours=h))
            store.replace_segments(mid, hour_of_segments(lines, offset=h), gate)
            store.finish(mid, ended=base + timedelta(hours=h + 1))
        store.close()
        results["hours_stored"] = args.hours
        results["db_bytes_total"] = db_bytes(home)

        t0 = time.perf_counter()
        store = open_store()
        results["open_ms"] = ms(time.perf_counter() - t0)  # includes quick_check + migrations
        t0 = time.perf_counter()
        listed = store.list_meetings()
        results["list_ms"] = ms(time.perf_counter() - t0)
        t0 = time.perf_counter()
        store.get(listed[0].id)
        results["get_one_hour_ms"] = ms(time.perf_counter() - t0)
        t0 = time.perf_counter()
        hits = store.search("fellow Americans")
        results["search_all_ms"] = ms(time.perf_counter() - t0)
        results["search_hits"] = len(hits)
        t0 = time.perf_counter()
        store.delete(listed[-1].id)
        results["delete_with_checkpoint_ms"] = ms(time.perf_counter() - t0)
        t0 = time.perf_counter()
        exported = export_all(store, Path(tmp) / "export", gate=gate)
        results["export_all_ms"] = ms(time.perf_counter() - t0)
        results["export_meetings"] = exported.meetings
        t0 = time.perf_counter()
        erased = enforce_retention(store, settings=RetentionSettings(transcripts="7d"))
        results["retention_erase_ms"] = ms(time.perf_counter() - t0)
        results["retention_erased"] = erased.count
        store.close()
        gate.close()

    print(json.dumps(results))
    rows = [
        ("insert one final (median / p95 / max)",
         "{median} / {p95} / {max} ms".format(**results["insert_ms"])),  # type: ignore[arg-type]
        ("replace an hour with the final pass", f"{results['final_pass_replace_ms']} ms"),
        ("database size per hour of transcript",
         f"{results['db_bytes_per_hour'] / 1024:.0f} KiB "
         f"(plain text {results['plaintext_bytes_per_hour'] / 1024:.0f} KiB)"),
        (f"database size at {args.hours} h", f"{results['db_bytes_total'] / 1e6:.1f} MB"),
        ("open (integrity check, migrate)", f"{results['open_ms']} ms"),
        ("list all meetings", f"{results['list_ms']} ms"),
        ("open one 1-hour meeting", f"{results['get_one_hour_ms']} ms"),
        (f"search all {args.hours} h", f"{results['search_all_ms']} ms"),
        ("delete a meeting + WAL checkpoint", f"{results['delete_with_checkpoint_ms']} ms"),
        (f"retention erase ({results['retention_erased']} meetings)",
         f"{results['retention_erase_ms']} ms"),
        (f"export everything ({results['export_meetings']} meetings)",
         f"{results['export_all_ms']} ms"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
