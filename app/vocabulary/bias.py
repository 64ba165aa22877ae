"""Using the vocabulary when transcribing, robustly, and only while `vocabulary_learning` is given.

Biasing Whisper is fragile (issue 12): a prompt listing terms raises their recall but can turn a
passage into a list of terms, a stutter, or drop words. So the vocabulary never rewrites a
transcript freely. For each segment of the ordinary (unbiased) pass:

1. Only a segment the recogniser was unsure of is touched (average log-probability below
   UNSURE_LOGPROB). Measured on tiny.en: every espeak-ng jargon passage scored -0.58 or lower,
   every real general-speech recording -0.46 or higher, so general speech costs nothing more.
2. Its text is corrected toward the vocabulary by sound (phonetic.py): a span that sounds like
   a term (espeak-ng phonemes, SOUNDS_LIKE) is spelled as the term; every other word stays as
   first heard. No decoding: the cost is a few milliseconds.

What Candor does not do by default (`second_pass=True` does it, benchmarks/vocabulary.py
--second-pass measures it): a biased pass over the segment's audio, prompted with the few terms
that sound most like a span of it or that a probe pass prompted with the whole list wrote, and
thrown away when degenerate (compression ratio above 2.4, a term more often than anything sounds
like it, three prompt terms in a row, far fewer or more words, a much lower log-probability),
else merged term by term where the unbiased words sound like the term. Measured on the dev split
(benchmarks/vocabulary.py --split dev, 24 passages, 6 voices), both at a sound-alike threshold of
0.5: term recall 42 % by sound alone, 50 % with the biased pass as well, but at 2.1x the CPU
time where the goal is 1.2x (sound alone: 1.08x), two passages worse by more than 2 points
either way. The biased pass's extra recall is not worth twice the cost, so it is kept as an
option for a larger model or a faster machine. (With the final SOUNDS_LIKE and SHORT_PENALTY,
sound alone found 48 % of the dev terms, WER 0.75x, one passage worse, 1.08x the CPU time.)

`VocabularyBias` checks the gate before every segment (lock-free; the gate's watcher brings in
a withdrawal made in another process), and remembers what it changed, so a caller that finds
the permission withdrawn before it hands the result over can return exactly the unbiased text.
"""

from __future__ import annotations

import difflib
import itertools
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from app.consent import Gate
from app.consent.purposes import VOCABULARY_LEARNING
from app.segments import Segment
from app.textmetrics import normalise
from app.vocabulary import phonetic
from app.vocabulary.soundalike import SpanMatch, best_match

log = logging.getLogger(__name__)

UNSURE_LOGPROB = -0.5
# Terms offered to the biased pass. Measured: with the right 2 terms a prompt restored 75-82 %
# of them; with the whole 50-term list only 28-33 %, and lists of 8+ were echoed back.
MAX_PROMPT_TERMS = 6
SOUNDALIKE_CANDIDATES = 4
CANDIDATE_FLOOR = 0.45  # below this a span sounds like nothing in the vocabulary
PROBE_MATCH = 0.8  # a probe pass "nearly wrote" a term at this similarity
PROBE_MAX_TERMS = 60  # Whisper's prompt holds ~220 tokens: the most likely terms first
MERGE_SOUNDALIKE = 0.5  # the unbiased words must sound at least this much like the term's
POLISH_SOUNDALIKE = 0.72  # a near miss in the biased pass is spelled as the term
MAX_COMPRESSION_RATIO = 2.4
MIN_WORD_RATIO = 0.7
MAX_WORD_RATIO = 1.5
MAX_LOGPROB_DROP = 0.5
MAX_REPEATS = 4
PART_PREFERENCE = 0.05
# Sound-alike correction (phonetic.py) of an unsure segment's text, after the biased pass.
# Chosen on the corrected passages and the dev split (benchmarks/vocabulary.py --split dev),
# with phonetic.SHORT_PENALTY: 0.45 found 59 % / 45 % of their terms (WER 0.57x / 0.78x, one dev
# passage worse by > 2 points); 0.5 found 44 % / 38 %; 0.4 made more passages worse.
SOUNDS_LIKE = 0.45
# A committed live caption has no log-probability to say the recogniser was unsure, so only a
# closer sound-alike is taken: at 0.6 no word of ~400 of correct English (the general speech
# references and the meeting sentences) was replaced with a 50-term vocabulary; at 0.55, three.
CAPTION_SOUNDS_LIKE = 0.6

