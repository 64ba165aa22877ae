"""The status bar's sentence (what Candor is doing now) and what "Start meeting" will do, said
as sentences (plain Python)."""

from __future__ import annotations

from collections.abc import Iterable

IDLE = "Nothing is running. Candor processes nothing until you allow it, and only here."


def status_sentence(*, running: bool, ending: bool, capturing: bool, ai_activity: str,
                    muted: bool = False) -> str:
    """Never "nothing is running" while the microphone is open (issue 13, defect 4), never
    "on" while it is muted (defect 5)."""
    if running:
        mic = ("the microphone is muted" if capturing and muted
               else "the microphone is on" if capturing else "the microphone is off")
        doing = f"{ai_activity[:1].lower()}{ai_activity[1:]}" if ai_activity else \
            "nothing is transcribed"
        return f"Meeting in progress: {mic}; {doing}."
    if ending:
        return "The meeting ended. Making its final transcript on this device…"
    if ai_activity:
        return f"{ai_activity}."
    return IDLE


# What each switched-on feature does once a meeting starts, in the order it happens.
_AT_START = (
    ("microphone", "the microphone opens"),
    ("noise_suppression", "noise is removed on this device"),
    ("live_captions", "live captions run on this device"),
    ("system_audio", "the others are captioned once you confirm they were told"),
    ("save_transcript", "the transcript is kept, encrypted, on this device"),
)


def start_plan(switched_on: Iterable[str]) -> str:
    """What "Start meeting" will do with the switches as they are now (issue 13, defect 12):
    switches stay as the last meeting left them, so the next start must not surprise."""
    on = set(switched_on)
    happens = [what for feature, what in _AT_START if feature in on]
    if not happens:
        return ("Start meeting captures nothing until you switch on the microphone or the "
                "others.")
    said = happens[0] if len(happens) == 1 else ", ".join(happens[:-1]) + " and " + happens[-1]
    return f"At Start meeting: {said}."
