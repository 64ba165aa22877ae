"""Correcting a stored transcript (issue 12 §1): encrypted at rest, exported corrected, what was
heard kept and restorable, and `candor meetings correct` with its exit codes. Real SQLite, real
AES-GCM, the real consent ledger; raw database bytes are read the way an attacker would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.consent import ConsentRequired
from app.storage import (
    MeetingInProgress,
    UnknownMeeting,
    UnknownSegment,
    export_all,
    export_meeting,
    open_store,
)
from tests.support.storage import files_containing, granted_gate, record_meeting

CANDOR = Path(sys.executable).parent / "candor"
HEARD = ["We will ask Anna Cowalczyk about it.", "The patient takes met for me daily."]
CORRECTED = "We will ask Anna Kowalczyk about it."


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CANDOR), *args], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())


@pytest.fixture
def stored(candor_home):
    gate = granted_gate()
    store = open_store()
    mid = record_meeting(store, gate, HEARD, title="Ward round")
    yield store, mid, gate
    store.close()
    gate.close()


def test_a_correction_is_stored_encrypted_kept_with_what_was_heard_and_exported(
        stored, candor_home, tmp_path):
    store, mid, gate = stored
    change = store.correct_segment(mid, 0, CORRECTED, gate)
    assert (change.heard, change.before, change.text) == (HEARD[0], HEARD[0], CORRECTED)
    store.close()
    # neither the correction nor the heard text is anywhere on disk in the clear
    assert files_containing(candor_home, [b"Kowalczyk", b"Cowalczyk", b"met for me"]) == []

    with open_store() as reopened:
        meeting = reopened.get(mid)
        assert [s.text for s in meeting.segments] == [CORRECTED, HEARD[1]]
        assert meeting.heard == {0: HEARD[0]}
        assert export_meeting(reopened, mid, "txt").splitlines() == [CORRECTED, HEARD[1]]
        assert reopened.search("Kowalczyk").hits[0].matches[0][0] == 0
        result = export_all(reopened, tmp_path / "everything", gate=gate)
    assert result.meetings == 1
    srt = next((tmp_path / "everything" / "meetings").glob("*.srt")).read_text()
    assert CORRECTED in srt
    assert HEARD[0] not in srt
    corrections = json.loads(
        next((tmp_path / "everything" / "meetings").glob("*.corrections.json")).read_text())
    assert corrections == [{"index": 0, "start": 0.0, "end": 2.4, "heard": HEARD[0],
                            "corrected": CORRECTED}]


def test_a_second_correction_keeps_the_first_heard_text_and_restoring_undoes_them(stored):
    store, mid, gate = stored
    store.correct_segment(mid, 1, "The patient takes metformin.", gate)
    second = store.correct_segment(mid, 1, "The patient takes metformin daily.", gate)
    assert second.before == "The patient takes metformin."
    assert second.heard == HEARD[1]
    undo = store.restore_heard(mid, 1, gate)
    assert not undo.corrected
    meeting = store.get(mid)
    assert meeting.segments[1].text == HEARD[1]
    assert meeting.heard == {}


def test_an_empty_text_empties_the_segment_and_exports_leave_it_out(stored):
    store, mid, gate = stored
    store.correct_segment(mid, 1, "", gate)
    assert export_meeting(store, mid, "txt").splitlines() == [HEARD[0]]
    meeting = store.get(mid)
    assert meeting.segments[1].text == ""
    assert meeting.heard == {1: HEARD[1]}


def test_correcting_needs_transcript_storage_and_changes_nothing_without_it(stored):
    store, mid, gate = stored
    gate.withdraw("transcript_storage", via="test")
    with pytest.raises(ConsentRequired, match="transcript_storage"):
        store.correct_segment(mid, 0, CORRECTED, gate)
    assert store.get(mid).segments[0].text == HEARD[0]


def test_the_correction_is_linked_to_the_grant_in_force_so_withdraw_and_delete_finds_it(stored):
    store, mid, gate = stored
    gate.withdraw("transcript_storage", via="test")
    regrant = gate.grant("transcript_storage", via="test")
    store.correct_segment(mid, 0, CORRECTED, gate)
    assert store.produced_under([regrant.record_id]) == [mid]


def test_unknown_meeting_segment_and_a_meeting_still_recording_are_refused(stored):
    store, mid, gate = stored
    with pytest.raises(UnknownSegment, match="positions 0 to 1"):
        store.correct_segment(mid, 2, "x", gate)
    with pytest.raises(UnknownSegment):
        store.correct_segment(mid, -1, "x", gate)
    with pytest.raises(UnknownMeeting):
        store.correct_segment("0123456789ab", 0, "x", gate)
    live = record_meeting(store, gate, ["still talking"], finish=False)
    with pytest.raises(MeetingInProgress, match="still being recorded"):
        store.correct_segment(live, 0, "x", gate)


def test_cli_correct_show_and_restore(stored):
    store, mid, _gate = stored
    store.close()
    result = candor("meetings", "correct", mid[:6], "--segment", "0", "--text", CORRECTED)
    assert result.returncode == 0, result.stderr
    assert f"Corrected segment 0 of meeting {mid}." in result.stdout
    assert "Nothing was learned: 'vocabulary_learning' is not given" in result.stdout
    shown = json.loads(candor("meetings", "show", mid, "--json").stdout)
    assert shown["segments"][0] == {"index": 0, "start": 0.0, "end": 2.4, "text": CORRECTED,
                                    "final": True, "heard": HEARD[0]}
    assert "heard" not in shown["segments"][1]
    assert "(corrected)" in candor("meetings", "show", mid).stdout
    exported = candor("meetings", "export", mid, "--format", "txt").stdout
    assert exported.splitlines() == [CORRECTED, HEARD[1]]
    # emptied: still listed by show --json, so positions never shift
    assert candor("meetings", "correct", mid, "--segment", "1", "--text", "").returncode == 0
    shown = json.loads(candor("meetings", "show", mid, "--json").stdout)
    assert [s["text"] for s in shown["segments"]] == [CORRECTED, ""]
    restored = candor("meetings", "correct", mid, "--segment", "0", "--restore")
    assert "back to what was heard" in restored.stdout
    assert candor("meetings", "export", mid, "--format", "txt").stdout.splitlines() == [HEARD[0]]


def test_cli_correct_exit_codes(stored):
    store, mid, gate = stored
    store.close()
    bad_segment = candor("meetings", "correct", mid, "--segment", "7", "--text", "x")
    assert bad_segment.returncode == 2
    assert "has no segment 7 (it has positions 0 to 1)" in bad_segment.stderr
    bad_meeting = candor("meetings", "correct", "ffffffffffff", "--segment", "0", "--text", "x")
    assert bad_meeting.returncode == 2
    assert "no meeting has the id" in bad_meeting.stderr
    assert candor("meetings", "correct", mid, "--segment", "0").returncode == 2
    gate.withdraw("transcript_storage", via="test")
    refused = candor("meetings", "correct", mid, "--segment", "0", "--text", "x")
    assert refused.returncode == 3
    assert "candor consent grant transcript_storage" in refused.stderr
