"""How much identifying text redaction catches, and how much ordinary talk it keeps.

Goals (issue 14 §1): ≥ 98 % of e-mails, phone numbers and long numbers caught, ≥ 90 % of
people's names, ≥ 95 % of the words of an ordinary meeting kept. Five sets
(benchmarks/redaction_sets.py): `dev`, tuned on; `holdout1`, held out at first, then looked at
(its first measurement is in the issue note), so it is a second development set now;
`holdout2`, written after that, measured once as a held-out set (figure in the issue note),
then its missed classes (a possessive first name opening a sentence; "thomas at okonkwo dot
io") were fixed; `holdout3` likewise (measured once, then particles, hyphenated names and the
name-ness score were added); `holdout4`, written after the last change and never tuned on —
the figure to quote. ORDINARY_JARGON_* are engineering meetings full of product names
(issue 14's audit: "[NAME]" for Postgres); their words kept are reported as `jargon_*`.
Each kind also reports its DISTINCT values caught (a value counts only when every occurrence
of it was caught).
Without known names (the hard case: every name is found from cues); known names are always
caught and are tested in tests/redaction/.

An identifier is *caught* when every character of it lies inside a redaction (of any kind);
*typed* when that redaction has the right kind. Words kept: share of the words of the
ORDINARY_* meetings and of the shared real-speech transcripts outside any redaction.

    .venv/bin/python benchmarks/redaction.py [--json] [--seed N] [--sentences N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.privacy.redact import Redactor
from benchmarks.redaction_sets import (
    DEV,
    HOLDOUT,
    HOLDOUT2,
    HOLDOUT3,
    HOLDOUT4,
    ORDINARY_DEV,
    ORDINARY_HOLDOUT,
    ORDINARY_HOLDOUT2,
    ORDINARY_HOLDOUT3,
    ORDINARY_HOLDOUT4,
    ORDINARY_JARGON_DEV,
    ORDINARY_JARGON_HOLDOUT,
)

KIND_OF_SLOT = {"first": "NAME", "full": "NAME", "title": "NAME", "email": "EMAIL",
                "phone": "PHONE", "number": "NUMBER", "url": "URL"}
GOALS = {"EMAIL": 0.98, "PHONE": 0.98, "NUMBER": 0.98, "NAME": 0.90, "URL": None,
         "words_kept": 0.95}
SHARED_SPEECH = Path(os.environ.get(
    "CANDOR_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "speech"


@dataclass(frozen=True)
class Planted:
    kind: str
    start: int
    end: int
    text: str


def fill(template: str, pool: dict, rng: random.Random) -> tuple[str, list[Planted]]:
    out, gold = "", []
    for piece in re.split(r"(\{\w+\})", template):
        slot = piece[1:-1] if piece.startswith("{") and piece.endswith("}") else None
        if slot not in KIND_OF_SLOT:
            out += piece
            continue
        first, last = rng.choice(pool["first"]), rng.choice(pool["last"])
        if slot == "first":
            values = [(first, True)]
        elif slot == "full":
            values = [(first, True), (" ", False), (last, True)]
        elif slot == "title":
            values = [(rng.choice(pool["titles"]) + " ", False), (last, True)]
        elif slot == "email":
            form = rng.choice(pool["email"])
            # An address has no spaces or apostrophes: "de la Cruz" is "delacruz" in it.
            values = [(form.format(f=first.lower(), l=re.sub(r"[\s']", "", last.lower()),
                                   n=rng.randint(1, 99)), True)]
        else:
            values = [(rng.choice(pool[slot]), True)]
        for value, is_gold in values:
            if is_gold:
                gold.append(Planted(KIND_OF_SLOT[slot], len(out), len(out) + len(value), value))
            out += value
    return out, gold


def sentences(pool: dict, count: int, seed: int) -> list[tuple[str, list[Planted]]]:
    rng = random.Random(seed)
    return [fill(rng.choice(pool["templates"]), pool, rng) for _ in range(count)]


def recall(redactor: Redactor, planted: list[tuple[str, list[Planted]]]) -> dict:
    stats: dict[str, dict[str, int]] = {}
    missed: list[str] = []
    # A distinct value (kind, text) counts as caught only when every occurrence of it was:
    # 1000 sentences repeat a few dozen values, so the per-occurrence figure alone can hide one
    # value missed every time.
    distinct: dict[tuple[str, str], bool] = {}
    for text, gold in planted:
        spans = redactor.redact(text).spans
        for g in gold:
            row = stats.setdefault(g.kind, {"planted": 0, "caught": 0, "typed": 0})
            row["planted"] += 1
            covering = [s for s in spans if s.start < g.end and s.end > g.start]
            covered = all(any(s.start <= i < s.end for s in covering)
                          for i in range(g.start, g.end) if not text[i].isspace())
            if covered:
                row["caught"] += 1
                row["typed"] += all(s.kind == g.kind for s in covering)
            else:
                missed.append(f"{g.kind} {g.text!r} in {text!r}")
            distinct[(g.kind, g.text)] = distinct.get((g.kind, g.text), True) and covered
    for (kind, _), caught in distinct.items():
        row = stats[kind]
        row["distinct"] = row.get("distinct", 0) + 1
        row["distinct_caught"] = row.get("distinct_caught", 0) + caught
    for row in stats.values():
        row["recall"] = round(row["caught"] / row["planted"], 4)
        row["distinct_recall"] = round(row["distinct_caught"] / row["distinct"], 4)
    return {"by_kind": stats, "missed": missed}


def words_kept(redactor: Redactor, texts: list[str]) -> dict:
    total = kept = 0
    lost: list[str] = []
    for text in texts:
        spans = redactor.redact(text).spans
        for m in re.finditer(r"\w+(?:'\w+)?", text):
            total += 1
            if any(s.start < m.end() and s.end > m.start() for s in spans):
                lost.append(m.group())
            else:
                kept += 1
    return {"words": total, "kept": kept, "share": round(kept / total, 4) if total else 1.0,
            "redacted_words": lost}


def shared_transcripts() -> list[str]:
    path = SHARED_SPEECH / "transcripts.json"
    if not path.is_file():
        return []
    return [entry["text"] for entry in json.loads(path.read_text()).values()]


def run(count: int, seed: int) -> dict:
    redactor = Redactor(regions=("US", "GB"))
    cpu0 = time.process_time()
    redactor.redact("Warm-up, Sarah.")  # loads wordfreq and the name lists once
    load_cpu = time.process_time() - cpu0
    results = {}
    for name, pool, ordinary in (("holdout4", HOLDOUT4, ORDINARY_HOLDOUT4),
                                 ("holdout3", HOLDOUT3, ORDINARY_HOLDOUT3),
                                 ("holdout2", HOLDOUT2, ORDINARY_HOLDOUT2),
                                 ("holdout1", HOLDOUT, ORDINARY_HOLDOUT),
                                 ("dev", DEV, ORDINARY_DEV)):
        planted = sentences(pool, count, seed)
        cpu = time.process_time()
        r = recall(redactor, planted)
        per_sentence_ms = (time.process_time() - cpu) / len(planted) * 1000
        ordinary_texts = ordinary + (shared_transcripts() if name == "holdout4" else [])
        results[name] = {**r, "words_kept": words_kept(redactor, ordinary_texts),
                         "cpu_ms_per_sentence": round(per_sentence_ms, 3)}
    for name, texts in (("jargon_holdout", ORDINARY_JARGON_HOLDOUT),
                        ("jargon_dev", ORDINARY_JARGON_DEV)):
        results[name] = {"by_kind": {}, "missed": [], "words_kept": words_kept(redactor, texts),
                         "cpu_ms_per_sentence": 0.0}
    return {"sentences_per_set": count, "seed": seed, "load_cpu_s": round(load_cpu, 3),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "goals": GOALS, "results": results}


def table(report: dict) -> str:
    lines = [f"{'set':<9}{'kind':<7} {'planted':>7} {'caught':>7} {'recall':>7} {'typed':>7}"
             f" {'distinct':>9}  goal"]
    for name, res in report["results"].items():
        for kind in ("NAME", "EMAIL", "PHONE", "NUMBER", "URL"):
            row = res["by_kind"].get(kind)
            if not row:
                continue
            goal = GOALS[kind]
            mark = "" if goal is None else ("ok" if row["recall"] >= goal else "MISSED")
            lines.append(f"{name:<9}{kind:<7} {row['planted']:>7} {row['caught']:>7} "
                         f"{row['recall']:>7.1%} {row['typed'] / row['planted']:>7.1%} "
                         f"{row['distinct_caught']:>4}/{row['distinct']:<4}  "
                         f"{'' if goal is None else f'≥{goal:.0%} '}{mark}")
        kept = res["words_kept"]
        mark = "ok" if kept["share"] >= GOALS["words_kept"] else "MISSED"
        lines.append(f"{name:<9}words kept in ordinary meetings: {kept['kept']}/{kept['words']}"
                     f" = {kept['share']:.1%} (goal ≥95%) {mark}; "
                     f"{res['cpu_ms_per_sentence']} ms CPU per sentence")
    lines.append(f"loading the word lists: {report['load_cpu_s']} s CPU; "
                 f"peak memory {report['max_rss_mb']} MB")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--show-missed", action="store_true")
    args = parser.parse_args()
    report = run(args.sentences, args.seed)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print(table(report))
    if args.show_missed:
        for name, res in report["results"].items():
            for line in res["missed"]:
                print(f"{name} missed: {line}")
            print(f"{name} redacted ordinary words: {res['words_kept']['redacted_words']}")


if __name__ == "__main__":
    main()
