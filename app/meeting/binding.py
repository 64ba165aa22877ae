"""The window's meeting: its feature switches drive one MeetingEngine, and "Keep transcript"
attaches (or detaches) the store's sink.

Plain Python; the Qt controller (app/ui/meeting_controller.py) only adapts events to signals.
A switch flipped on the GUI thread only queues the change on the engine's control thread. A
feature that could not start is reported by the engine and switched off again here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from app.consent import ConsentGate
from app.meeting.engine import EngineEvents, Feature, MeetingEngine
from app.meeting.features import (
    LIVE_CAPTIONS,
    MICROPHONE,
    NOISE_SUPPRESSION,
    SAVE_TRANSCRIPT,
    SYSTEM_AUDIO,
    FeatureSwitches,
)
from app.meeting.participants import ANNOUNCEMENT
from app.meeting.transcript_edits import TranscriptEdits
from app.segments import Segment

log = logging.getLogger(__name__)

_ENGINE_FEATURES: dict[str, Feature] = {
    MICROPHONE: "microphone",
    NOISE_SUPPRESSION: "noise_suppression",
    LIVE_CAPTIONS: "live_captions",
    SYSTEM_AUDIO: "system_audio",
}


class WindowMeeting:
    """One meeting of the window (the engine, its switches, and whether it was kept)."""

    def __init__(self, gate: ConsentGate, switches: FeatureSwitches, events: EngineEvents, *,
                 store: Any = None, title: str | None = None,
                 engine_factory: Callable[..., MeetingEngine] = MeetingEngine,
                 **engine_args: Any) -> None:
        self.gate = gate
        self.switches = switches
        self.events = events
        self.store = store
        self.engine = engine_factory(gate, events=events, title=title, store=store,
                                     **engine_args)
        self._sink: Any = None
        self._unsubscribe: Callable[[], None] | None = None
        self.saved = False

    # the parts of the engine the window reads
    @property
    def state(self) -> Any:
        return self.engine.state

    @property
    def title(self) -> str | None:
        return self.engine.title

    def start(self) -> None:
        self.engine.start()
        self._unsubscribe = self.switches.on_change(self._changed)
        for feature in (MICROPHONE, NOISE_SUPPRESSION, SAVE_TRANSCRIPT, LIVE_CAPTIONS,
                        SYSTEM_AUDIO):
            if self.switches.is_on(feature):
                self._changed(feature, True)

    def end(self, *, final_pass: bool = True,
            on_progress: Callable[[float], None] | None = None) -> Future[list[Segment]]:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        ended = self.engine.end(final_pass=final_pass, on_progress=on_progress)
        ended.add_done_callback(self._ended)
        return ended

    def _ended(self, _done: Future[list[Segment]]) -> None:
        sink = self._sink
        self.saved = (sink is not None and sink.meeting_id is not None
                      and not getattr(sink, "erased_at_end", False))
        self.state.storing = False

    def abandon(self) -> None:
        """Everything was erased while this meeting ended: its final pass stops, nothing more
        reaches the store (the stored meeting no longer counts as being recorded there) and
        nothing of it is kept in memory."""
        self.engine.abandon()
        sink, self._sink = self._sink, None
        if sink is not None and self.store is not None and sink.meeting_id is not None:
            self.store.forget_active(sink.meeting_id)
        self.saved = False
        self.state.storing = False
        self.state.stored_meeting_id = None

    @property
    def stored_meeting_id(self) -> str | None:
        sink = self._sink
        return None if sink is None else sink.meeting_id

    def save_to_file(self, path: Any) -> str:
        return self.engine.save_to_file(path)

    def ended_transcript(self) -> list[Segment]:
        return self.engine.ended_transcript()

    def transcript_edits(self) -> TranscriptEdits:
        """The ended transcript held in memory, to correct (MeetingInProgress until ended)."""
        return self.engine.transcript_edits()

    @property
    def has_unsaved_transcript(self) -> bool:
        return self.engine.has_unsaved_transcript and not self.saved

    def _changed(self, feature: str, on: bool) -> None:
        if not self.engine.running:
            return
        if feature == SAVE_TRANSCRIPT:
            self._keep(on)
            self.events.on_state()
            return
        engine_feature = _ENGINE_FEATURES.get(feature)
        if engine_feature is None:
            return
        if feature == SYSTEM_AUDIO and on and not self.engine.participants.informed:
            # the switch stays on, waiting for the user's confirmation (confirm_participants)
            self.events.on_problem("participants", ANNOUNCEMENT)
            return
        done = self.engine.set_feature(engine_feature, on)

        def failed(future: Future[None], feature: str = feature) -> None:
            if on and future.exception() is not None:
                # off again, from this worker: the listener runs on the GUI thread by signal
                threading.Thread(target=self.switches.turn_off, args=(feature,),
                                 daemon=True).start()

        done.add_done_callback(failed)

    def confirm_participants(self) -> None:
        """The user confirmed the others were told (ledger note); hear them if switched on."""
        self.engine.participants.confirm_informed(via="meeting_view")
        if self.switches.is_on(SYSTEM_AUDIO):
            self._changed(SYSTEM_AUDIO, True)

    def someone_objected(self) -> Future[int]:
        done = self.engine.someone_objected(via="meeting_view")
        threading.Thread(target=self.switches.turn_off, args=(SYSTEM_AUDIO,), daemon=True).start()
        return done

    def _keep(self, on: bool) -> None:
        if on:
            if self._sink is not None or self.store is None:
                return
            from app.storage import StoredMeetingSink

            engine = self.engine
            model = engine.live_model.location.name if engine.live_model else None
            try:
                sink = StoredMeetingSink(
                    self.store, self.gate, source="window", title=engine.title,
                    device=engine.channels["microphone"].device_name,
                    model=model or "tiny.en", language="en", started=engine.started_at,
                    on_storage_stopped=lambda m: self.events.on_problem("storage", m),
                    final_model=lambda: engine.final_model,
                )
            except Exception as err:
                self.events.on_problem(SAVE_TRANSCRIPT, str(err))
                threading.Thread(target=self.switches.turn_off, args=(SAVE_TRANSCRIPT,),
                                 daemon=True).start()
                return
            self._sink = sink
            engine.attach(sink, replay=True)
            self.state.storing = True
            self.state.stored_meeting_id = sink.meeting_id
        else:
            sink, self._sink = self._sink, None
            self.state.storing = False
            if sink is None:
                return
            self.engine.detach(sink)
            if sink.meeting_id is not None and self.store is not None:
                # "Keep transcript" off: this meeting is not kept; its text stays in memory.
                self.store.delete(sink.meeting_id)
                self.state.stored_meeting_id = None
