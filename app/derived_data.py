"""What was produced under a purpose's grants, counted and deleted through its owner.

The consent core does not know about storage; this module connects a withdrawal's "and delete
what it produced" to the package that holds the data, imported only when asked.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

# purpose -> module with count_produced_under(purpose, record_ids) / delete_data_for_purpose(...)
OWNERS: dict[str, str] = {
    "transcription": "app.storage.deletion",
    "transcript_storage": "app.storage.deletion",
    "recording_storage": "app.storage.deletion",
}


def _owner(purpose: str) -> object | None:
    name = OWNERS.get(purpose)
    if name is None:
        return None
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        return None


def count_derived(purpose: str, record_ids: Sequence[str]) -> int:
    owner = _owner(purpose)
    if owner is None or not record_ids:
        return 0
    return int(owner.count_produced_under(purpose, list(record_ids)))


def delete_derived(purpose: str, record_ids: Sequence[str]) -> int:
    owner = _owner(purpose)
    if owner is None or not record_ids:
        return 0
    return int(owner.delete_data_for_purpose(purpose, list(record_ids)))
