"""Redacted export: planted identifiers in a stored transcript are redacted in every export
format, the stored meeting is unchanged, known names are always caught, and the typed spans let a
preview un-redact or add one. Real store, real encryption, the real command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.privacy.redact import Redactor, redact_meeting
from app.segments import FORMATS, Segment
from app.storage import open_store
from tests.support.storage import granted_gate, record_meeting

PLANTED = {
    "NAME": ["Siobhan", "Okonkwo", "Tomasz", "Kowalski", "Priya"],
    "EMAIL": ["tomasz.kowalski@northwind.com", "priya at fabrikam dot io"],
    "PHONE": ["(312) 555-0198", "+44 20 7946 0958"],
    "NUMBER": ["48213377", "4111 1111 1111 1111"],
    "URL": ["https://wingtip.com/benefits"],
}
LINES = [
    "Okay, let's start with the budget for the second quarter.",
    "Siobhan Okonkwo will send the summary to tomasz.kowalski@northwind.com tonight.",
    "Thanks, Priya. Call the supplier on (312) 555-0198 before Friday.",
    "The order number is 48213377 and the card was 4111 1111 1111 1111.",
    "Tomasz said the pricing is on https://wingtip.com/benefits now.",
    "Write to priya at fabrikam dot io or ring +44 20 7946 0958 from London.",
    "We grew to 10,000 users in 2024 and costs fell by 3.5 percent.",
]
ORDINARY = ["budget", "second", "quarter", "summary", "supplier", "pricing", "10,000", "2024",
            "3.5", "percent", "London", "Friday"]


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def stored(candor_home):
    gate = granted_gate()
    with open_store() as store:
        meeting_id = record_meeting(store, gate, LINES, title="Sync with Siobhan")
    gate.close()
    return meeting_id


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_planted_identifier_is_redacted_in_every_format(stored, fmt, tmp_path):
    out = tmp_path / f"redacted.{fmt}"
    result = candor("meetings", "export", stored, "--format", fmt, "--redact", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert ("Redacted: 4 × [NAME], 2 × [EMAIL], 2 × [PHONE], 2 × [NUMBER], 1 × [URL]"
            in result.stderr)
    text = out.read_text()
    for kind, values in PLANTED.items():
        for value in values:
            assert value not in text, f"{kind} {value!r} left in the {fmt} export"
        assert f"[{kind}]" in text
    for word in ORDINARY:
        assert word in text, f"ordinary word {word!r} lost from the {fmt} export"
    if fmt == "json":
        body = json.loads(text)
        assert body["title"] == "Sync with [NAME]"
        # "Siobhan Okonkwo" is one [NAME]: a whole name is one redaction.
        assert body["redacted"] == {"NAME": 4, "EMAIL": 2, "PHONE": 2, "NUMBER": 2, "URL": 1}
        assert [s["start"] for s in body["segments"]] == [i * 2.5 for i in range(len(LINES))]
    if fmt == "md":
        assert text.startswith("# Sync with [NAME]\n")


def test_the_stored_meeting_is_unchanged(stored):
    assert candor("meetings", "export", stored, "--format", "txt", "--redact").returncode == 0
    with open_store() as store:
        meeting = store.get(stored)
    assert [s.text for s in meeting.segments] == LINES
    assert meeting.title == "Sync with Siobhan"
    plain = candor("meetings", "export", stored, "--format", "txt")
    assert plain.stdout == "".join(f"{line}\n" for line in LINES)


def test_names_given_for_the_export_are_always_caught(stored):
    # Lower-case and an ordinary word: no cue would find it, only the known-name list.
    gate = granted_gate()
    with open_store() as store:
        other = record_meeting(store, gate, ["we asked rose baker and Rose agreed; prices rose."])
    gate.close()
    without = candor("meetings", "export", other, "--format", "txt", "--redact")
    assert "rose baker" in without.stdout
    known = candor("meetings", "export", other, "--format", "txt", "--redact",
                   "--name", "Rose Baker")
    # The whole known name in any case; one part of it alone when capitalised as a name.
    assert known.stdout == "we asked [NAME] and [NAME] agreed; prices rose.\n"
    misuse = candor("meetings", "export", other, "--format", "txt", "--name", "Rose")
    assert misuse.returncode == 2
    assert "--redact" in misuse.stderr


def test_spans_are_typed_and_a_preview_can_undo_or_add_one():
    text = "Mark said the team can email mark.lee@acme.io about order 48213377."
    redaction = Redactor(regions=("US",)).redact(text)
    assert [(s.kind, s.original) for s in redaction.spans] == [
        ("NAME", "Mark"), ("EMAIL", "mark.lee@acme.io"), ("NUMBER", "48213377")]
    for span in redaction.spans:
        assert text[span.start : span.end] == span.original
    assert redaction.text == "[NAME] said the team can email [EMAIL] about order [NUMBER]."
    number = redaction.spans[2]
    assert redaction.without(number).text == "[NAME] said the team can email [EMAIL] about " \
        "order 48213377."
    team = text.index("team")
    added = redaction.adding("NAME", team, team + 4)
    assert added.text == "[NAME] said the [NAME] can email [EMAIL] about order [NUMBER]."
    assert added.spans[1].source == "user"
    with pytest.raises(ValueError, match="inside the text"):
        redaction.adding("NAME", 0, len(text) + 1)


def test_a_redacted_meeting_keeps_times_and_counts_each_kind(stored):
    with open_store() as store:
        meeting = store.get(stored)
    redacted = redact_meeting(meeting, Redactor())
    assert [s.start for s in redacted.segments] == [s.start for s in meeting.segments]
    assert redacted.transcript.counts() == {"NAME": 4, "EMAIL": 2, "PHONE": 2, "NUMBER": 2,
                                            "URL": 1}
    index, span = redacted.transcript.spans[0]
    assert (index, span.kind, span.original) == (1, "NAME", "Siobhan Okonkwo")
    undone = redacted.transcript.with_segment(
        1, redacted.transcript.segments[1].redaction.without(span))
    assert undone.redacted_segments()[1].text == (
        "Siobhan Okonkwo will send the summary to [EMAIL] tonight.")
    assert meeting.segments[1].text == LINES[1], "the meeting itself is never changed"


def test_ordinary_talk_passes_through_untouched():
    redactor = Redactor()
    for line in ["We met at 10:30 on 2024-05-01 and spent $1,500 on 3 laptops.",
                 "Can everyone see my screen? I'll share the slides now.",
                 "Marketing wants to move the launch to the second week of June."]:
        assert redactor.redact(line).spans == ()
    assert redactor.redact_segments([Segment(0, 1, "Thanks, everyone.")]).counts()["NAME"] == 0


def test_a_tech_meeting_keeps_its_product_names_and_loses_its_people():
    redactor = Redactor(regions=("US",))
    for line in ["We deployed the new build on Kubernetes yesterday.",
                 "The Postgres replica fell behind during the backup.",
                 "Please file it in Jira, please, before the planning session.",
                 "The Grafana dashboard shows a spike, and Redis restarted twice.",
                 "Pin TensorFlow until the Kafka consumers catch up.",
                 "Log in through woodgrove.bank/login to check."]:
        kinds = [(s.kind, s.original) for s in redactor.redact(line).spans]
        assert all(kind != "NAME" for kind, _ in kinds), (line, kinds)
    assert redactor.redact("Log in through woodgrove dot bank slash login today.").text == \
        "Log in through [URL] today."
    # People beside the products are still caught: listed names, and names outside the lists
    # with a person cue (a title, a greeting, a verb people do, a name after "told").
    line = ("Ask Priya about Postgres; Dr. Okonkwo said the Kubernetes upgrade is fine, "
            "and I told Tomasz that Sarah Whitfield owns Jira.")
    assert redactor.redact(line).text == (
        "Ask [NAME] about Postgres; Dr. [NAME] said the Kubernetes upgrade is fine, "
        "and I told [NAME] that [NAME] owns Jira.")


def test_spoken_identifiers_are_caught():
    redaction = Redactor(regions=("US",)).redact(
        "call me on five five five, zero one four two, or email j dot smith at gmail dot com")
    assert redaction.text == "call me on [PHONE], or email [EMAIL]"
    assert re.search(r"\[NUMBER\]", Redactor().redact("ticket number 4821 is open").text)
    assert Redactor().redact("the reference is two two nine one five seven").text == \
        "the reference is [NUMBER]"


def test_the_benchmark_runs_on_its_sets(tmp_path):
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "redaction.py"
    result = subprocess.run([sys.executable, str(script), "--json", "--sentences", "40"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["results"]) >= {"dev", "holdout1", "holdout2", "holdout3", "holdout4"}
    assert report["results"]["holdout4"]["by_kind"]["NAME"]["planted"] > 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_identifiers_put_in_by_a_correction_are_redacted_and_the_heard_text_is_not_exported(
        candor_home, fmt, tmp_path):
    """§6: a corrected transcript. The correction (`meetings correct`) brings in a name, an
    e-mail and a phone number; the redacted export has none of them, nor the text first heard,
    and the stored meeting keeps the correction."""
    gate = granted_gate()
    with open_store() as store:
        meeting_id = record_meeting(store, gate, ["Please call me later about the invoice."],
                                    title="Invoice")
    gate.close()
    corrected = "Please call Bartholomew Quigley on (312) 555-0198 or quigley@contoso.com."
    result = candor("meetings", "correct", meeting_id, "--segment", "0", "--text", corrected)
    assert result.returncode == 0, result.stderr
    out = tmp_path / f"redacted.{fmt}"
    result = candor("meetings", "export", meeting_id, "--format", fmt, "--redact",
                    "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    for value in ("Bartholomew", "Quigley", "(312) 555-0198", "quigley@contoso.com"):
        assert value not in text, f"{value!r} left in the {fmt} export"
    for placeholder in ("[NAME]", "[PHONE]", "[EMAIL]"):
        assert placeholder in text
    assert "later about the invoice" not in text, "the export uses the correction"
    shown = candor("meetings", "show", meeting_id)
    assert "Bartholomew Quigley" in shown.stdout, "nothing is redacted in the store"
