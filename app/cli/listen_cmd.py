"""`candor listen [--seconds N] [--device ID] [--denoise] [--system-audio [--system-device ID]
[--participants-informed]] [--json]`: a headless meeting on the one meeting engine.

Live captions from the microphone (and with --system-audio from what the computer plays: the
other participants, captioned only once the user confirmed they were told) to stdout; Ctrl+C
(SIGINT) or SIGTERM ends the meeting cleanly: the last captions, then the final pass over the
whole meeting, printed and - with `transcript_storage` given - saved like a meeting from the
window. With `--json` every line is one JSON object: {"type": "partial"|"final", "text",
"start", "end", "emitted_at", "source": "microphone"|"system"} (seconds since the meeting
began; emitted_at = when printed), and the last line is {"type": "transcript", "segments":
[...]} with the final pass.

`candor data erase` in another process ends the meeting at once, like a withdrawal: the reason
on stderr, exit 3, no final pass, nothing printed or stored after it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from app.cli.common import (
    ERASED_ELSEWHERE,
    EXIT_CONSENT,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
)
from app.cli.progress import StderrPercent
from app.consent.contract import Gate
from app.consent.gate import ConsentGate
from app.segments import Segment, Source


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "listen",
        help="a headless meeting: live captions from the microphone",
        description="Run a meeting without the window: live captions from the microphone to "
        "stdout, a final transcript at the end (saved when transcript_storage is given). Needs "
        "the microphone and transcription permissions. Ctrl+C ends the meeting.",
    )
    parser.add_argument("--seconds", type=float, metavar="N",
                        help="end the meeting after N seconds (default: until Ctrl+C)")
    parser.add_argument("--device", metavar="ID",
                        help="input device number or name (see `candor devices`)")
    parser.add_argument("--denoise", action="store_true",
                        help="suppress noise before recognition (needs noise_suppression)")
    parser.add_argument("--system-audio", action="store_true",
                        help="also caption the other participants from what this computer "
                        "plays (needs system_audio, and their being told)")
    parser.add_argument("--system-device", metavar="ID",
                        help="system-audio source number or name (see `candor devices`; "
                        "default: the monitor of the default output)")
    parser.add_argument("--participants-informed", action="store_true",
                        help="confirm that the other participants were told they are captioned "
                        "(recorded in the consent ledger, no names, no content)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--model", metavar="NAME|PATH", help="speech model (default tiny.en)")
    parser.add_argument("--language", metavar="xx", default=None,
                        help="language spoken (default: English for English-only models)")
    parser.set_defaults(func=run)


class _Printer:
    """Prints captions as they come (called inside the transcription guard, so it is quick)."""

    def __init__(self, as_json: bool, elapsed: Callable[[], float]) -> None:
        self.as_json = as_json
        self.elapsed = elapsed
        self.tty = sys.stdout.isatty()
        self._partial_shown = False
        self._open_line = ""  # the caption line being continued (no sentence end yet)
        self._lock = threading.Lock()

    def _line(self, kind: str, segment: Segment) -> None:
        record = {"type": kind, "text": segment.text, "start": round(segment.start, 3),
                  "end": round(segment.end, 3), "emitted_at": round(self.elapsed(), 3),
                  "source": segment.source or "microphone"}
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def on_partial(self, segment: Segment) -> None:
        with self._lock:
            if self.as_json:
                self._line("partial", segment)
            elif self.tty:
                # redraw the open caption line with the words in progress dimmed after it
                sep = " " if self._open_line else ""
                sys.stdout.write("\r\033[2K" + self._open_line + sep + "\033[2m"
                                 + segment.text + "\033[0m")
                sys.stdout.flush()
                self._partial_shown = True

    def on_final(self, segment: Segment) -> None:
        with self._lock:
            if self.as_json:
                self._line("final", segment)
                return
            # finals continue one line until a sentence ends, so it reads like a transcript
            lead = " " if self._open_line else f"[{_clock(segment.start)}] "
            ends = segment.text.rstrip().endswith((".", "?", "!"))
            if self._partial_shown:
                sys.stdout.write("\r\033[2K" + self._open_line)
                self._partial_shown = False
            sys.stdout.write(lead + segment.text.strip() + ("\n" if ends else ""))
            self._open_line = "" if ends else self._open_line + lead + segment.text.strip()
            sys.stdout.flush()

    def on_finished(self, segments: Sequence[Segment]) -> None:
        with self._lock:
            if self.as_json:
                record = {"type": "transcript", "emitted_at": round(self.elapsed(), 3),
                          "segments": [s.to_dict() for s in segments]}
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                if self._partial_shown:
                    sys.stdout.write("\r\033[2K" + self._open_line)
                if self._open_line:
                    sys.stdout.write("\n")
                sys.stdout.write("\n--- transcript ---\n")
                for s in segments:
                    sys.stdout.write(f"[{_clock(s.start)}] {s.text}\n")
            sys.stdout.flush()


    def on_retracted(self, source: str) -> None:
        """The CLI has no objection button; printed lines cannot be taken back anyway."""

    def on_closed(self) -> None:
        with self._lock:
            if not self.as_json and (self._open_line or self._partial_shown):
                sys.stdout.write("\n")
                sys.stdout.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes):02d}:{secs:04.1f}"


def _device(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.strip().lstrip("-").isdigit() else value


def _stderr(message: str) -> None:
    print(f"candor: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from app.consent import open_gate

    if args.seconds is not None and args.seconds <= 0:
        raise CliError("--seconds must be more than 0", EXIT_USAGE)
    if (args.system_device or args.participants_informed) and not args.system_audio:
        raise CliError("--system-device and --participants-informed go with --system-audio",
                       EXIT_USAGE)
    gate = open_gate()
    try:
        needed = ["microphone", "transcription"] + (["noise_suppression"] if args.denoise else [])
        if args.system_audio:
            needed.append("system_audio")
        gate.require_all(needed)
        # a withdrawal made elsewhere (`candor consent revoke`, the window) stops us promptly
        gate.start_watching()
        return _listen(args, gate)
    finally:
        gate.close()


def _storage_sink(gate: Gate, stack: Any, engine: Any, model: str, language: str | None) -> Any:
    """The store's sink when `transcript_storage` is given; otherwise None (memory only)."""
    if not gate.allowed("transcript_storage"):
        _stderr("the transcript is not saved: transcript_storage has not been given "
                "(`candor consent grant transcript_storage`)")
        return None
    from app.cli.store_access import cli_store
    from app.storage.sink import StoredMeetingSink

    store = stack.enter_context(cli_store("listen", create=True))
    return StoredMeetingSink(store, gate, source="listen", model=model, language=language,
                             on_storage_stopped=_stderr,
                             final_model=lambda: engine.final_model)


