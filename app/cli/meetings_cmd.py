"""`candor meetings list|show|export|correct|delete|rename|label|search`: the stored meeting
history."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from app.cli.common import EXIT_FAILURE, EXIT_USAGE, CliError
from app.cli.store_access import cli_store, consent_gate, storage_errors, warn
from app.consent import ConsentRequired
from app.consent.purposes import TRANSCRIPT_STORAGE
from app.segments import FORMATS, SOURCE_LABELS, Segment, speaker
from app.storage.export import ExportError, render_meeting, write_text_atomic
from app.storage.models import Meeting, MeetingInProgress, MeetingSummary, UnknownSegment
from app.storage.speaker_labels import InvalidLabel


def _clock(seconds: float) -> str:
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _local(summary: MeetingSummary) -> str:
    return summary.started.astimezone().strftime("%Y-%m-%d %H:%M")


def _title(summary: MeetingSummary) -> str:
    if summary.title is not None:
        return summary.title
    return f"[unreadable: {summary.error}]"


def cmd_list(args: argparse.Namespace) -> int:
    with cli_store("meetings list") as store, storage_errors():
        meetings = store.list_meetings()
    if args.json:
        print(json.dumps([m.to_dict() for m in meetings], ensure_ascii=False, indent=2))
        return 0
    if not meetings:
        print("No stored meetings.")
        return 0
    for m in meetings:
        flags = " (interrupted)" if m.interrupted else ""
        flags += " (in progress)" if m.ended is None else ""
        print(f"{m.id}  {_local(m)}  {m.segments:4d} segments  {_title(m)}{flags}")
    return 0


def _warn_damaged(meeting: Meeting) -> None:
    if meeting.damaged:
        n = len(meeting.damaged)
        warn(f"meeting {meeting.id}: {n} of {len(meeting.segments)} segment(s) are damaged "
             "(they failed authentication: changed outside Candor or hit by a disk fault) and "
             "are shown as such; the others are intact")


def cmd_show(args: argparse.Namespace) -> int:
    with cli_store("meetings show") as store, storage_errors():
        meeting = store.get(store.resolve(args.id))
    _warn_damaged(meeting)
    s = meeting.summary
    if args.json:
        print(json.dumps(_show_json(meeting), ensure_ascii=False, indent=2))
        return 0
    print(f"{s.title}\n")
    print(f"id:        {s.id}")
    print(f"started:   {_local(s)} (UTC {s.started.strftime('%Y-%m-%d %H:%M:%S')})")
    print(f"ended:     {s.ended.astimezone().strftime('%Y-%m-%d %H:%M') if s.ended else '—'}"
          + (" (interrupted)" if s.interrupted else ""))
    print(f"source:    {s.source}    device: {s.device or '—'}    model: {s.model or '—'}    "
          f"language: {s.language or '—'}")
    for purpose, records in sorted(s.consent.items()):
        print(f"consent:   {purpose} record {', '.join(records)}")
    print(f"speakers:  {_speakers(s)}")
    print()
    for index, seg in enumerate(meeting.segments):
        mark = "  (corrected)" if index in meeting.heard else ""
        who = speaker(seg, meeting.labels)
        said = f"{who}: {seg.text.strip()}" if who else seg.text.strip()
        print(f"[{_clock(seg.start)}] {said}{mark}")
    return 0


def _speakers(summary: MeetingSummary) -> str:
    """Each source with its default name (which says what `--you` / `--others` change) and the
    name in force, e.g. "microphone (You): Priya · system (Others): Others"."""
    return " · ".join(f"{source} ({SOURCE_LABELS[source]}): {summary.labels[source]}"
                      for source in SOURCE_LABELS)


def _show_json(meeting: Meeting) -> dict[str, object]:
    """The meeting with every segment, emptied ones too, so a segment's position in `segments`
    is the N that `candor meetings correct ID --segment N` takes; a corrected segment also
    carries what the recogniser `heard`."""
    segments = []
    for index, seg in enumerate(meeting.segments):
        item: dict[str, object] = {"index": index, **seg.to_dict()}
        if index in meeting.heard:
            item["heard"] = meeting.heard[index]
        segments.append(item)
    return {**meeting.metadata(), "segments": segments}


def cmd_correct(args: argparse.Namespace) -> int:
    from app.vocabulary.corrections import correct_segment, restore_heard

    if args.text is None and not args.restore:
        raise CliError("give the corrected text with --text TEXT (or --restore to undo)",
                       EXIT_USAGE)
    with cli_store("meetings correct") as store, storage_errors(), consent_gate() as gate:
        meeting_id = store.resolve(args.id)
        if gate is None:
            raise ConsentRequired(TRANSCRIPT_STORAGE, "correcting stores transcript text")
        try:
            if args.restore:
                outcome = restore_heard(store, meeting_id, args.segment, gate)
            else:
                outcome = correct_segment(store, meeting_id, args.segment, args.text, gate)
        except UnknownSegment as err:
            raise CliError(str(err), EXIT_USAGE) from err
        except MeetingInProgress as err:
            raise CliError(str(err), EXIT_FAILURE) from err
    c = outcome.correction
    if args.json:
        print(json.dumps({
            "meeting": c.meeting_id, "segment": c.index, "text": c.text, "heard": c.heard,
            "corrected": c.corrected, "learning": outcome.learning,
            "learned": list(outcome.learned), "forgotten": list(outcome.forgotten),
        }, ensure_ascii=False, indent=2))
        return 0
    if not c.changed:
        print(f"Segment {c.index} of meeting {c.meeting_id} already reads that; nothing changed.")
    elif not c.corrected:
        print(f"Segment {c.index} of meeting {c.meeting_id} is back to what was heard.")
    else:
        print(f"Corrected segment {c.index} of meeting {c.meeting_id}"
              + (" (emptied)." if not c.text else "."))
    if outcome.learning == "not_permitted":
        print("Nothing was learned: 'vocabulary_learning' is not given "
              "(candor consent grant vocabulary_learning).")
    if outcome.learning == "failed":
        print(f"Nothing was learned: the vocabulary could not be written ({outcome.problem}). "
              "The correction is stored.", file=sys.stderr)
    if outcome.learned:
        print(f"Learned: {', '.join(outcome.learned)}")
    if outcome.forgotten:
        print(f"No longer in the vocabulary: {', '.join(outcome.forgotten)}")
    return 0


def _save(path: Path, text: str, force: bool) -> None:
    """Through the one atomic writer: staged beside `path`, fsynced, renamed over it."""
    if os.path.lexists(path) and not force:
        raise CliError(f"{path} already exists; choose another file or add --force", EXIT_USAGE)
    try:
        write_text_atomic(path, text)
    except ExportError as err:
        raise CliError(str(err), EXIT_FAILURE if err.disk_full else EXIT_USAGE) from err


def cmd_export(args: argparse.Namespace) -> int:
    from app.privacy.redact import Redactor
    from app.privacy.vocabulary_names import vocabulary_redactor

    with cli_store("meetings export") as store, storage_errors():
        meeting = store.get(store.resolve(args.id))
        # names in the vocabulary are always caught, its other terms never taken for names
        redactor = vocabulary_redactor(store, args.name or ()) if args.redact else Redactor()
    _warn_damaged(meeting)
    if args.redact:
        from app.privacy.redact import redact_meeting
        from app.storage.export import render_redacted

        redacted = redact_meeting(meeting, redactor)
        counts = redacted.transcript.counts()
        found = ", ".join(f"{n} × [{kind}]" for kind, n in counts.items() if n) or "nothing"
        print(f"Redacted: {found} (the stored meeting is unchanged)", file=sys.stderr)
        text = render_redacted(redacted, args.format)
    elif args.name:
        raise CliError("--name only makes sense with --redact", EXIT_USAGE)
    else:
        text = render_meeting(meeting, args.format)
    if args.out is None:
        sys.stdout.write(text)
    else:
        _save(Path(args.out), text, args.force)
        print(f"Wrote meeting {meeting.id} as {args.format} to {args.out}", file=sys.stderr)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with cli_store("meetings delete") as store, storage_errors():
        meeting_id = store.resolve(args.id)
        segments = store.summary(meeting_id).segments
        store.delete(meeting_id)
    print(f"Deleted meeting {meeting_id} ({segments} segments) and destroyed its key.")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    if not args.title.strip():
        raise CliError("the new title is empty; give a title in quotes", EXIT_USAGE)
    with cli_store("meetings rename") as store, storage_errors():
        meeting_id = store.resolve(args.id)
        store.rename(meeting_id, args.title)
    print(f"Renamed meeting {meeting_id}.")
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    if args.you is None and args.others is None:
        raise CliError("give --you NAME and/or --others NAME (an empty NAME resets it to "
                       "'You' / 'Others')", EXIT_USAGE)
    with cli_store("meetings label") as store, storage_errors():
        meeting_id = store.resolve(args.id)
        try:
            labels = store.set_labels(meeting_id, microphone=args.you, system=args.others)
        except InvalidLabel as err:
            raise CliError(str(err), EXIT_USAGE) from err
    print(f"Speakers of meeting {meeting_id}: you are {labels['microphone']!r}, the others "
          f"{labels['system']!r}.")
    return 0


def _hit_dict(seg: tuple[int, Segment]) -> dict[str, object]:
    index, s = seg
    return {"index": index, "start": s.start, "end": s.end, "text": s.text}


def cmd_search(args: argparse.Namespace) -> int:
    if not args.text.strip():
        raise CliError("give some text to search for", EXIT_USAGE)
    with cli_store("meetings search") as store, storage_errors():
        result = store.search(args.text)
    hits = result.hits
    note = result.skipped_note()
    if note is not None:
        warn(note)
    if args.json:
        print(json.dumps(
            [{**h.meeting.to_dict(), "title_match": h.title_match,
              "matches": [_hit_dict(m) for m in h.matches]} for h in hits],
            ensure_ascii=False, indent=2,
        ))
        return 0
    if not hits:
        print(f"No stored meeting mentions {args.text!r}.")
        return 0
    for hit in hits:
        m = hit.meeting
        print(f"{m.id}  {_local(m)}  {_title(m)}")
        for _index, seg in hit.matches:
            print(f"    [{_clock(seg.start)}] {seg.text.strip()}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "meetings",
        help="stored meetings: list, show, export, correct, delete, rename, label, search",
        description="Meetings stored on this device (only with transcript_storage given).",
    )
    sub = parser.add_subparsers(dest="meetings_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", help="list stored meetings, newest first")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="show a meeting's details and transcript")
    p.add_argument("id", metavar="ID", help="meeting id (or a unique prefix of 4+ characters)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("export", help="write a meeting's transcript in a format")
    p.add_argument("id", metavar="ID")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument(
        "--redact", action="store_true",
        help="replace names, e-mail addresses, phone numbers, long numbers and web addresses "
        "with [NAME], [EMAIL], [PHONE], [NUMBER], [URL] (the stored meeting is unchanged)",
    )
    p.add_argument("--name", action="append", metavar="NAME",
                   help="with --redact: a name to always redact (repeat for more)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "correct", help="correct one segment's text (learns terms with vocabulary_learning)",
        description="Replace the text of segment N (its position, from 0, in the `segments` of "
        "`candor meetings show ID --json`); an empty TEXT empties it. What the recogniser heard "
        "is kept, encrypted, and --restore brings it back. Needs transcript_storage.",
    )
    p.add_argument("id", metavar="ID")
    p.add_argument("--segment", metavar="N", type=int, required=True)
    what = p.add_mutually_exclusive_group()
    what.add_argument("--text", metavar="TEXT", help="the corrected text")
    what.add_argument("--restore", action="store_true", help="undo: back to what was heard")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_correct)

    p = sub.add_parser("delete", help="delete a meeting and destroy its key")
    p.add_argument("id", metavar="ID")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("rename", help="change a meeting's title")
    p.add_argument("id", metavar="ID")
    p.add_argument("title", metavar="TITLE")
    p.set_defaults(func=cmd_rename)

    p = sub.add_parser(
        "label", help="rename a meeting's speakers (You, Others)",
        description="Name who spoke in this meeting: --you for the microphone (default 'You'), "
        "--others for system audio, the other participants (default 'Others'). Exports and the "
        "window show these names; an empty NAME resets one to its default. Stored encrypted, "
        "like the title.",
    )
    p.add_argument("id", metavar="ID")
    p.add_argument("--you", metavar="NAME", help="the name for the microphone's speaker")
    p.add_argument("--others", metavar="NAME", help="the name for the others (system audio)")
    p.set_defaults(func=cmd_label)

    p = sub.add_parser(
        "search", help="find meetings whose title or transcript holds every word of TEXT",
        description="Every word of TEXT must occur, in any order, ignoring case (a word may be "
        "part of a longer one: 'sun' finds 'Sunday'). Lines holding all the words are listed; "
        "when the words are spread over several lines, each line holding one is listed.",
    )
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_search)
