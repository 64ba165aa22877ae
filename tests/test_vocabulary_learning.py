"""What a correction teaches (app/vocabulary/learning.py), on corrections of what tiny.en really
wrote for espeak-ng passages of the benchmark's jargon set."""

from __future__ import annotations

import pytest

from app.vocabulary.learning import changed_terms


@pytest.mark.parametrize(
    ("heard", "corrected", "learned"),
    [
        # real tiny.en output for benchmarks/_jargon.py passages
        ("I spoke with Mark Fibo Box yesterday and he agrees with Thomas D.R.'s ideals killing "
         "the schedule.",
         "I spoke with Marc Thibodeaux yesterday and he agrees with Tomasz Przybylski on the "
         "schedule.",
         ("Marc Thibodeaux", "Tomasz Przybylski")),
        ("The patient takes met for me in the morning and lives in upper left eye.",
         "The patient takes metformin in the morning and lisinopril at night.",
         ("metformin", "lisinopril")),
        ("We are moving the quarry's back end to puberty before the summer.",
         "We are moving the Quorix backend to Kubernetes before the summer.",
         ("Quorix", "Kubernetes")),  # "backend" was heard, as "back end": not new
        ("The petition for Fabian Corpus was denied, so they will seek surgery.",
         "The petition for habeas corpus was denied, so they will seek certiorari.",
         ("habeas", "certiorari")),
        ("Amicus Curie brief was filed before Ranaia began",
         "An amicus curiae brief was filed before voir dire began.",
         ("curiae", "voir dire")),
    ],
)
def test_names_and_terms_the_recogniser_got_wrong_are_learned(heard, corrected, learned):
    assert changed_terms(heard, heard, corrected).learned == learned


@pytest.mark.parametrize(
    ("heard", "corrected"),
    [
        ("Their going to the meeting.", "They're going to the meeting."),
        ("We need a contract by friday", "We need the contract by Friday."),
        ("Let me summarise the decision before we run out.",
         "Let me summarise the decisions before we run out of time."),
        ("Thanks everyone.", "Thanks, everyone!"),
    ],
)
def test_everyday_words_a_correction_fixes_are_not_terms(heard, corrected):
    assert changed_terms(heard, heard, corrected).learned == ()


def test_a_name_the_recogniser_wrote_right_is_not_learned():
    heard = "Ask Kowalczyk about the budget."
    assert changed_terms(heard, heard, "Ask Kowalczyk about the new budget.").learned == ()


def test_undoing_a_correction_takes_back_what_it_taught_and_learns_nothing():
    heard = "The patient takes met for me daily."
    corrected = "The patient takes metformin daily."
    undo = changed_terms(heard, corrected, heard)
    assert undo.learned == ()
    assert undo.unlearned == ("metformin",)
    # a later edit elsewhere in the segment keeps the term
    later = changed_terms(heard, corrected, "The patient takes metformin twice daily.")
    assert later.learned == ()
    assert later.unlearned == ()


def test_a_misspelled_correction_fixed_later_swaps_the_terms():
    heard = "We asked a con quo."
    typo = changed_terms(heard, "We asked Okonkow.", "We asked Okonkwo.")
    assert typo.learned == ("Okonkwo",)
    assert typo.unlearned == ("Okonkow",)


def test_a_long_run_of_rare_words_is_kept_as_separate_terms_never_as_a_sentence():
    heard = "blah"
    changes = changed_terms(heard, heard, "Zyxor Quabble Frindle Vexnor Plimsy")
    assert changes.learned == ("Zyxor", "Quabble", "Frindle", "Vexnor", "Plimsy")
