"""Sound-alike correction (app/vocabulary/phonetic.py) on what tiny.en really wrote for the
benchmark's espeak-ng passages: a misheard term is spelled as the term, the words around it stay,
and a term already written, or a second place that only half sounds like it, is left alone."""

from __future__ import annotations

from app.vocabulary import phonetic
from app.vocabulary.phonetic import _Phonemes, correct

TERMS = ("metformin", "Kubernetes", "tachycardia", "estoppel", "Grafana", "Veltrix")


def test_misheard_terms_are_spelled_as_the_terms_and_the_rest_stays():
    fixed = correct("The Luminate Team wants to try Cuban eats as well.", TERMS, 0.5)
    assert fixed.text == "The Luminate Team wants to try Kubernetes as well."
    assert [(r.heard, r.term) for r in fixed.replacements] == [("Cuban eats", "Kubernetes")]
    assert correct("She has a tacky cardy at night.", TERMS, 0.5).text == \
        "She has a tachycardia at night."


def test_punctuation_after_the_span_is_kept():
    assert correct("Their lawyer argued as topple, and we agreed.", TERMS, 0.5).text == \
        "Their lawyer argued estoppel, and we agreed."


def test_a_term_already_written_and_its_words_are_left_alone():
    text = "Grafana shows the traffic, and Drafana the alerts."
    assert correct(text, TERMS, 0.5).text == text


def test_each_term_is_put_in_once():
    fixed = correct("Drafana shows it, and Grafina too.", TERMS, 0.5)
    assert sum(r.term == "Grafana" for r in fixed.replacements) == 1


def test_a_higher_threshold_takes_only_closer_sound_alikes():
    text = "Check for kidneys before you increase the meth formula."
    assert "metformin" in correct(text, TERMS, 0.5).text
    assert correct(text, TERMS, 0.6).text == text


def test_without_espeak_ng_metaphone_codes_stand_in(monkeypatch):
    phonemes = _Phonemes()
    phonemes._espeak = None
    monkeypatch.setattr(phonetic, "_PHONEMES", phonemes)
    assert correct("The Luminate Team wants to try Cuban eats.", TERMS, 0.5).text == \
        "The Luminate Team wants to try Kubernetes."
