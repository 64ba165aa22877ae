"""How long the running meeting has lasted, as the meeting page shows it beside End meeting."""

from __future__ import annotations

import math


def elapsed_text(seconds: float) -> str:
    """m:ss under an hour, then h:mm:ss; whole seconds, never negative."""
    whole = max(0, math.floor(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def elapsed_name(seconds: float) -> str:
    """The timer's accessible name: what a screen reader says, in words."""
    whole = max(0, math.floor(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}{'' if n == 1 else 's'}"
             for n, unit in ((hours, "hour"), (minutes, "minute")) if n]
    parts.append(f"{secs} second{'' if secs == 1 else 's'}")
    return "Meeting time: " + ", ".join(parts)
