"""Preview and export of a contribution file: what `candor contribute` and the window call.

Promise: the preview needs no permission and writes nothing a person can read (only the sealed
draw, pending.py); the export needs the single-use `contribution` grant, writes exactly the
text the preview shows through the one atomic writer, and then ends the grant (recorded as
`expired` in the ledger), so the next export asks again. Candor never sends the file anywhere.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from app import __version__
from app.consent import ConsentGate
from app.consent.purposes import CONTRIBUTION
from app.contribution import pending
from app.contribution.aggregate import (
    DEFAULT_K,
    MAX_PAIRS_PER_MEETING,
    Aggregate,
    aggregate,
    read_meetings,
)
from app.contribution.release import DELTA, check_epsilon, draw
from app.privacy.vocabulary_names import vocabulary_redactor
from app.storage.export import write_text_atomic
from app.storage.meetings import MeetingStore

# Two previews at once (the window's pool has two threads) must find one draw, not make two.
_DRAWING = threading.Lock()


@dataclass(frozen=True)
class Contribution:
    text: str  # the file's exact content
    meetings_read: int
    meetings_with_pairs: int
    pairs_before_noise: int  # pairs seen in >= k meetings, before the noise and threshold

    @property
    def document(self) -> dict[str, object]:
        return dict(json.loads(self.text))

    @property
    def pairs(self) -> list[dict[str, object]]:
        return list(self.document["pairs"])  # type: ignore[call-overload]


def _aggregate(store: MeetingStore, k: int) -> Aggregate:
    redactor = vocabulary_redactor(store)
    return aggregate(read_meetings(store), redactor, k=k)


def prepare(store: MeetingStore, epsilon: float, *, k: int = DEFAULT_K) -> Contribution:
    """What would be written now: the kept draw for these corrections and ε, or a new one
    (kept for the export). Raises BadEpsilon for an unusable ε."""
    epsilon = check_epsilon(epsilon)
    data = _aggregate(store, k)
    if not data.counts:  # nothing to add noise to: the release is the same every time
        text = draw(data, epsilon).text()
    else:
        wanted = pending.fingerprint({
            "pairs": [[p.heard, p.corrected, n] for p, n in data.counts.items()],
            "k": k, "epsilon": epsilon, "delta": DELTA, "m": MAX_PAIRS_PER_MEETING,
            "models": list(data.models), "version": __version__,
        })
        master = store.master_key(create=False)  # meetings exist, so their key does
        with _DRAWING:
            kept = pending.load(store.home, master, wanted)
            if kept is None:
                kept = draw(data, epsilon).text()
                pending.keep(store.home, master, wanted, kept)
        text = kept
    return Contribution(text, data.meetings_read, data.meetings_with_pairs, len(data.counts))


def export(store: MeetingStore, path: Path, gate: ConsentGate, epsilon: float,
           *, k: int = DEFAULT_K) -> Contribution:
    """Write the contribution to `path`. ConsentRequired (nothing written) without the
    `contribution` grant; BadEpsilon before asking anything; ExportError when the file cannot
    be written (the grant is then kept for another try)."""
    epsilon = check_epsilon(epsilon)
    gate.require(CONTRIBUTION)
    contribution = prepare(store, epsilon, k=k)
    with gate.guard(CONTRIBUTION):
        write_text_atomic(path, contribution.text)
    gate.expire(CONTRIBUTION)  # single use: the next export asks again
    return contribution
