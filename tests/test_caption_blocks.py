"""Which block a live caption joins, decided without Qt (app.ui.caption_blocks)."""

from __future__ import annotations

from app.segments import Segment
from app.ui.caption_blocks import PAUSE_S, CaptionBlocks, minutes_seconds


def test_a_turn_stays_one_block_until_the_speaker_changes_or_pauses():
    model = CaptionBlocks()
    model.add_final(Segment(0.0, 2.0, "one", True, "microphone"))
    model.add_final(Segment(2.0 + PAUSE_S - 0.1, 5.0, "two", True, "microphone"))
    model.add_final(Segment(5.5, 6.0, "three", True, "system"))
    model.add_final(Segment(6.0 + PAUSE_S, 9.0, "four", True, "system"))
    assert [(b.source, b.text()) for b in model.blocks] == [
        ("microphone", "one two"), ("system", "three"), ("system", "four")]
    assert not model.add_final(Segment(9.0, 9.5, "   ", True, "system")), "no words, no block"


def test_words_in_progress_join_their_speakers_block_only():
    model = CaptionBlocks()
    model.add_final(Segment(0.0, 2.0, "one", True, "microphone"))
    model.set_partial(Segment(2.5, 3.0, "tw", False, "microphone"))
    model.set_partial(Segment(2.5, 3.0, "dr", False, "system"))
    assert model.partial_in_last_block("microphone")
    assert not model.partial_in_last_block("system")
    model.add_gap(Segment(3.0, 9.0, "", False, "microphone"))
    assert "microphone" not in model.partials, "skipped words go with the gap"
    assert model.gap_line(model.blocks[-1]) == (
        "[6 s not captioned live — it will be in the final transcript]")


def test_times_read_from_the_meetings_start():
    assert minutes_seconds(0.4) == "0:00"
    assert minutes_seconds(75.9) == "1:15"
    assert minutes_seconds(3725) == "1:02:05"
    model = CaptionBlocks()
    model.labels["system"] = "Dana"
    model.add_final(Segment(61, 62, "hello", True, "system"))
    assert model.header(model.blocks[0]) == "Dana  1:01"