Verdict = Literal["confident", "no_candidates", "degenerate", "merged", "unchanged", "withdrawn",
                  "sounded"]


@dataclass(frozen=True)
class Decoded:
    """One decoding of a stretch of audio, as the engine reports it."""

    text: str
    avg_logprob: float
    compression_ratio: float = 1.0


Redecode = Callable[[str], Decoded]  # prompt -> decoding of the same audio with that prompt


@dataclass(frozen=True)
class BiasOutcome:
    heard: str
    text: str
    verdict: Verdict
    terms: tuple[str, ...] = ()  # the terms the biased pass was offered


@dataclass(frozen=True)
class _Word:
    text: str
    norm: str


def _words(text: str) -> list[_Word]:
    return [_Word(w, normalise(w)) for w in text.split() if normalise(w)]


@lru_cache(maxsize=4096)
def forms(term: str) -> tuple[str, ...]:
    """The ways a term is said: a learned full name is often said by its rare family name
    ("Chidi Okonkwo" as "Okonkwo"). Measured: matching the full names only, no surname said
    alone in the benchmark was ever a candidate."""
    from app.vocabulary.learning import RARE_ZIPF, zipf

    words = term.split()
    if len(words) < 2 or not all(w[:1].isupper() for w in words):
        return (term,)
    # the family name only: a first name alone ("Kenji") was merged in for everyday words
    surname = words[-1]
    if len(surname) >= 4 and zipf(surname.casefold()) < RARE_ZIPF:
        return (term, surname)
    return (term,)


def _occurrences(norms: list[str], term: str) -> list[tuple[int, int]]:
    found = []
    for form in forms(term):
        parts = normalise(form).split()
        n = len(parts)
        found += [(i, i + n) for i in range(len(norms) - n + 1) if norms[i : i + n] == parts]
    # a full name also contains its parts: keep the longest span at each place
    found.sort(key=lambda span: (span[0], -span[1]))
    kept: list[tuple[int, int]] = []
    for span in found:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def _best(words: list[str], term: str, extra_words: int = 2) -> SpanMatch:
    """The best-sounding span for any form of the term. A part of a name wins unless the full
    name sounds clearly more alike (PART_PREFERENCE): surnames are said alone far more often."""
    matches = [best_match(words, form, extra_words) for form in forms(term)]
    full, parts = matches[0], matches[1:]
    best_part = max(parts, key=lambda m: m.score, default=None)
    if best_part is not None and best_part.score + PART_PREFERENCE >= full.score:
        return best_part
    return full


def candidate_terms(heard: str, terms: Sequence[str], limit: int) -> list[str]:
    """The terms (or the form of one, see `forms`) whose spelling sounds most like a span of
    `heard`, best first."""
    words = normalise(heard).split()
    # the form that sounded most alike is offered ("Okonkwo", not "Chidi Okonkwo")
    matches = [m for m in (_best(words, t) for t in terms) if m.score >= CANDIDATE_FLOOR]
    matches.sort(key=lambda m: -m.score)
    return list(dict.fromkeys(m.term for m in matches))[:limit]


def prompt_for(terms: Sequence[str]) -> str:
    """A short sentence naming the terms: measured, it biased tiny.en more (82 % of the right
    terms) and echoed less than a bare comma list (75 %)."""
    if len(terms) == 1:
        return f"We talked about {terms[0]}."
    return f"We talked about {', '.join(terms[:-1])} and {terms[-1]}."


