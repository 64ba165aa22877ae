"""`candor vocabulary list|add|mark|remove|clear`: the personal vocabulary (issue 12).

Listing, removing and clearing need no permission (you can always see and erase what is held);
adding a term keeps it and uses it, and marking one changes how it is used (a name is always
redacted, a term never), so both need `vocabulary_learning` (exit 3 without it).
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from app.cli.common import EXIT_USAGE, CliError
from app.cli.store_access import cli_store, consent_gate, storage_errors
from app.consent import ConsentRequired
from app.consent.purposes import VOCABULARY_LEARNING

if TYPE_CHECKING:
    from app.vocabulary.store import Kind

# How a kind reads in the list; unmarked terms are guessed by redaction (app/privacy/names.py).
_KIND_SHOWN = {"name": "name", "term": "term", None: "(guess)"}


def _state(given: bool) -> str:
    if given:
        return "given: terms are learned from corrections and used when transcribing"
    return ("not given: nothing is learned or used "
            "(candor consent grant vocabulary_learning)")


def cmd_list(args: argparse.Namespace) -> int:
    from app.vocabulary.store import VocabularyStore

    with cli_store("vocabulary list") as store, storage_errors(), consent_gate() as gate:
        terms = VocabularyStore(store).terms()
        given = gate is not None and gate.allowed(VOCABULARY_LEARNING)
    if args.json:
        print(json.dumps({"vocabulary_learning": "given" if given else "not given",
                          "terms": [t.to_dict() for t in terms]}, ensure_ascii=False, indent=2))
        return 0
    print(f"Learn my vocabulary: {_state(given)}")
    if not terms:
        print("The vocabulary is empty.")
        return 0
    width = max(len(t.text) for t in terms)
    print(f"{'term':<{width}}  {'kind':<7}  {'from':<9}  {'corrected':>9}  "
          "first learned     last learned")
    for t in terms:
        print(f"{t.text:<{width}}  {_KIND_SHOWN[t.kind]:<7}  {t.origin:<9}  "
              f"{t.times_corrected:>9}  "
              f"{t.first_learned.astimezone():%Y-%m-%d %H:%M}  "
              f"{t.last_learned.astimezone():%Y-%m-%d %H:%M}")
    print(f"{len(terms)} term(s).")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from app.vocabulary.store import BadTerm, VocabularyStore

    with cli_store("vocabulary add", create=True) as store, storage_errors(), \
            consent_gate() as gate:
        if gate is None:
            raise ConsentRequired(VOCABULARY_LEARNING, "adding a term keeps and uses it")
        vocabulary = VocabularyStore(store)
        before = {t.id for t in vocabulary.terms()}
        try:
            terms = vocabulary.add(args.terms, gate, kind=args.kind)
        except BadTerm as err:
            raise CliError(f"{err}. Nothing was added.", EXIT_USAGE) from err
    new = [t.text for t in terms if t.id not in before]
    held = [t.text for t in terms if t.id in before]
    if new:
        print(f"Added: {', '.join(new)}")
    if held:
        print(f"Already in the vocabulary: {', '.join(held)}")
    return 0


def cmd_mark(args: argparse.Namespace) -> int:
    from app.vocabulary.store import VocabularyStore

    kind: Kind | None = args.kind
    with cli_store("vocabulary mark") as store, storage_errors(), consent_gate() as gate:
        if gate is None:
            raise ConsentRequired(VOCABULARY_LEARNING, "marking a term changes how it is used")
        marked, missing = VocabularyStore(store).mark(args.terms, kind, gate)
    if missing:
        raise CliError(f"not in the vocabulary: {', '.join(missing)}; nothing was marked "
                       "(`candor vocabulary list` shows what is held, `candor vocabulary add "
                       "TERM --name` adds a name)", EXIT_USAGE)
    shown = {"name": "a name (always redacted)", "term": "a term (never redacted as a name)",
             None: "unmarked (redaction guesses)"}[kind]
    print(f"Marked as {shown}: {', '.join(t.text for t in marked)}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from app.vocabulary.store import VocabularyStore

    with cli_store("vocabulary remove") as store, storage_errors():
        removed, missing = VocabularyStore(store).remove(args.terms)
    if removed:
        print(f"Removed: {', '.join(removed)}")
    if missing:
        message = (f"not in the vocabulary: {', '.join(missing)} "
                   "(`candor vocabulary list` shows what is held)")
        if not removed:
            raise CliError(message, EXIT_USAGE)
        print(f"Not removed, {message}")
    return 0


def cmd_clear(args: argparse.Namespace) -> int:
    from app.vocabulary.store import VocabularyStore

    with cli_store("vocabulary clear") as store, storage_errors():
        count = VocabularyStore(store).clear()
    print(f"Removed {count} term(s) and destroyed the vocabulary's key." if count
          else "The vocabulary was already empty.")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "vocabulary", help="the words Candor learned or you added: list, add, mark, remove, clear",
        description="Names and terms learned from your corrections (only with "
        "vocabulary_learning) or added by you, kept encrypted on this device and used to "
        "recognise them. Only the terms are kept, never the sentences around them.",
    )
    sub = parser.add_subparsers(dest="vocabulary_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", help="every term held, where it came from, counts and dates")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("add", help="add names or terms yourself (needs vocabulary_learning)")
    p.add_argument("terms", metavar="TERM", nargs="+", help="quote a multi-word term")
    kinds = p.add_mutually_exclusive_group()
    kinds.add_argument("--name", dest="kind", action="store_const", const="name",
                       help="these are people's names: always redacted")
    kinds.add_argument("--term", dest="kind", action="store_const", const="term",
                       help="these are no names: never redacted as one")
    p.set_defaults(func=cmd_add, kind=None)

    p = sub.add_parser("mark", help="say whether held terms are names or terms "
                       "(needs vocabulary_learning)")
    p.add_argument("terms", metavar="TERM", nargs="+")
    kinds = p.add_mutually_exclusive_group(required=True)
    kinds.add_argument("--name", dest="kind", action="store_const", const="name",
                       help="people's names: always redacted")
    kinds.add_argument("--term", dest="kind", action="store_const", const="term",
                       help="no names: never redacted as one")
    kinds.add_argument("--guess", dest="kind", action="store_const", const=None,
                       help="unmarked: redaction guesses from name lists, as before")
    p.set_defaults(func=cmd_mark)

    p = sub.add_parser("remove", help="remove terms")
    p.add_argument("terms", metavar="TERM", nargs="+")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("clear", help="remove every term")
    p.set_defaults(func=cmd_clear)
