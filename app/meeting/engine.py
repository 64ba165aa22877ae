"""The one meeting engine: sources (microphone, system audio) -> live captions -> sinks, under
the consent gate. The window (through app/meeting/binding.py) and `candor listen` both run their
meetings here; the CLI simply switches its features on up front.

Guarantees, and how they are kept:
- One owner for the engine's threads. Every change (open or close a device, start or stop
  captions, the end) runs on one control thread (a single-worker executor), in the order asked;
  callers get a Future and never wait for a device or a model on their own thread, so nothing
  joins on the GUI thread. Per source, one reader thread only reads and queues copies; the
  captions workers belong to their LiveTranscriber, which the control thread starts and ends.
- One model: the live model is loaded once per meeting and shared by every source's captions;
  the final pass uses `model_for("final")` (loaded afresh, at a lowered priority, once the
  live one is released), with the learned vocabulary while `vocabulary_learning` is given;
  committed live captions are
  corrected toward it by sound alone under the same permission (app/vocabulary/captions.py).
- Storage is a sink the caller attaches (`attach`, with the meeting so far replayed) or
  detaches; each sink is isolated (app/meeting/sinks.py).
- Drain at stop: a closing device's captured audio is still read, captioned and kept.
- Gaps honoured everywhere: chunks keep their start times into the streaming policy and into
  the audio kept for the final pass, so after a drop or a mute no time slides.
- The final hand-over runs inside `gate.guard("transcription")`: a transcript made before a
  withdrawal is not handed over after it (the sinks then only learn that the meeting closed).
- A lost device pauses its source (reported once, everything before is kept); the caller
  decides whether to continue on another device (`switch_device`) or to end.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from app.audio.echo import EchoSuppressor
from app.audio.errors import DeviceLostError
from app.consent import ConsentGate, ConsentRequired, Gate
from app.consent.purposes import NOISE_SUPPRESSION, TRANSCRIPTION
from app.meeting.channel import SILENT, Channel, Hearing, Stretch
from app.meeting.participants import Participants, ParticipantsNotInformed
from app.meeting.sinks import SegmentSink, SinkSet
from app.meeting.sources import SOURCE_PURPOSE, SOURCES, Device, OpenSource, Source, open_source
from app.meeting.transcript_edits import TranscriptEdits
from app.segments import Segment
from app.transcription.engine import TranscriptionCancelled, WhisperEngine
from app.transcription.heap import PeriodicRelease, release_freed_memory
from app.transcription.live import LiveTranscriber, TranscriptionWithdrawn
from app.transcription.streaming import Caption, LagReport, StreamingConfig
from app.vocabulary.captions import CaptionVocabulary
from app.vocabulary.use import load_terms

log = logging.getLogger(__name__)

Feature = Literal["microphone", "noise_suppression", "live_captions", "system_audio"]
CaptionsState = Literal["off", "loading", "on"]
ModelUse = Literal["live", "final"]


class EngineEvents(Protocol):
    def on_caption(self, kind: str, segment: Segment) -> None:
        """`kind` "partial" or "final"; or "gap": live captions skipped `segment`'s stretch
        (empty text) to catch up; the final pass still covers it."""

    def on_state(self) -> None: ...

    def on_problem(self, kind: str, message: str) -> None: ...


class _NoEvents:
    def on_caption(self, kind: str, segment: Segment) -> None:
        pass

    def on_state(self) -> None:
        pass

    def on_problem(self, kind: str, message: str) -> None:
        pass


@dataclass(frozen=True, slots=True)
class MeetingOptions:
    # What the recogniser hears with noise suppression on. The window captions raw audio
    # (measured, benchmarks/denoise.py: tiny.en's WER was worse on denoised audio for most
    # mixtures) and shows the denoised level; `candor listen --denoise` asks for denoised.
    hearing: Hearing = "raw"
    model: Any = None  # a name, path or ModelLocation for both uses; None: model_for(use)
    language: str | None = "en"
    streaming: StreamingConfig | None = None
    # The window can start the next meeting while this one's final pass runs: that pass loads
    # its model afresh at a lowered priority so the next meeting's captions come first. Where
    # nothing runs beside it (`candor listen`), the live model makes the pass when it is the
    # same model: measured, a 3-minute two-source listen peaked at 650 MB with a fresh load,
    # 496-500 MB without.
    final_beside_next: bool = True


@dataclass
class SourceState:
    capturing: bool = False
    lost: bool = False
    captions: CaptionsState = "off"
    lag: float = 0.0
    level: tuple[float, float] = SILENT
    muted: bool = False


@dataclass
class MeetingState:
    running: bool = False
    sources: dict[Source, SourceState] = field(
        default_factory=lambda: {s: SourceState() for s in SOURCES})
    denoising: bool = False
    storing: bool = False
    stored_meeting_id: str | None = None

    # the microphone's, as the window has always read them
    @property
    def capturing(self) -> bool:
        return self.sources["microphone"].capturing

    @property
    def device_lost(self) -> bool:
        return self.sources["microphone"].lost

    @property
    def captions(self) -> CaptionsState:
        return self.sources["microphone"].captions

    @property
    def lag(self) -> float:
        return max(s.lag for s in self.sources.values())

    @property
    def level(self) -> tuple[float, float]:
        return self.sources["microphone"].level

    @property
    def others_captioned(self) -> bool:
        return self.sources["system"].captions in ("loading", "on")

    def ai_activity(self) -> str:
        doing = []
        if any(s.captions in ("loading", "on") for s in self.sources.values()):
            doing.append("transcribing")
        if self.denoising:
            doing.append("removing noise")
        if not doing:
            return ""
        return " and ".join(doing).capitalize() + " on this device"


# The final pass runs in the background, beside the next meeting's live captions (issue 13,
# defect 11): on 2 cores at equal priority it starved them (the next meeting's first caption
# came 16 s late, after the final pass). Niceness is per thread on Linux and inherited by the
# threads started from it, so the final model is loaded on the lowered control thread.
FINAL_PASS_NICENESS = 10


def _lower_this_threads_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), FINAL_PASS_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: the pass still runs
        log.debug("final pass: priority not lowered")


def _default_model(use: ModelUse, options: MeetingOptions) -> WhisperEngine:
    if options.model is not None:
        return WhisperEngine(options.model, language=options.language)
    from app.transcription.model_choice import model_for

    return WhisperEngine(model_for(use), language=options.language)


def _default_denoiser(gate: Gate) -> Any:
    from app.transcription.denoising import make_denoiser

    return make_denoiser(gate)


class MeetingEngine:
    def __init__(
        self,
        gate: ConsentGate,
        *,
        events: EngineEvents | None = None,
        options: MeetingOptions | None = None,
        title: str | None = None,
        store: Any = None,
        devices: dict[Source, Device] | None = None,
        open_source: OpenSource = open_source,
        model_factory: Callable[[ModelUse], WhisperEngine] | None = None,
        denoiser_factory: Callable[[Gate], Any] = _default_denoiser,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gate = gate
        self.events: EngineEvents = events or _NoEvents()
        self.options = options or MeetingOptions()
        self.title = title
        self.store = store  # the caller's open store, for the vocabulary (never written here)
        self.caption_vocabulary = CaptionVocabulary(
            gate, lambda: load_terms(self.gate, store=self.store))
        self.devices: dict[Source, Device] = dict(devices or {})
        self._model_factory = model_factory or (lambda use: _default_model(use, self.options))
        self._denoiser_factory = denoiser_factory
        self.clock = clock
        self.state = MeetingState()
        self.started_at: datetime | None = None
        self._t0: float | None = None
        self.sinks = SinkSet(on_failure=lambda m: self.events.on_problem("sink", m))
        self.participants = Participants(gate)
        self.channels: dict[Source, Channel] = {
            s: Channel(s, gate, open_source, meeting_time=self.elapsed,
                       on_lost=self._lost, on_ended=self._source_ended,
                       hearing=self.options.hearing)
            for s in SOURCES
        }
        # the others' echo in the microphone is removed against system audio (echo.py)
        self.echo = EchoSuppressor()
        self.channels["microphone"].echo = self.echo
        self.channels["system"].reference = self.echo
        self._control = ThreadPoolExecutor(1, thread_name_prefix="candor-meeting")
        self._lock = threading.RLock()  # finals and the sinks they were handed to
        self._release_live_memory = PeriodicRelease()
        self._abandoned = threading.Event()  # everything was erased: keep nothing (abandon)
        self._live_model: WhisperEngine | None = None
        self.finals: list[Segment] = []
        self.transcript: list[Segment] = []
        self.final_model: str | None = None  # name of the model that made the final pass
        self.final_pass_made = False
        self.written_to: Path | None = None
        self._edits: TranscriptEdits | None = None  # corrections of the ended transcript
        self._ended: Future[list[Segment]] | None = None
        self.noise_strength: str | None = None  # applied to the denoiser whenever it runs

    # -- timing --------------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Seconds since the meeting began (its timeline's 0), by this engine's clock."""
        return 0.0 if self._t0 is None else self.clock() - self._t0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> MeetingEngine:
        self.started_at = datetime.now(UTC)
        self._t0 = self.clock()
        self.state.running = True
        self.events.on_state()
        return self

    @property
    def running(self) -> bool:
        return self.state.running

    def set_feature(self, feature: Feature, on: bool) -> Future[None]:
        """Switch a feature on or off on the control thread. The Future raises what stopped it
        (ConsentRequired, an AudioError, ...), which is also reported to the events."""
        return self._submit(self._apply, feature, on)

    def require(self, *features: Feature) -> None:
        """Raise ConsentRequired naming every purpose `features` need that is not given."""
        from app.consent.purposes import FEATURE_NEEDS

        needed: list[str] = []
        for feature in features:
            needed += [p for p in FEATURE_NEEDS[feature] if p not in needed]
        self.gate.require_all(needed)

    def switch_device(self, source: Source, device: Device) -> Future[None]:
        self.devices[source] = device
        return self._submit(self._switch, source, device)

    def set_muted(self, source: Source, muted: bool) -> None:
        self.channels[source].set_muted(muted)
        self.state.sources[source].muted = muted

    def attach(self, sink: SegmentSink, *, replay: bool = True) -> None:
        """Hand this meeting's captions to `sink` from now on; with `replay`, the final
        captions so far first (keeping the transcript on mid-meeting keeps the meeting)."""
        with self._lock:
            if replay:
                for segment in self.finals:
                    sink.on_final(segment)
            self.sinks.attach(sink)

    def detach(self, sink: SegmentSink) -> None:
        self.sinks.detach(sink)

    def someone_objected(self, via: str) -> Future[int]:
        """One of the others objected to being captioned: stop captioning them at once and
        delete what was captioned from them in this meeting (live captions, stored segments,
        audio kept for the final pass); a ledger note says it happened. The Future gives how
        many captions were deleted."""
        # At once, before the control thread gets to it: nothing more of theirs is shown.
        channel = self.channels["system"]
        with self._lock:
            for stretch in channel.stretches:
                stretch.active = False
        return self._submit(self._objected, via)

    def end(self, *, final_pass: bool = True,
            on_progress: Callable[[float], None] | None = None) -> Future[list[Segment]]:
        """End the meeting on the control thread: close the sources (draining them), finish
        the captions, run the final pass per stretch and hand it to the sinks. The Future gives
        the transcript (the live captions when no final pass could be made)."""
        with self._lock:
            if self._ended is None:
                self._ended = self._submit(self._end, final_pass, on_progress)
                self._control.shutdown(wait=False)
            return self._ended

    def abandon(self) -> None:
        """Everything was erased while this meeting ended: its final pass stops at once, no
        sink is handed anything more (each is detached, so nothing reaches a store), and
        nothing of the meeting is kept in memory. Callable from any thread; never waits."""
        with self._lock:
            self._abandoned.set()
            for sink in self.sinks.members():
                self.sinks.detach(sink)
            self.finals = []
            self.transcript = []
            if self._edits is not None:  # an editor may still hold it: empty it there too
                self._edits.forget()
                self._edits = None

    @property
    def abandoned(self) -> bool:
        return self._abandoned.is_set()

    def stop(self, *, final_pass: bool = True,
             on_progress: Callable[[float], None] | None = None) -> list[Segment]:
        """`end()` and wait for it (never from a GUI thread)."""
        return self.end(final_pass=final_pass, on_progress=on_progress).result()

    @property
    def ending(self) -> bool:
        return self._ended is not None and not self._ended.done()

    @property
    def ended(self) -> bool:
        return self._ended is not None and self._ended.done()

    # -- queries -------------------------------------------------------------------------------
    @property
    def transcription_withdrawn(self) -> bool:
        return any(st.transcriber.withdrawn for ch in self.channels.values()
                   for st in ch.stretches)

    def ended_by(self, source: Source) -> str | None:
        return self.channels[source].ended_by

    def lost_blocks(self) -> dict[Source, int]:
        """Per source, the blocks of captured audio lost so far (the machine too busy to take
        them): each is a gap in the captions and in the final transcript."""
        return {source: channel.lost_blocks for source, channel in self.channels.items()}

    def source_stopped(self, source: Source) -> bool:
        """The source was open and has stopped delivering (lost, or its purpose withdrawn)."""
        channel = self.channels[source]
        return channel.lost or channel.ended_by is not None

    @property
    def live_model(self) -> WhisperEngine | None:
        return self._live_model

    def ended_transcript(self) -> list[Segment]:
        """The meeting's transcript once it ended (the live captions while it runs), as
        corrected; an emptied segment is no longer part of it."""
        return [s for s in self.transcript or self.finals if s.text]

    def transcript_edits(self) -> TranscriptEdits:
        """The ended transcript, to correct in memory (a meeting not kept: issue 12 §1).
        Raises MeetingInProgress while the meeting runs or its final pass would still replace
        the corrections."""
        from app.storage.models import MeetingInProgress

        with self._lock:
            if not self.ended or self.abandoned:
                raise MeetingInProgress(
                    "the meeting has not ended yet; correct it once its final transcript is "
                    "ready (the final pass would replace the correction)")
            if self._edits is None:
                if not self.transcript:
                    self.transcript = list(self.finals)
                self._edits = TranscriptEdits(self.transcript)
            return self._edits

    @property
    def has_unsaved_transcript(self) -> bool:
        return bool(self.transcript or self.finals) and self.written_to is None

    def save_to_file(self, path: Path) -> str:
        """Write the transcript where the user chose (format from the extension). Raises
        ExportError."""
        from app.storage.export import save_transcript

        started = self.started_at
        title = self.title or (f"Meeting {started.astimezone():%Y-%m-%d %H:%M}" if started
                               else "Meeting")
        metadata: dict[str, object] = {"source": "window", "title": title,
                                       "started": started.isoformat() if started else None}
        fmt = save_transcript(path, self.ended_transcript(), title=title, metadata=metadata)
        self.written_to = path
        return fmt

    # -- denoiser controls ---------------------------------------------------------------------
    def learn_noise(self, seconds: float = 3.0) -> bool:
        denoiser = self.channels["microphone"].denoiser
        if denoiser is None:
            return False
        denoiser.learn_next(seconds)
        return True

    def set_noise_strength(self, strength: str) -> None:
        self.noise_strength = strength
        denoiser = self.channels["microphone"].denoiser
        if denoiser is not None:
            denoiser.strength = strength

    def poll_levels(self) -> None:
        """Copy each source's level and lag into the state (the meter's timer calls this)."""
        for source, channel in self.channels.items():
            self.state.sources[source].level = channel.level if channel.capturing else SILENT

    # -- control thread ------------------------------------------------------------------------
    def _submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        try:
            return self._control.submit(fn, *args)
        except RuntimeError:  # the meeting has ended: nothing more to change
            done: Future[Any] = Future()
            done.set_result(None)
            return done

    def _apply(self, feature: Feature, on: bool) -> None:
        log.debug("meeting: %s %s", feature, "on" if on else "off")
        if not self.state.running:
            return
        try:
            if feature == "microphone":
                self._open("microphone") if on else self._close("microphone")
            elif feature == "noise_suppression":
                self._start_denoiser() if on else self._stop_denoiser()
            elif feature == "live_captions":
                self._start_captions("microphone") if on else self._stop_captions("microphone")
            elif feature == "system_audio":
                if on:
                    # checked before the device opens: nothing of theirs is captured unasked
                    self.gate.require_all([SOURCE_PURPOSE["system"], TRANSCRIPTION])
                    self.participants.require_informed()
                    self._open("system")
                    self._start_captions("system")
                else:
                    self._stop_captions("system")
                    self._close("system")
        except (ConsentRequired, ParticipantsNotInformed) as err:
            self.events.on_problem("consent", str(err))
            raise
        except Exception as err:  # shown to the user; the meeting goes on without the feature
            log.warning("%s could not start: %s", feature, type(err).__name__)
            self.events.on_problem(feature, str(err))
            raise
        finally:
            self.events.on_state()

    def _open(self, source: Source) -> None:
        channel = self.channels[source]
        if channel.capturing:
            return
        channel.open(self.devices.get(source))
        if source == "system":
            self.echo.set_active(True)
        state = self.state.sources[source]
        state.capturing, state.lost = True, False

    def _close(self, source: Source) -> None:
        channel = self.channels[source]
        if source == "system":
            self.echo.set_active(False)
        channel.close()
        log.debug("meeting: %s closed", source)
        state = self.state.sources[source]
        state.capturing, state.lost, state.level = False, False, SILENT

    def _switch(self, source: Source, device: Device) -> None:
        channel = self.channels[source]
        try:
            channel.switch_device(device)
        except Exception as err:
            self.events.on_problem("device", str(err))
            raise
        self.state.sources[source].lost = channel.lost
        self.events.on_state()

    def _start_denoiser(self) -> None:
        channel = self.channels["microphone"]
        if channel.denoiser is None:
            self.gate.require(NOISE_SUPPRESSION)
            channel.denoiser = self._denoiser_factory(self.gate)
            if self.noise_strength is not None:
                channel.denoiser.strength = self.noise_strength
            self.state.denoising = True

    def _stop_denoiser(self) -> None:
        self.channels["microphone"].close_denoiser()
        self.state.denoising = False

    def _model(self) -> WhisperEngine:
        if self._live_model is None:
            self._live_model = self._model_factory("live")
        return self._live_model

    def _start_captions(self, source: Source) -> None:
        channel = self.channels[source]
        if channel.stretch is not None:
            return
        self.gate.require_all([SOURCE_PURPOSE[source], TRANSCRIPTION])
        if source == "system":
            self.participants.require_informed()
        model = self._model()
        state = self.state.sources[source]
        offset = self.elapsed()
        holder: list[Stretch] = []

        def caption(c: Caption) -> None:
            self._caption(holder[0], c)

        def lag(report: LagReport) -> None:
            state.lag = float(report.lag)
            self._release_live_memory()  # a pass has just freed its window's buffers
            if report.gap is not None and holder[0].active:
                # Not a caption: only the live view shows it; the final pass covers it.
                start, end = report.gap
                self.events.on_caption("gap", Segment(start + offset, end + offset, "", False,
                                                      source))

        transcriber = LiveTranscriber(self.gate, model, on_caption=caption, on_lag=lag,
                                      config=self.options.streaming)
        stretch = Stretch(source, transcriber, offset, fed_until=offset)
        holder.append(stretch)
        # Audio arriving while the model loads is queued for it, not lost.
        channel.stretch = stretch
        channel.stretches.append(stretch)
        state.captions = "loading"
        self.events.on_state()
        try:
            transcriber.start()
        except BaseException:
            channel.stretch = None
            stretch.active = False
            channel.stretches.remove(stretch)
            state.captions = "off"
            raise
        if channel.stretch is stretch:
            state.captions = "on"

    def _stop_captions(self, source: Source) -> None:
        channel = self.channels[source]
        stretch, channel.stretch = channel.stretch, None
        state = self.state.sources[source]
        state.captions, state.lag = "off", 0.0
        if stretch is not None:
            stretch.active = False
            stretch.transcriber.stop()

    # -- captions (captions workers, inside gate.guard("transcription")) -----------------------
    def _caption(self, stretch: Stretch, caption: Caption) -> None:
        if not stretch.active:
            return
        segment = caption.segment
        text = segment.text
        if caption.kind == "final":
            text = self.caption_vocabulary.correct(text)
        shifted = Segment(segment.start + stretch.offset, segment.end + stretch.offset,
                          text, caption.kind == "final", stretch.source)
        with self._lock:
            if not stretch.active:
                return
            if caption.kind == "final":
                self.finals.append(shifted)
                self.sinks.final(shifted)
            else:
                self.sinks.partial(shifted)
        self.events.on_caption(caption.kind, shifted)

    def _objected(self, via: str) -> int:
        self.participants.record_objection(via)
        self._stop_captions("system")
        self._close("system")
        channel = self.channels["system"]
        for stretch in channel.stretches:
            stretch.transcriber.forget_audio()
        channel.stretches = []
        with self._lock:
            kept = [s for s in self.finals if s.source != "system"]
            gone = len(self.finals) - len(kept)
            self.finals = kept
            self.sinks.retracted("system")
        self.events.on_problem("objected", f"Captioning the others stopped; {gone} of their "
                               "caption(s) in this meeting were deleted.")
        self.events.on_state()
        return gone

    # -- sources (reader threads) --------------------------------------------------------------
    def _lost(self, source: Source, error: DeviceLostError) -> None:
        self.state.sources[source].lost = True
        if source == "microphone":
            self.events.on_problem("device_lost", str(error))
        else:
            self.events.on_problem(
                "system_lost",
                f"System audio ({error.device_name}) stopped ({error.reason}): the others are "
                "no longer heard. The microphone goes on and everything captured is kept.")
        self.events.on_state()

    def _source_ended(self, source: Source, why: str) -> None:
        if why in SOURCE_PURPOSE.values():
            log.info("%s withdrawn: the %s was closed", why, source)
        else:
            self.events.on_problem(f"{source}_ended",
                                   f"The {source} stopped delivering sound ({why}).")
        self.events.on_state()

    # -- the end -------------------------------------------------------------------------------
    def _end(self, final_pass: bool,
             on_progress: Callable[[float], None] | None) -> list[Segment]:
        self.state.running = False
        for source in SOURCES:
            self._close(source)
        self._stop_denoiser()
        self.sinks.capture_ended()  # the meeting ends now, not when the final pass does
        stretches = [st for ch in self.channels.values() for st in ch.stretches]
        for channel in self.channels.values():
            channel.stretch = None
        for source in SOURCES:
            self.state.sources[source].captions = "off"
        transcript: list[Segment] = []
        made = False
        if final_pass and stretches:
            release_freed_memory()  # what the live captions and capture freed, before the pass
            transcript, made = self._final_passes(stretches, on_progress)
        else:
            for stretch in stretches:
                stretch.active = False
                stretch.transcriber.stop()
        if self._live_model is not None:
            self._live_model.release()
        with self._lock:
            abandoned = self._abandoned.is_set()
            if abandoned:
                self.finals = []
                self.transcript = []
            else:
                self.transcript = transcript if made else list(self.finals)
        if abandoned:
            for stretch in stretches:  # audio a cancelled pass did not reach goes too
                stretch.transcriber.forget_audio()
            self.events.on_state()
            return []
        self._hand_over(transcript if made else None)
        self.events.on_state()
        return self.transcript

    def _final_passes(self, stretches: Sequence[Stretch],
                      on_progress: Callable[[float], None] | None
                      ) -> tuple[list[Segment], bool]:
        for stretch in stretches:  # the last live captions, before the live model may go:
            stretch.transcriber.stop()  # released first, the drain would load it again
        _lower_this_threads_priority()
        final_model = self._final_model()
        total = max(sum(st.seconds for st in stretches), 1e-9)
        done = 0.0
        transcript: list[Segment] = []
        made = False
        try:
            for stretch in stretches:
                share = stretch.seconds / total

                def progress(fraction: float, base: float = done, part: float = share) -> None:
                    if on_progress is not None:
                        on_progress(min(1.0, base + fraction * part))

                try:
                    if self._abandoned.is_set():
                        stretch.transcriber.stop()
                        stretch.transcriber.forget_audio()
                        return [], False
                    segments = stretch.transcriber.finish(on_progress=progress,
                                                          cancel=self._abandoned,
                                                          engine=final_model)
                    made = True
                except TranscriptionWithdrawn:
                    return [], False
                except TranscriptionCancelled:
                    if self._abandoned.is_set():
                        return [], False
                    raise
                except Exception as err:
                    log.exception("final pass failed")
                    self.events.on_problem("final_pass",
                                           f"The final transcript could not be made: {err}")
                    return [], False
                transcript += [Segment(s.start + stretch.offset, s.end + stretch.offset,
                                       s.text, True, stretch.source) for s in segments]
                done += share
        finally:
            if final_model is not self._live_model:
                final_model.release()
        self.final_model = final_model.location.name
        transcript.sort(key=lambda s: (s.start, s.end))
        return transcript, made

    def _final_model(self) -> WhisperEngine:
        live = self._live_model
        try:
            final = self._model_factory("final")
        except Exception as err:  # e.g. the chosen final model has gone: say so, use live's
            if live is None:
                raise
            self.events.on_problem("final_model",
                                   f"{err}; the final pass uses {live.location.name}")
            final = live
        if (live is not None and not self.options.final_beside_next
                and final.location.path == live.location.path):
            final = live
        elif live is not None and final is not live:
            # One model in memory at a time: the peak stays the live model's. Even the same
            # model is loaded afresh, on this lowered thread, so that its compute threads
            # yield to the next meeting's live captions.
            live.release()
            release_freed_memory()
        from app.vocabulary.use import load_bias

        final.vocabulary = load_bias(self.gate, store=self.store)
        return final

    def _hand_over(self, transcript: list[Segment] | None) -> None:
        if transcript is not None:
            try:
                with self.gate.guard(TRANSCRIPTION):
                    self.sinks.finished(transcript)
                    self.final_pass_made = True
                return
            except ConsentRequired:  # withdrawn between the pass and the hand-over
                log.info("final transcript not handed over: transcription was withdrawn")
                self.transcript = list(self.finals)
        self.sinks.closed()
