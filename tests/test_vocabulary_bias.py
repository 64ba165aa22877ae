"""The safety rules of the vocabulary bias (app/vocabulary/bias.py), on what tiny.en really wrote
for the benchmark's espeak-ng passages with and without a term prompt. The recogniser itself
is exercised in test_vocabulary_recognition.py; here each rule is shown to keep a degenerate
biased pass out, and to take a good one in only where a term is."""

from __future__ import annotations

from app.vocabulary.bias import (
    Decoded,
    candidate_terms,
    degenerate,
    forms,
    improve,
    merge,
    polish,
)

TERMS = ("Chidi Okonkwo", "Kowalczyk", "Veltrix", "Orbisync", "Quorix", "Lumenade", "Zephyra",
         "metformin", "lisinopril", "amoxicillin", "atorvastatin", "tortfeasor")


def test_a_term_the_biased_pass_found_replaces_only_the_words_that_sound_like_it():
    heard = "Can a conk woe and car a lick share the slide after lunch?"
    biased = "Kowakkwo and Kowalczyk share the slide after lunch."
    assert merge(heard, biased, ["Kowalczyk"]) == \
        "Can a conk woe and Kowalczyk share the slide after lunch?"


def test_only_the_words_that_sound_like_the_term_are_replaced():
    heard = "We switched from a tromatomastatin to a low-end dose because of muscle pain."
    biased = "We switched from atorvastatin to a low adorps of muscle pain."
    assert merge(heard, biased, ["atorvastatin"]) == \
        "We switched from atorvastatin to a low-end dose because of muscle pain."


def test_words_the_biased_pass_changed_without_a_term_stay_as_heard():
    heard = "I cannot wait, we'll meet Shaiman's kid in Warsaw next month."
    biased = "I cannot wait, we'll meet the team in Warsaw next month."
    assert merge(heard, biased, ["Szymanski"]) == heard


def test_a_term_put_where_nothing_sounds_like_it_is_refused():
    heard = "The judge watched the suit on Thursday."
    biased = "The judge watched the subpoena Veltrix Thursday."
    assert merge(heard, biased, ["Veltrix"]) == heard


def test_degenerate_biased_passes_are_recognised():
    heard = Decoded("The R's I will, case and the humbers look fine.", -0.9)
    offered = ["Veltrix", "Quorix", "Zephyra"]
    echoed = Decoded("Veltrix, Quorix, Zephyra, customers, one to the same export.", -0.6)
    assert degenerate(heard, echoed, offered) == "echoed the prompt"
    stutter = Decoded("The Ba-ba-ba-ba-ba shows not Quorix.", -0.6)
    assert degenerate(heard, stutter, offered) == "stutter"
    looping = Decoded("the the the the the the the the", -0.6, 3.1)
    assert degenerate(heard, looping, offered) == "repetitive"
    repeated = Decoded("If Veltrix goes down, Veltrix stops too and then.", -0.5)
    assert degenerate(Decoded("If Melteric goes down, the fire stops do.", -0.9), repeated,
                      offered) == "repeated 'Veltrix'"
    dropped = Decoded("Kowalczyk, share.", -0.4)
    assert degenerate(Decoded("Can a conk woe and car a lick share the slide after lunch?",
                              -1.0), dropped, ["Kowalczyk"]) == "dropped words"
    good = Decoded("Did anyone test Orbisync with the new Veltrix release?", -0.5)
    assert degenerate(Decoded("Did anyone test harvesting with the new metric release?", -0.7),
                      good, ["Orbisync", "Veltrix"]) is None


def test_near_misses_are_spelled_as_the_term():
    assert polish("His tachycardia settled once molysynopril was reduced.",
                  ["lisinopril"]) == "His tachycardia settled once lisinopril was reduced."
    assert polish("Each tortfecer may claim it.", ["tortfeasor"]) == "Each tortfeasor may claim it."
    # a far-off word is left alone
    assert polish("We talked about the weather.", ["lisinopril"]) == \
        "We talked about the weather."


def test_a_full_name_is_also_matched_by_its_rare_family_name():
    assert forms("Chidi Okonkwo") == ("Chidi Okonkwo", "Okonkwo")
    assert forms("habeas corpus") == ("habeas corpus",)
    assert "Okonkwo" in candidate_terms("I send the draft to a con quo this morning.", TERMS, 2)


def test_a_confident_segment_is_never_touched_and_no_pass_is_run():
    calls = []

    def redecode(prompt: str) -> Decoded:
        calls.append(prompt)
        return Decoded("x", 0.0)

    outcome = improve(Decoded("The horizon seems extremely distant.", -0.2), TERMS, redecode)
    assert outcome.verdict == "confident"
    assert outcome.text == "The horizon seems extremely distant."
    assert calls == []


def test_an_unsure_segment_gets_a_probe_and_one_prompted_pass_with_few_terms():
    prompts = []
    heard = Decoded("The patient takes met for me in the morning.", -0.9)

    def redecode(prompt: str) -> Decoded:
        prompts.append(prompt)
        return Decoded("The patient takes metformin in the morning.", -0.5)

    outcome = improve(heard, TERMS, redecode, second_pass=True)
    assert outcome.verdict == "merged"
    assert outcome.text == "The patient takes metformin in the morning."
    assert len(prompts) == 2
    assert prompts[1].startswith("We talked about ")
    assert "metformin" in outcome.terms
    assert len(outcome.terms) <= 6


def test_an_unsure_segment_is_corrected_by_sound_without_decoding_again():
    calls = []

    def redecode(prompt: str) -> Decoded:
        calls.append(prompt)
        return Decoded("x", 0.0)

    heard = Decoded("We started at a master's in last month.", -0.9)
    outcome = improve(heard, TERMS, redecode)
    assert outcome.verdict == "sounded"
    assert outcome.text == "We started atorvastatin last month."
    assert calls == []
