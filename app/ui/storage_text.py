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


def span(seconds: float) -> str:
    """A length as people say it: "10 s", "2 min 38 s", "12 min", "1 h 35 min"."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def duration(summary: MeetingSummary) -> str:
    if summary.ended is None:
        return "in progress"
    text = span((summary.ended - summary.started).total_seconds())
    return text + (" (interrupted)" if summary.interrupted else "")


def short_date(moment: datetime) -> str:
    """ "1 Dec" this year, "1 Dec 2025" otherwise."""
    local = moment.astimezone()
    text = f"{local.day} {local:%b}"
    return text if local.year == datetime.now().year else f"{text} {local.year}"


def default_title(started: datetime) -> str:
    """The title a meeting gets when nobody named it (app.storage.meetings.begin)."""
    return "Meeting " + started.astimezone().strftime("%Y-%m-%d %H:%M")


def has_default_title(summary: MeetingSummary) -> bool:
    return summary.title == default_title(summary.started)


def title_of(summary: MeetingSummary) -> str:
    if summary.title is not None:
        return summary.title
    return f"[cannot be read: {summary.error}]"


def what_goes(summary: MeetingSummary) -> str:
    """How a deletion question names a meeting: "the transcript of 'Weekly sync', 1 Dec,
    12 min" (a default title already says the date)."""
    facts = [] if has_default_title(summary) else [short_date(summary.started)]
    if summary.ended is not None:
        facts.append(duration(summary))
    tail = ", ".join(facts)
    return f"the transcript of “{title_of(summary)}”" + (f", {tail}" if tail else "")


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} bytes"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