def _listen(args: argparse.Namespace, gate: ConsentGate) -> int:
    import contextlib

    from app.audio.errors import AudioError, DeviceNotFoundError
    from app.meeting.engine import MeetingEngine, MeetingOptions
    from app.transcription.denoising import DenoiseUnavailable
    from app.transcription.engine import WhisperEngine
    from app.transcription.model_choice import model_for
    from app.transcription.models import ModelError, locate_model

    try:
        # --model is both the live and the final model; otherwise the user's choice per use
        live = locate_model(args.model) if args.model else model_for("live")
    except ModelError as err:
        raise CliError(str(err), EXIT_USAGE if args.model else EXIT_FAILURE) from err
    live_engine = WhisperEngine(live, language=args.language)

    def model_factory(use: str) -> WhisperEngine:
        if use == "live" or args.model:
            return live_engine
        return WhisperEngine(model_for("final"), language=args.language)

    stop = threading.Event()
    previous: dict[int, Any] = {}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, on_signal)
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: [signal.signal(s, h) for s, h in previous.items()])
        options = MeetingOptions(hearing="denoised" if args.denoise else "raw",
                                 language=args.language,
                                 final_beside_next=False)  # one meeting per process
        engine = MeetingEngine(gate, options=options, model_factory=model_factory,
                               devices={"microphone": _device(args.device),
                                        "system": _device(args.system_device)})
        printer = _Printer(args.json, engine.elapsed)
        # The store comes first: a caption is committed to disk before it is printed, so a hard
        # kill can never lose a caption the user already saw.
        storage = _storage_sink(gate, stack, engine, live.name, args.language)
        if storage is not None:
            engine.attach(storage)
        engine.attach(printer)
        engine.start()
        if args.system_audio:
            _confirm_participants(args, engine)
        try:
            # the model loads before the microphone opens: speech is heard once "listening"
            engine.set_feature("live_captions", True).result()
            if args.denoise:
                engine.set_feature("noise_suppression", True).result()
            engine.set_feature("microphone", True).result()
        except DeviceNotFoundError as err:
            engine.stop(final_pass=False)
            raise CliError(str(err), EXIT_USAGE) from err
        except (AudioError, ModelError, DenoiseUnavailable) as err:
            engine.stop(final_pass=False)
            raise CliError(str(err), EXIT_FAILURE) from err
        others = args.system_audio and _hear_the_others(engine, _device(args.system_device))
        _stderr("listening" + (" to you and the others" if others else "")
                + " - press Ctrl+C to end the meeting")
        told_lost = False
        deadline = None if args.seconds is None else engine.clock() + args.seconds
        while not stop.is_set():
            if deadline is not None and engine.clock() >= deadline:
                break
            if (engine.source_stopped("microphone") or engine.transcription_withdrawn
                    or gate.ended_elsewhere == "erased"):
                break
            if others and not told_lost and engine.source_stopped("system"):
                told_lost = True
                _stderr("system audio stopped: the others are no longer heard; the "
                        "microphone goes on and everything captured is kept")
            stop.wait(0.05)
        erased = gate.ended_elsewhere == "erased"
        if erased:  # said at once: stopping the threads can take a moment on a busy machine
            _stderr(f"{ERASED_ELSEWHERE}: captions stopped at once and the model is released; "
                    "nothing more is printed or stored")
        withdrawn = erased or engine.transcription_withdrawn
        # read before stop(): closing the channel clears its `lost`
        microphone_lost = engine.channels["microphone"].lost
        progress = None if args.json else StderrPercent("candor: final transcript", step=10)
        engine.stop(final_pass=not withdrawn, on_progress=progress)
        if progress is not None:
            progress.close()
        if not erased:
            _say_lost_audio(engine.lost_blocks())
        if storage is not None and storage.meeting_id and not withdrawn:
            _stderr(f"meeting saved as {storage.meeting_id}")
    ended_by = engine.ended_by("microphone")
    if erased:
        return EXIT_CONSENT
    if withdrawn or engine.transcription_withdrawn:
        _stderr("transcription was withdrawn: captions stopped and the model was released")
        return EXIT_CONSENT
    if ended_by == "microphone":
        _stderr("the microphone permission was withdrawn: the meeting ended")
        return EXIT_CONSENT
    if ended_by is not None or microphone_lost:
        lost = engine.channels["microphone"].lost_error
        why = ended_by or (lost.reason if lost is not None else "device lost")
        _stderr(f"the microphone stopped delivering sound ({why}); the meeting ended with what "
                "was captured")
        return EXIT_FAILURE
    return EXIT_OK


