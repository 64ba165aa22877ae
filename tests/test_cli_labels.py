"""`candor meetings label` and the labels in `show` and every export format, as a user runs them:
output, exit codes, and exports read back by a parser of each format."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from app.segments import Segment
from app.storage import open_store
from tests.support.storage import files_containing, granted_gate
from tests.test_cli_storage import candor
from tests.test_storage_export import parse_cues

SEGMENTS = [
    Segment(0.0, 2.0, "Shall we start with the budget?", True, "microphone"),
    Segment(2.5, 4.0, "Yes, the numbers came in this morning.", True, "system"),
    Segment(4.5, 6.0, "Thanks Priya, send them over.", True, "microphone"),
]
VOICE = re.compile(r"^<v ([^>]+)>(.*)$")


@pytest.fixture
def meeting(candor_home):
    gate = granted_gate()
    with open_store() as store:
        mid = store.begin(gate, source="window", title="Budget review", complete=SEGMENTS)
    gate.close()
    return mid


def _said(text: str) -> list[tuple[str, str]]:
    """(who, words) of each "Who: words" line."""
    return [tuple(line.split(": ", 1)) for line in text.splitlines() if ": " in line]


def test_label_renames_both_speakers_and_show_says_so(meeting, candor_home):
    result = candor("meetings", "label", meeting[:6], "--you", "Tomasz Nowak",
                    "--others", "Priya Raman")
    assert result.returncode == 0, result.stderr
    assert "'Tomasz Nowak'" in result.stdout
    assert "'Priya Raman'" in result.stdout
    shown = candor("meetings", "show", meeting)
    assert shown.returncode == 0, shown.stderr
    assert ("speakers:  microphone (You): Tomasz Nowak · system (Others): Priya Raman"
            in shown.stdout)
    assert "[00:00:02] Priya Raman: Yes, the numbers came in this morning." in shown.stdout
    body = json.loads(candor("meetings", "show", meeting, "--json").stdout)
    assert body["labels"] == {"microphone": "Tomasz Nowak", "system": "Priya Raman"}
    listed = json.loads(candor("meetings", "list", "--json").stdout)
    assert listed[0]["labels"] == body["labels"]
    # Sealed like the title: no file of the data directory holds either name.
    assert files_containing(candor_home, [b"Tomasz", b"Nowak", b"Raman"]) == []


def test_one_label_alone_and_an_empty_name_resets(meeting):
    assert candor("meetings", "label", meeting, "--others", "Priya").returncode == 0
    assert candor("meetings", "label", meeting, "--you", "Tomasz").returncode == 0
    body = json.loads(candor("meetings", "show", meeting, "--json").stdout)
    assert body["labels"] == {"microphone": "Tomasz", "system": "Priya"}
    assert candor("meetings", "label", meeting, "--others", "").returncode == 0
    body = json.loads(candor("meetings", "show", meeting, "--json").stdout)
    assert body["labels"] == {"microphone": "Tomasz", "system": "Others"}


def test_bad_label_commands_exit_2_and_say_what_to_do(meeting):
    unknown = candor("meetings", "label", "ffffffffffff", "--you", "Tomasz")
    assert unknown.returncode == 2
    assert "no meeting has the id" in unknown.stderr
    assert "candor meetings list" in unknown.stderr
    nothing = candor("meetings", "label", meeting)
    assert nothing.returncode == 2
    assert "--you NAME" in nothing.stderr
    bad = candor("meetings", "label", meeting, "--others", "<v Bob>")
    assert bad.returncode == 2
    assert "'<', '>'" in bad.stderr
    blank = candor("meetings", "label", meeting, "--you", "   ")
    assert blank.returncode == 2
    assert "blank (only spaces)" in blank.stderr
    body = json.loads(candor("meetings", "show", meeting, "--json").stdout)
    assert body["labels"] == {"microphone": "You", "system": "Others"}


@pytest.fixture
def labelled(meeting):
    assert candor("meetings", "label", meeting, "--you", "Tomasz Nowak",
                  "--others", "Priya").returncode == 0
    return meeting


def _speakers_and_text(fmt: str, text: str) -> list[tuple[str, str]]:
    """Who said what, read back the way each format is read."""
    if fmt == "json":
        body = json.loads(text)
        labels = body["labels"]
        return [(labels[s["source"]], s["text"]) for s in body["segments"]]
    if fmt == "srt":
        return [tuple(cue[2].split(": ", 1)) for cue in parse_cues(text)]
    if fmt == "vtt":
        assert text.startswith("WEBVTT\n")
        voices = [VOICE.match(cue[2]) for cue in parse_cues(text)]
        assert all(voices), "every cue is a voice span"
        return [(v.group(1), v.group(2)) for v in voices if v]
    if fmt == "md":
        return [tuple(re.sub(r"^\*\*\[[\d:]+\]\*\* ", "", line).rstrip().split(": ", 1))
                for line in text.splitlines() if line.startswith("**[")]
    return _said(text)


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt", "json", "md"])
def test_every_export_format_names_the_speakers_as_labelled(labelled, fmt):
    result = candor("meetings", "export", labelled, "--format", fmt)
    assert result.returncode == 0, result.stderr
    assert _speakers_and_text(fmt, result.stdout) == [
        ("Tomasz Nowak", "Shall we start with the budget?"),
        ("Priya", "Yes, the numbers came in this morning."),
        ("Tomasz Nowak", "Thanks Priya, send them over."),
    ]
    assert "You" not in result.stdout
    assert "Others" not in result.stdout


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt", "json", "md"])
def test_redact_replaces_labels_that_are_names_everywhere(labelled, fmt):
    result = candor("meetings", "export", labelled, "--format", fmt, "--redact")
    assert result.returncode == 0, result.stderr
    for name in ("Tomasz", "Nowak", "Priya"):
        assert name not in result.stdout, f"{name} left in the redacted {fmt} export"
    assert _speakers_and_text(fmt, result.stdout) == [
        ("[NAME]", "Shall we start with the budget?"),
        ("[NAME]", "Yes, the numbers came in this morning."),
        ("[NAME]", "Thanks [NAME], send them over."),
    ]
    # The stored meeting keeps its names.
    body = json.loads(candor("meetings", "show", labelled, "--json").stdout)
    assert body["labels"] == {"microphone": "Tomasz Nowak", "system": "Priya"}


def test_redact_keeps_the_default_labels_and_labels_that_are_not_names(meeting):
    assert candor("meetings", "label", meeting, "--others", "Sales team").returncode == 0
    result = candor("meetings", "export", meeting, "--format", "txt", "--redact")
    assert result.returncode == 0, result.stderr
    assert [who for who, _ in _said(result.stdout)] == ["You", "Sales team", "You"]


def test_a_labelled_meeting_reads_back_after_the_label_column_is_tampered_with(labelled,
                                                                               candor_home):
    # A sealed label is bound to its meeting: copying one meeting's labels onto another is
    # caught, never shown as the other meeting's names.
    gate = granted_gate()
    with open_store() as store:
        other = store.begin(gate, source="window", title="Other", complete=SEGMENTS)
    gate.close()
    raw = sqlite3.connect(candor_home / "candor.db")
    raw.execute("UPDATE meetings SET labels = (SELECT labels FROM meetings WHERE id = ?) "
                "WHERE id = ?", (labelled, other))
    raw.commit()
    raw.close()
    shown = candor("meetings", "show", other)
    assert shown.returncode != 0
    assert "Priya" not in shown.stdout + shown.stderr
