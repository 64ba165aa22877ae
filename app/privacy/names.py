"""Finding people's names in transcript text.

Names known to Candor (the vocabulary's names, the meeting's speaker labels) are always caught:
the whole name in any case, one part of it alone when capitalised ("Rose" of "Rose Baker", but
not "prices rose"). Other names are found from cues a recogniser's output carries, since
Whisper capitalises proper nouns:
- after a title ("Dr. Okafor", "Ms de la Cruz");
- inside a sentence, a capitalised first name (Census list) unless it is mostly an ordinary
  word with nothing around it that says person ("in Paris" is kept, "ask for Will" is not), or
  a capitalised word that is not ordinary English (wordfreq below RARE_ZIPF: "Siobhan") when
  it is in a Census list or has a person cue beside it: a rare word in neither list with none
  is a product or a term ("on Kubernetes yesterday", "in Jira, please"), the measured cost
  being one-word names outside the lists said with no cue (benchmarks/redaction.py);
- right after a name, a surname, with its particles ("Ciara de la Cruz", "Sarah Whitfield");
- at the start of a sentence, where every word is capitalised: a first name that is a name
  rather than a word (lexicon.word_over_name: "George" yes, "Will" no), or any first name
  with a cue that it is a person — a comma after it ("Grace, can you…"), a possessive ("Hannah's
  team"), a verb people do ("Mark said"), a surname after it; or a listed name too rare to be
  a word;
- after a greeting or thanks ("thanks, Tomasz").
Terms the user's vocabulary holds that are no name (`is_person_name`, the one answer the
contribution filter shares) are never taken from cues. A whole name becomes one span. Days,
months and "I" are never names. The thresholds were tuned on the development sets of
`benchmarks/redaction.py` and checked on its last held-out set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from app.privacy import lexicon

# A capitalised word this rare (Zipf < 3.6: fewer than ~4 per million words) is a proper noun:
# "Rahul" and "Lars" are 3.4, while product names people say capitalised sit higher ("Excel"
# 3.7, "Python" 3.8).
RARE_ZIPF = 3.6
# …and one this rare cannot be an ordinary word at the start of a sentence either.
VERY_RARE_ZIPF = 3.3
# A first name scoring at most this in lexicon.word_over_name is a name, not a word, even where
# a sentence starts (john 4.87, mark 5.08; grace 5.28 and jack 5.32 are words too).
PURE_NAME_SCORE = 5.15
# Inside a sentence a capitalised first name is a person unless it is mostly a word (paris 7.2,
# king 7.6, will 8.2) and nothing around it says person.
WORD_NAME_SCORE = 6.5
# Particles inside surnames: "de la Cruz", "Van der Berg", "bin Salman".
PARTICLES = frozenset({"de", "la", "le", "van", "von", "der", "den", "del", "della", "di",
                       "da", "du", "dos", "das", "ter", "ten", "bin", "ibn", "al", "el", "st"})
# After "thanks" or "hi", a capitalised word up to this common is taken for a name.
GREETED_ZIPF = 4.5
# A surname after a name may be a common word ("Baker", "Young"); above this it is ordinary.
SURNAME_ZIPF = 4.8

TITLES = frozenset({
    "dr", "mr", "mrs", "ms", "mx", "miss", "prof", "professor", "doctor", "sir", "dame",
    "madam", "mister", "lady", "lord", "aunt", "uncle", "officer", "judge", "nurse",
})
GREETINGS = frozenset({"thanks", "thank", "hi", "hello", "hey", "morning", "bye", "cheers",
                       "sorry", "welcome", "dear", "ask", "tell", "cc", "with", "congrats"})
ASKING = frozenset({"ask", "asked", "asking", "talk", "talked", "speak", "spoke", "thanks",
                    "wait", "hand", "over", "reach", "go", "write", "send", "message"})
PERSON_VERBS = frozenset({
    "said", "says", "asked", "asks", "mentioned", "thinks", "thought", "wants", "wanted",
    "will", "would", "can", "could", "should", "is", "was", "has", "had", "and", "agreed",
    "suggested", "noted", "told", "joined", "left", "sent", "shared", "wrote", "emailed",
    "called", "presented", "leads", "owns", "just", "also", "here", "did", "does", "replied",
    "explained", "confirmed", "raised", "proposed", "pointed", "needs", "needed", "took",
})
# Verbs whose object is a person ("I told Priya"): the cue a rare word outside the name lists
# needs before it is taken for a name ("on Kubernetes" has none).
TAKES_PERSON = frozenset({"told", "tell", "met", "meet", "meeting", "pinged", "ping", "emailed",
                          "invited", "hired", "introduced", "thanked", "asked", "cc'd"})
PREPOSITIONS = frozenset({"in", "on", "into", "onto", "from", "via", "using", "through",
                          "of", "at", "inside", "off", "under", "behind"})
NOT_NAMES = frozenset({
    "i", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "ok", "okay", "god", "christmas", "easter",
})

_TOKEN = re.compile(r"[^\W\d_][^\W\d_'’.-]*(?:['’-][^\W\d_]+)*\.?", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…:]\s*[\"'”’)\]]*\s*$")


@dataclass(frozen=True)
class NameMatch:
    start: int
    end: int
    known: bool  # one of the names Candor was told about


@dataclass(frozen=True)
class _Token:
    text: str  # without a possessive or a trailing full stop
    start: int
    end: int
    sentence_start: bool
    comma_after: bool
    possessive: bool = False  # "Hannah's"

    @property
    def word(self) -> str:
        return self.text.lower()

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper() and not (len(self.text) > 1 and self.text.isupper())


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for m in _TOKEN.finditer(text):
        raw = m.group()
        core = raw.rstrip(".")
        possessive = False
        for suffix in ("'s", "’s", "s'", "s’"):
            if core.endswith(suffix) and len(core) > len(suffix) + 1:
                core = core[: -len(suffix)] + ("s" if suffix.startswith("s") else "")
                possessive = True
                break
        before = text[: m.start()]
        starts = not before.strip() or bool(_SENTENCE_END.search(before))
        after = text[m.start() + len(raw) :].lstrip(" ")
        tokens.append(_Token(core, m.start(), m.start() + len(core), starts, after[:1] == ",",
                             possessive))
    return tokens


def _known_patterns(known: Iterable[str]) -> list[re.Pattern[str]]:
    patterns = []
    for name in sorted({n.strip() for n in known if n.strip()}, key=len, reverse=True):
        parts = [re.escape(p) for p in name.split()]
        patterns.append(re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)", re.IGNORECASE))
    return patterns


def _known_parts(known: Iterable[str]) -> frozenset[str]:
    """Each part of a known multi-word name counts alone too ("Priya" of "Priya Raman"), when
    it is capitalised in the text and not an ordinary word on its own."""
    return frozenset(
        part.lower()
        for name in known
        for part in name.split()
        if len(part) > 2 and part.lower() not in NOT_NAMES
    )


def _is_surname(token: _Token) -> bool:
    # The Census lists spell names without apostrophes or hyphens (OBRIEN, SMITHJONES).
    return re.sub(r"['’-]", "", token.word) in lexicon.surnames()


def _parts(token: _Token) -> list[str]:
    return [p for p in re.split(r"[-‐]", token.word) if p]


def _is_first_name(token: _Token) -> bool:
    # "Mary-Kate": a hyphenated first name counts by its first part.
    word = token.word if token.word in lexicon.first_names() else _parts(token)[0]
    return word in lexicon.first_names() and token.word not in NOT_NAMES


def _name_score(token: _Token) -> float | None:
    word = token.word if token.word in lexicon.first_names() else _parts(token)[0]
    return lexicon.word_over_name(word)


def _token_rare(token: _Token, threshold: float) -> bool:
    if "-" in token.word and token.capitalised:
        # A capitalised hyphenated word that is no ordinary compound: "Ji-woo", "Eze-Williams".
        return min(lexicon.zipf(p) for p in _parts(token)) < threshold + 1.0 or \
            lexicon.zipf(token.word) < threshold
    return lexicon.zipf(token.word) < threshold


def _rare(token: _Token, threshold: float = RARE_ZIPF) -> bool:
    return _token_rare(token, threshold)


def _listed(token: _Token) -> bool:
    return _is_first_name(token) or _is_surname(token)


def looks_like_name(term: str) -> bool:
    """Written like a name: every word capitalised ("Anna Kowalczyk", and "Postgres" too)."""
    words = term.split()
    return bool(words) and all(w[:1].isupper() for w in words)


def is_person_name(term: str) -> bool:
    """Whether a term (a vocabulary entry, a corrected word) is taken for a person's name: the
    one answer the redactor's allow-list and the contribution filter share.

    Yes when a word of it is a Census first name or surname ("Anna Kowalczyk", "Slack" too:
    a surname, so kept out of the allow-list to be safe), or when it is two or more
    capitalised words ("Priya Raman"). No when it is written like no name is (lower case
    "kubernetes"; an inner capital, "TensorFlow", "GitHub"; all capitals, "AWS"; a digit), or
    is one capitalised word in neither list ("Postgres", "Jira"). The cost, measured on no
    word list: a one-word name outside the Census lists ("Okonkwo", "Priya") is a term here;
    in a transcript it is still caught wherever a person cue stands near it (a title, a
    greeting, "Priya said", a surname after it)."""
    tokens = _tokens(term)
    if not tokens:
        return False
    if any(_listed(t) and t.word not in NOT_NAMES for t in tokens):
        return True
    return len(tokens) > 1 and all(t.capitalised and _plain(t) for t in tokens)


def _plain(token: _Token) -> bool:
    """Capitalised the way a name is: one capital, then lower case ("Postgres", not
    "TensorFlow", "AWS" or "S3")."""
    rest = token.text[1:]
    return token.text[:1].isupper() and not any(c.isupper() or c.isdigit() for c in rest)


def _person_cue_after(nxt: _Token | None) -> bool:
    return nxt is not None and (nxt.word in PERSON_VERBS or (
        nxt.capitalised and not nxt.sentence_start
        and (_is_surname(nxt) or lexicon.zipf(nxt.word) < SURNAME_ZIPF)))


def _names_from_cues(tokens: list[_Token], known_parts: frozenset[str],
                     allowed: frozenset[str] = frozenset()) -> list[int]:
    chosen: list[int] = []
    taken: set[int] = set()
    for i, token in enumerate(tokens):
        if not token.text[:1].isalpha() or token.word in NOT_NAMES:
            continue
        prev = tokens[i - 1] if i else None
        before = tokens[i - 2] if i > 1 else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        after_title = prev is not None and prev.word.rstrip(".") in TITLES
        if token.word in allowed and not after_title and token.word not in known_parts:
            continue  # a term the user's vocabulary holds that is no name ("Postgres")
        after_name = prev is not None and (i - 1) in taken and not prev.comma_after
        if after_title and (token.capitalised or token.word in known_parts
                            or token.word in PARTICLES):
            chosen.append(i)
        elif token.word in PARTICLES and (after_title or after_name) and nxt is not None and (
            nxt.capitalised or nxt.word in PARTICLES
        ):
            chosen.append(i)  # "Ciara de la Cruz": the particles belong to the surname
        elif not token.capitalised:
            continue
        elif token.word in known_parts:
            chosen.append(i)
        elif after_name and (lexicon.zipf(token.word) < SURNAME_ZIPF or _is_surname(token)):
            chosen.append(i)  # a surname after a name
        elif not token.sentence_start:
            greeted = prev is not None and prev.word in GREETINGS
            score = _name_score(token) if _is_first_name(token) else None
            ends = nxt is None or nxt.sentence_start
            # A comma after a rare word outside the name lists is an address ("Okay Piotr,
            # go ahead"; between commas, "Go on, Liv, tell them") unless the word is a
            # preposition's object or opens a list: "in Jira, please", "Jira, Confluence…".
            comma = token.comma_after and (_listed(token) or not _rare(token) or not (
                (prev is not None and prev.word in PREPOSITIONS and not prev.comma_after)
                or (nxt is not None and (nxt.capitalised or nxt.word in ("and", "or")))))
            person = (
                greeted or token.possessive or comma or _person_cue_after(nxt)
                or (prev is not None and prev.word in TAKES_PERSON)
                or (prev is not None and prev.word in PARTICLES)
                or (prev is not None and prev.comma_after and ends)  # "…when you land, Hope."
                or (prev is not None and prev.word in ("for", "to") and before is not None
                    and before.word in ASKING)  # "ask for Will", "talk to Grace"
            )
            if (score is not None and (score <= WORD_NAME_SCORE or person)) or (
                _rare(token) and (person or _listed(token))
            ) or (greeted and lexicon.zipf(token.word) < GREETED_ZIPF):
                chosen.append(i)
        elif (_rare(token, VERY_RARE_ZIPF) and _listed(token)) or (
            _is_first_name(token) and (_name_score(token) or 99.0) <= PURE_NAME_SCORE
        ) or (
            (_is_first_name(token) or _rare(token))
            and (token.comma_after or token.possessive or _person_cue_after(nxt))
        ):
            chosen.append(i)
        if chosen and chosen[-1] == i:
            taken.add(i)
    return chosen


def find_names(text: str, known: Iterable[str] = (),
               allowed: Iterable[str] = ()) -> Iterator[NameMatch]:
    """Names in `text`: every `known` name, and names found from cues. A word of `allowed`
    (terms that are no name, `is_person_name` false) is never taken from cues, except after a
    title ("Dr. Redis" is someone)."""
    known = list(known)
    allowed_words = frozenset(t.word for term in allowed for t in _tokens(term))
    for pattern in _known_patterns(known):
        for m in pattern.finditer(text):
            yield NameMatch(m.start(), m.end(), True)
    tokens = _tokens(text)
    run: list[_Token] = []
    for i in _names_from_cues(tokens, _known_parts(known), allowed_words):
        token = tokens[i]
        # One [NAME] for a whole name: "Ciara de la Cruz", not four placeholders.
        if run and text[run[-1].end : token.start].strip() == "":
            run.append(token)
            continue
        if run:
            yield NameMatch(run[0].start, run[-1].end, False)
        run = [token]
    if run:
        yield NameMatch(run[0].start, run[-1].end, False)
