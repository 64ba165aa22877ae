from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.textmetrics import normalise, pooled_wer, wer, word_errors


def test_normalise_ignores_case_and_punctuation():
    said = "And so, my fellow Americans: ask NOT!"
    assert normalise(said) == "and so my fellow americans ask not"
    assert normalise("Don’t stop — it's well-known.") == "don't stop it's well known"
    assert normalise("  'quoted'   words ") == "quoted words"


def test_wer_counts_substitutions_deletions_and_insertions():
    ref = "the quick brown fox"
    assert wer(ref, "The quick brown fox.") == 0.0
    assert wer(ref, "the quick red fox") == pytest.approx(1 / 4)
    assert wer(ref, "the brown fox") == pytest.approx(1 / 4)
    assert wer(ref, "the quick brown fox jumps") == pytest.approx(1 / 4)
    assert wer(ref, "") == 1.0
    assert wer(ref, "a b c d e f g h") == pytest.approx(8 / 4)


def test_empty_reference():
    assert wer("", "") == 0.0
    assert wer("", "hello") == 1.0


def test_pooled_wer_weights_by_reference_length():
    pairs = [("one two three four", "one two three four"), ("five", "six")]
    assert pooled_wer(pairs) == pytest.approx(1 / 5)
    assert word_errors("five", "six") == (1, 1)


words = st.lists(st.sampled_from(["a", "b", "c", "dog", "cat"]), max_size=8).map(" ".join)


@given(words, words)
def test_wer_is_a_distance(a, b):
    errors_ab, _ = word_errors(a, b)
    errors_ba, _ = word_errors(b, a)
    assert errors_ab == errors_ba
    assert (errors_ab == 0) == (normalise(a) == normalise(b))
    assert errors_ab <= max(len(a.split()), len(b.split()))
