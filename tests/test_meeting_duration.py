"""A stored meeting lasts from its start to the moment its capture ended: the final pass that
follows (up to a minute on a 2-core machine) is not part of it (issue 13, defect 6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.segments import Segment
from app.storage import StoredMeetingSink, open_store
from tests.support.storage import granted_gate


def test_the_stored_end_is_when_capture_ended_not_when_the_final_pass_finished(candor_home):
    gate = granted_gate()
    with open_store() as store:
        # A 2 min 38 s meeting whose final pass finished 46 s after the microphone closed.
        started = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=158 + 46)
        sink = StoredMeetingSink(store, gate, source="window", title="Weekly sync",
                                 started=started)
        sink.on_final(Segment(0.0, 3.0, "Let us begin."))
        sink.capture_ended(at=started + timedelta(seconds=158))
        sink.capture_ended(at=started + timedelta(seconds=170))  # only the first counts
        sink.on_finished([Segment(0.0, 3.0, "Let us begin.")])
        summary = store.summary(sink.meeting_id)
        assert summary.ended is not None
        assert (summary.ended - summary.started).total_seconds() == 158
    gate.close()


def test_without_a_capture_end_the_meeting_ends_when_it_is_finished(candor_home):
    gate = granted_gate()
    with open_store() as store:
        before = datetime.now(UTC) - timedelta(seconds=1)
        sink = StoredMeetingSink(store, gate, source="window", title="File", started=before)
        sink.on_finished([Segment(0.0, 1.0, "One line.")])
        summary = store.summary(sink.meeting_id)
        assert summary.ended is not None
        assert summary.ended >= before
    gate.close()
