"""The meeting timer's text: m:ss, then h:mm:ss from the first hour."""

from __future__ import annotations

from app.meeting.elapsed import elapsed_name, elapsed_text


def test_minutes_and_seconds_then_hours():
    assert elapsed_text(0) == "0:00"
    assert elapsed_text(9.99) == "0:09"
    assert elapsed_text(65) == "1:05"
    assert elapsed_text(3599.5) == "59:59"
    assert elapsed_text(3600) == "1:00:00"
    assert elapsed_text(3 * 3600 + 7 * 60 + 5) == "3:07:05"
    assert elapsed_text(-2) == "0:00", "a clock stepping back never shows a negative time"


def test_the_accessible_name_says_it_in_words():
    assert elapsed_name(1) == "Meeting time: 1 second"
    assert elapsed_name(65) == "Meeting time: 1 minute, 5 seconds"
    assert elapsed_name(3600 + 2) == "Meeting time: 1 hour, 2 seconds"
