"""Meeting feature switches follow consent: on only with every purpose, off at a withdrawal."""

from __future__ import annotations

import pytest

from app.consent import ConsentRequired
from app.meeting.features import FeatureSwitches


def test_fresh_profile_everything_off_and_nothing_turns_on(gate):
    switches = FeatureSwitches(gate)
    assert switches.on() == frozenset()
    with pytest.raises(ConsentRequired) as caught:
        switches.turn_on("live_captions")
    assert caught.value.purposes == ["microphone", "transcription"]
    assert switches.on() == frozenset()


def test_captions_turn_the_microphone_on_and_the_microphone_takes_them_off(gate):
    gate.grant("microphone", via="test")
    gate.grant("transcription", via="test")
    switches = FeatureSwitches(gate)
    seen = []
    switches.on_change(lambda f, on: seen.append((f, on)))
    switches.turn_on("live_captions")
    assert switches.on() == {"microphone", "live_captions"}
    switches.turn_off("microphone")
    assert switches.on() == frozenset()
    assert seen == [
        ("microphone", True),
        ("live_captions", True),
        ("live_captions", False),
        ("microphone", False),
    ]


def test_withdrawal_turns_off_exactly_the_features_that_need_it(gate):
    for purpose in ("microphone", "transcription", "noise_suppression", "transcript_storage"):
        gate.grant(purpose, via="test")
    switches = FeatureSwitches(gate)
    for feature in ("live_captions", "noise_suppression", "save_transcript"):
        switches.turn_on(feature)
    gate.withdraw("transcription", via="panel")
    assert switches.on() == {"microphone", "noise_suppression", "save_transcript"}
    gate.withdraw("microphone", via="panel")
    assert switches.on() == {"save_transcript"}