def _say_lost_audio(lost: dict[Source, int]) -> None:
    """Audio lost on the way in is said, never only logged: those stretches are missing from
    the captions and from the final transcript."""
    for source, blocks in lost.items():
        if blocks:
            who = "your microphone" if source == "microphone" else "the others (system audio)"
            _stderr(f"{blocks} block{'s' if blocks != 1 else ''} of audio from {who} "
                    f"{'were' if blocks != 1 else 'was'} lost: the computer was too busy to "
                    "take them, so those moments are missing from the transcript. Close other "
                    "busy programs, or turn off noise suppression")


def _confirm_participants(args: argparse.Namespace, engine: Any) -> None:
    """The others are captioned only once the user confirmed they were told (a ledger note)."""
    from app.meeting.participants import ANNOUNCEMENT

    if not args.participants_informed:
        if not sys.stdin.isatty():
            raise CliError(
                "system audio captions the other participants: tell them first (for example: "
                f'"{ANNOUNCEMENT}"), then confirm with --participants-informed', EXIT_CONSENT)
        _stderr(f'tell the other participants first, for example: "{ANNOUNCEMENT}"')
        sys.stderr.write("candor: have they been told? [y/N] ")
        sys.stderr.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            raise CliError("the others are not captioned without being told; nothing was "
                           "recorded", EXIT_CONSENT)
    engine.participants.confirm_informed(via="cli")


def _hear_the_others(engine: Any, device: int | str | None) -> bool:
    """Open system audio; when it cannot be, say why and go on with the microphone."""
    from app.audio.errors import AudioError

    try:
        engine.set_feature("system_audio", True).result()
    except AudioError as err:
        _stderr(f"{err} The meeting goes on with the microphone only.")
        return False
    return True
