"""The status bar's sentence: what Candor is doing now, said as a sentence (plain Python)."""

from __future__ import annotations

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
