"""Stored meetings whose corrections plant identifiers next to real recogniser confusions."""

from __future__ import annotations

from app.consent import ConsentGate
from app.storage import MeetingStore
from tests.support.storage import record_meeting

# (heard, corrected): identifiers first, so a cap on pairs per meeting would count them first
# if the filter let them through.
PLANTED = [
    ("please ask anna cowalczyk about it", "please ask Anna Kowalczyk about it"),
    ("i told priya at standup", "I told Priya Raman at standup"),
    ("mail me at jon at example dot com", "mail me at jon.smith@example.com"),
    ("call five five five zero one nine nine", "call +1 415 555 0199"),
    ("the order number is four four one two", "the order number is 44120917"),
    ("see acme dot io slash docs", "see www.acme.io/docs"),
    ("ask marc for it", "ask marc for it"),  # unchanged: no pair
    ("it was mark who said so", "it was marc who said so"),  # a lower-case first name
    # names in neither Census list, caught by the person cue beside them
    ("i told pria at standup", "I told Priya at standup"),
    ("thanks tomas", "Thanks, Tomasz."),
    ("dr okon will join", "Dr Okonkwo will join"),
]
# Strings that must never reach a contribution file.
PLANTED_STRINGS = ["kowalczyk", "cowalczyk", "priya", "pria", "raman", "jon", "smith",
                   "example.com", "415", "555", "0199", "44120917", "acme", "www", "marc",
                   "tomasz", "tomas", "okonkwo", "okon"]
REAL = [
    # corrected as people write: a product name capitalised
    ("we deployed it on cooper netties yesterday", "We deployed it on Kubernetes yesterday."),
    ("the patient takes met for me daily", "the patient takes metformin daily"),
]
REAL_PAIRS = {("cooper netties", "kubernetes"), ("met for me", "metformin")}
# seen in exactly k = 3 meetings / in k - 1 = 2 meetings
AT_K = ("we moved the data to post grass", "We moved the data to Postgres.")
BELOW_K = ("their going home now", "they're going home now")


def store_meeting(store: MeetingStore, gate: ConsentGate, corrections: list[tuple[str, str]],
                  title: str) -> str:
    mid = record_meeting(store, gate, [heard for heard, _ in corrections], title=title)
    for index, (_, corrected) in enumerate(corrections):
        store.correct_segment(mid, index, corrected, gate)
    return mid


def plant(store: MeetingStore, gate: ConsentGate, meetings: int = 8) -> list[str]:
    """`meetings` meetings with every planted identifier and both real pairs, three with the
    AT_K pair and two with the BELOW_K pair. Returns the meeting ids."""
    ids = [store_meeting(store, gate, [*PLANTED, *REAL], f"Sync with Anna {i}")
           for i in range(meetings)]
    ids += [store_meeting(store, gate, [AT_K], f"Data {i}") for i in range(3)]
    ids += [store_meeting(store, gate, [BELOW_K], f"Home {i}") for i in range(2)]
    return ids
