"""The aggregate a contribution is drawn from: for each (heard → corrected) pair, in how many
different meetings it was corrected.

Promise: each meeting counts at most once per pair and for at most MAX_PAIRS_PER_MEETING pairs
(its own most frequent ones), so adding or removing one meeting changes at most that many counts
by at most one; a pair seen in fewer than `k` meetings is not in the aggregate at all. Only the
pairs and their counts leave this module, with the number of meetings that were read and the
model names in use: never a meeting id, a time or a sentence.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from app.contribution.pairs import Pair, meeting_pairs
from app.privacy.redact import Redactor
from app.storage.database import StorageError
from app.storage.meetings import MeetingStore
from app.storage.models import Meeting

log = logging.getLogger(__name__)

# k: a pair is shared only when it was corrected in at least this many different meetings,
# whatever the noise would allow (a k-anonymity floor under the differential privacy).
DEFAULT_K = 3
# Each meeting adds at most this many pairs: it bounds one meeting's influence (the L0
# sensitivity of the counts), and the noise grows with it. Two keeps the usual meeting's
# recurring jargon fixes while doubling, not more, the count a pair needs to survive.
MAX_PAIRS_PER_MEETING = 2
OTHER_MODEL = "a local model"


@dataclass(frozen=True)
class Aggregate:
    counts: dict[Pair, int]  # pair -> distinct meetings, only pairs with count >= k
    k: int
    meetings_read: int
    meetings_with_pairs: int
    models: tuple[str, ...]  # the models in use (configured_models), not read from meetings


def catalogue_names() -> tuple[str, ...]:
    from app.transcription.manifest import load_manifest

    return tuple(load_manifest().models)


def model_label(model: str | None, known: Iterable[str]) -> str:
    """A catalogue name as it is; a folder path (which may hold a user name) as OTHER_MODEL."""
    return model if model and model in set(known) else OTHER_MODEL


def aggregate(meetings: Iterable[Meeting], redactor: Redactor, *, k: int = DEFAULT_K,
              catalogue: Iterable[str] | None = None) -> Aggregate:
    """`catalogue`: the model names shown as they are (default: Candor's model catalogue)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    names = tuple(catalogue) if catalogue is not None else catalogue_names()
    counts: Counter[Pair] = Counter()
    read = with_pairs = 0
    for meeting in meetings:
        read += 1
        pairs = meeting_pairs(meeting, redactor)[:MAX_PAIRS_PER_MEETING]
        if pairs:
            with_pairs += 1
            counts.update(pairs)
    kept = {pair: n for pair, n in sorted(counts.items()) if n >= k}
    return Aggregate(kept, k, read, with_pairs, configured_models(names))


def configured_models(catalogue: Iterable[str]) -> tuple[str, ...]:
    """The models chosen now for live captions and saved transcripts. From the settings, not
    from the meetings: a model name taken from the data would be a fact about the meetings
    released without noise."""
    from app.transcription.model_choice import USES, chosen

    return tuple(sorted({model_label(chosen(use).model, catalogue) for use in USES}))


def read_meetings(store: MeetingStore) -> list[Meeting]:
    """Every finished, readable meeting; one that cannot be read is left out (and logged)."""
    result = []
    for summary in store.list_meetings():
        if summary.ended is None or summary.error:
            continue
        try:
            result.append(store.get(summary.id))
        except StorageError as err:
            log.warning("meeting %s left out of the contribution: %s", summary.id, err)
    return result