def degenerate(heard: Decoded, biased: Decoded, offered: Sequence[str]) -> str | None:
    """Why a biased pass cannot be trusted, or None."""
    if biased.compression_ratio > MAX_COMPRESSION_RATIO:
        return "repetitive"
    before, after = _words(heard.text), _words(biased.text)
    if not after:
        return "empty"
    # counted as normalised words: "Ba-ba-ba-ba" is four, not one
    n_before, n_after = len(normalise(heard.text).split()), len(normalise(biased.text).split())
    if n_after < MIN_WORD_RATIO * n_before:
        return "dropped words"
    if n_after > MAX_WORD_RATIO * n_before + 2:
        return "inserted words"
    if biased.avg_logprob < heard.avg_logprob - MAX_LOGPROB_DROP:
        return "less likely"
    norms = [w.norm for w in after]
    heard_norms = [w.norm for w in before]
    if _stutters(normalise(biased.text).split()) > _stutters(normalise(heard.text).split()):
        return "stutter"
    spans: list[tuple[int, int]] = []
    for term in offered:
        found = _occurrences(norms, term)
        if len(found) > 1 and len(found) > _soundalike_count(heard_norms, term):
            return f"repeated {term!r}"
        spans += found
    spans.sort()
    run = 1
    for (_a1, b1), (a2, _b2) in itertools.pairwise(spans):
        run = run + 1 if a2 <= b1 + 1 else 1
        if run >= 3:
            return "echoed the prompt"
    return None


def _stutters(words: list[str]) -> int:
    """Runs where one word or a pair of words repeats MAX_REPEATS times or more in a row ("ba
    ba ba ba", "the the the the"): Whisper's loop, which compression ratio misses in a short
    segment."""
    count = 0
    for size in (1, 2):
        run = 1
        for i in range(size, len(words) - size + 1, size):
            if words[i : i + size] == words[i - size : i]:
                run += 1
                if run == MAX_REPEATS:
                    count += 1
            else:
                run = 1
    return count


def _soundalike_count(words: list[str], term: str) -> int:
    """How many separate spans of `words` sound like `term`."""
    count, start = 0, 0
    while start < len(words):
        match = _best(words[start:], term)
        if match.score < MERGE_SOUNDALIKE:
            break
        count += 1
        start += match.end
    return count


def polish(text: str, terms: Sequence[str]) -> str:
    """Spell near misses of these terms as the terms ("Fibodox" -> "Thibodeaux")."""
    words = text.split()
    norms = [normalise(w) for w in words]
    for term in terms:
        if _occurrences(norms, term):
            continue
        match = _best(norms, term, extra_words=1)
        if match.score >= POLISH_SOUNDALIKE and match.end > match.start:
            trail = re.sub(r"^.*?([.,;:!?]*)$", r"\1", words[match.end - 1])
            words[match.start : match.end] = [match.term + trail]
            norms[match.start : match.end] = normalise(match.term).split()
    return " ".join(words)


def merge(heard: str, biased: str, terms: Sequence[str]) -> str:
    """The unbiased text with only the biased pass's terms taken over, each in place of the
    unbiased words that sound most like it. Measured: taking the whole differing stretch
    around a term also took in words the biased pass got wrong ("a low-end dose" became "a low
    adorps")."""
    old, new = _words(heard), _words(biased)
    old_norms, new_norms = [w.norm for w in old], [w.norm for w in new]
    term_spans = sorted(span for t in terms for span in _occurrences(new_norms, t))
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old_norms, new_norms, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        kept = [w.text for w in old[i1:i2]]
        if tag == "equal" or i2 == i1 or j2 == j1:
            out += kept
            continue
        replaced: list[tuple[int, int, list[str]]] = []  # (start, end) in old[i1:i2], words
        for a, b in term_spans:
            lo, hi = max(a, j1), min(b, j2)
            if lo >= hi:
                continue
            part = [w.text for w in new[lo:hi]]
            match = best_match(old_norms[i1:i2], " ".join(new_norms[lo:hi]))
            clashes = any(match.start < e and match.end > s for s, e, _w in replaced)
            if match.score >= MERGE_SOUNDALIKE and match.end > match.start and not clashes:
                replaced.append((match.start, match.end, part))
        for start, end, words in sorted(replaced, reverse=True):
            kept[start:end] = words
        out += kept
    return " ".join(out)


def all_forms(terms: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(f for t in terms for f in forms(t)))


def sound_alike(text: str, terms: Sequence[str], threshold: float = SOUNDS_LIKE) -> str:
    """`text` with spans that sound like a term spelled as the term (no decoding)."""
    return phonetic.correct(text, all_forms(terms), threshold).text


