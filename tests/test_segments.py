"""Transcript formats parse back to the same cues a user saw."""

from __future__ import annotations

import json
import re

import pytest

from app.segments import Segment, render

SEGMENTS = [
    Segment(0.0, 2.5, "And so my fellow Americans,"),
    Segment(2.5, 3661.042, " ask not what your country can do for you. "),
    Segment(3661.5, 3662.0, "   "),  # blank cues are not written
]
CUE = re.compile(r"(\d\d):(\d\d):(\d\d)[,.](\d{3}) --> (\d\d):(\d\d):(\d\d)[,.](\d{3})")


def _seconds(parts: tuple[str, ...]) -> float:
    h, m, s, ms = (int(p) for p in parts)
    return h * 3600 + m * 60 + s + ms / 1000


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitle_cues_keep_timings_and_text(fmt):
    text = render(SEGMENTS, fmt)
    cues = CUE.findall(text)
    assert [(_seconds(c[:4]), _seconds(c[4:])) for c in cues] == [(0.0, 2.5), (2.5, 3661.042)]
    assert "ask not what your country can do for you." in text
    if fmt == "vtt":
        assert text.startswith("WEBVTT\n\n")
    else:
        assert text.splitlines()[0] == "1"
        assert ",042" in text


def test_json_round_trips_segments_and_metadata():
    body = json.loads(render(SEGMENTS, "json", metadata={"title": "Standup"}))
    assert body["title"] == "Standup"
    assert [Segment(**s) for s in body["segments"]] == SEGMENTS[:2]


def test_txt_and_markdown_have_one_line_per_cue():
    assert render(SEGMENTS, "txt").splitlines() == [
        "And so my fellow Americans,",
        "ask not what your country can do for you.",
    ]
    md = render(SEGMENTS, "md", title="Standup")
    assert md.startswith("# Standup\n")
    assert "**[00:00:02]** ask not" in md


def test_unknown_format_names_the_choices():
    with pytest.raises(ValueError, match="txt, srt, vtt, json, md"):
        render(SEGMENTS, "docx")
