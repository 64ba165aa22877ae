"""A meeting's names for its two speakers: the microphone ("You" unless renamed) and system
audio, the other participants ("Others" unless renamed).

A label can be a person's name, so it is stored sealed with the meeting's key like the title
(MeetingStore.set_labels); only the renamed ones are stored, and an empty name resets one to
its default. This module only checks and encodes them: no database or key in here.
"""

from __future__ import annotations

import json
import unicodedata

from app.segments import SOURCE_LABELS, SOURCES, Labels, Source

# Long enough for "Dr. Maria del Carmen Fernández-López", short enough to sit beside a time in a
# caption block without wrapping at 200 % font.
MAX_LABEL = 60


class InvalidLabel(ValueError):
    """A speaker name that cannot be used; the message says why and what to do."""


def default_labels() -> Labels:
    return dict(SOURCE_LABELS)


def clean_label(source: Source, name: str) -> str | None:
    """`name` as it will be stored for `source`, or None when it resets to the default (empty,
    or the default itself). InvalidLabel when it cannot be shown in every export format, or
    holds nothing but spaces. The window's dialog and `candor meetings label` both ask this."""
    if not name:
        return None
    name = " ".join(name.split())
    if not name:
        # Spaces alone are more likely a slip than a wish for the default: say how to get it.
        raise InvalidLabel(
            f"the name for {SOURCE_LABELS[source]!r} is blank (only spaces); type a name, or "
            f"leave it empty to go back to {SOURCE_LABELS[source]!r}"
        )
    if name == SOURCE_LABELS[source]:
        return None
    if len(name) > MAX_LABEL:
        raise InvalidLabel(
            f"the name for {SOURCE_LABELS[source]!r} is {len(name)} characters long; "
            f"give at most {MAX_LABEL}"
        )
    # "<" and ">" would end a WebVTT voice span (<v Name>) early; control characters would
    # break a caption line.
    if any(c in "<>" or unicodedata.category(c).startswith("C") for c in name):
        raise InvalidLabel(
            f"the name for {SOURCE_LABELS[source]!r} holds '<', '>' or a control character; "
            "use letters, digits, spaces and ordinary punctuation"
        )
    return name


def encode(labels: Labels) -> str | None:
    """The renamed labels as stored (JSON), or None when every label is its default."""
    custom = {s: n for s, n in labels.items() if n != SOURCE_LABELS[s]}
    return json.dumps(custom, ensure_ascii=False, sort_keys=True) if custom else None


def decode(text: str | None) -> Labels:
    """Every source's label: the stored ones over the defaults (unknown keys are ignored)."""
    labels = default_labels()
    if text:
        stored = json.loads(text)
        for source in SOURCES:
            value = stored.get(source)
            if isinstance(value, str) and value.strip():
                labels[source] = value
    return labels


def renamed(labels: Labels) -> list[str]:
    """The labels the user gave (not a default), in source order."""
    return [labels[s] for s in SOURCES if labels.get(s, SOURCE_LABELS[s]) != SOURCE_LABELS[s]]