def correct_caption(text: str, terms: Sequence[str]) -> str:
    """A committed live caption, corrected toward the vocabulary by sound alone: the cheap part
    of the vocabulary, for captions that cannot wait for a second decode."""
    return sound_alike(text, terms, CAPTION_SOUNDS_LIKE)


def improve(heard: Decoded, terms: Sequence[str], redecode: Redecode, *,
            second_pass: bool = False) -> BiasOutcome:
    """The vocabulary's best safe version of one unbiased segment (see the module docstring)."""
    if heard.avg_logprob >= UNSURE_LOGPROB or not terms or not heard.text.strip():
        return BiasOutcome(heard.text, heard.text, "confident")
    if not second_pass:
        text = sound_alike(heard.text, terms)
        return BiasOutcome(heard.text, text, "sounded" if text != heard.text else "unchanged")
    outcome = _biased(heard, terms, redecode)
    text = sound_alike(outcome.text, terms)
    if text == outcome.text:
        return outcome
    return BiasOutcome(heard.text, text, "sounded" if outcome.text == heard.text else "merged",
                       outcome.terms)


def _biased(heard: Decoded, terms: Sequence[str], redecode: Redecode) -> BiasOutcome:
    candidates = candidate_terms(heard.text, terms, SOUNDALIKE_CANDIDATES)
    ranked = candidate_terms(heard.text, terms, PROBE_MAX_TERMS)
    ranked += [t for t in terms if t not in ranked][: max(0, PROBE_MAX_TERMS - len(ranked))]
    probe = redecode(", ".join(ranked) + ".")
    probe_words = normalise(probe.text).split()
    for term in ranked:
        if term not in candidates and _best(probe_words, term).score >= PROBE_MATCH:
            candidates.append(term)
    offered = tuple(candidates[:MAX_PROMPT_TERMS])
    if not offered:
        return BiasOutcome(heard.text, heard.text, "no_candidates")
    biased = redecode(prompt_for(offered))
    problem = degenerate(heard, biased, offered)
    if problem is not None:
        log.debug("vocabulary: biased pass rejected (%s)", problem)
        return BiasOutcome(heard.text, heard.text, "degenerate", offered)
    text = merge(heard.text, polish(biased.text, offered), offered)
    return BiasOutcome(heard.text, text, "merged" if text != heard.text else "unchanged", offered)


@dataclass
class VocabularyBias:
    """The vocabulary as the recogniser uses it: the terms, under the gate.

    Give one to `WhisperEngine(vocabulary=...)`. `terms_now()` is None whenever the permission
    is not given at that moment; `outcomes` records every segment it changed.
    """

    gate: Gate
    terms: tuple[str, ...]
    second_pass: bool = False  # also a prompted decode of unsure segments (see the docstring)
    outcomes: list[tuple[Segment, BiasOutcome]] = field(default_factory=list)
    verdicts: dict[str, int] = field(default_factory=dict)  # how each segment went, counted
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def terms_now(self) -> tuple[str, ...] | None:
        if not self.terms or not self.gate.allowed(VOCABULARY_LEARNING):
            return None
        return self.terms

    def apply(self, segment: Segment, heard: Decoded, redecode: Redecode) -> Segment:
        terms = self.terms_now()
        if terms is None:
            return segment
        outcome = improve(heard, terms, redecode, second_pass=self.second_pass)
        if self.terms_now() is None:  # withdrawn while the biased pass ran
            outcome = BiasOutcome(heard.text, heard.text, "withdrawn", outcome.terms)
        with self._lock:
            self.verdicts[outcome.verdict] = self.verdicts.get(outcome.verdict, 0) + 1
        if outcome.text == heard.text:
            return segment
        changed = Segment(segment.start, segment.end, outcome.text, segment.final,
                          segment.source)
        with self._lock:
            self.outcomes.append((changed, outcome))
        return changed

    def unbiased(self, segments: Sequence[Segment]) -> list[Segment]:
        """`segments` with every change this bias made taken back (a withdrawal arrived before
        they were handed over)."""
        with self._lock:
            heard = {(s.start, s.end, s.text): o.heard for s, o in self.outcomes}
        return [
            Segment(s.start, s.end, heard[(s.start, s.end, s.text)], s.final, s.source)
            if (s.start, s.end, s.text) in heard else s
            for s in segments
        ]
