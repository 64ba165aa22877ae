"""How the window words stored data: local dates, durations, sizes and timestamps."""

from __future__ import annotations

from datetime import datetime

from app.storage import MeetingSummary


def local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def local_iso(text: str | None) -> str:
    """An ISO time from the report in local time; any other text (e.g. "never: …") as it is."""
    if not text:
        return "—"
    try:
        return local_time(datetime.fromisoformat(text))
    except ValueError:
        return text


def clock(seconds: float) -> str:
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def duration(summary: MeetingSummary) -> str:
    if summary.ended is None:
        return "in progress"
    seconds = max(0, int((summary.ended - summary.started).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"
    return text + (" (interrupted)" if summary.interrupted else "")


def title_of(summary: MeetingSummary) -> str:
    if summary.title is not None:
        return summary.title
    return f"[cannot be read: {summary.error}]"


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} bytes"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
