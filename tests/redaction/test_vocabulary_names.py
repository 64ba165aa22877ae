"""Names in the vocabulary are always redacted, by `candor meetings export --redact` as by the
window's redacted export, even where no other cue finds them (written in lower case)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.privacy.names import is_person_name
from app.privacy.redact import Redactor
from app.privacy.vocabulary_names import (
    looks_like_name,
    vocabulary_names,
    vocabulary_redactor,
    vocabulary_terms,
)
from app.storage import open_store
from app.vocabulary.store import VocabularyStore
from tests.support.storage import granted_gate, record_meeting

CANDOR = Path(sys.executable).parent / "candor"
TEXT = "the deal with kowalczyk closed on the metformin order in Postgres"


def test_a_vocabulary_name_is_redacted_in_the_cli_export(candor_home):
    gate = granted_gate(("transcript_storage", "transcription", "vocabulary_learning"))
    with open_store() as store:
        mid = record_meeting(store, gate, [TEXT])
        assert Redactor().redact(TEXT).spans == ()  # no cue finds it without the vocabulary
        VocabularyStore(store).add(["Kowalczyk", "metformin", "Postgres"], gate)
        # A name (a Census surname) is always caught; "metformin" is not written like a name,
        # and "Postgres", written like one, is in neither name list: both are kept.
        assert vocabulary_names(store) == ["Kowalczyk"]
        assert sorted(vocabulary_terms(store)) == ["Postgres", "metformin"]
    gate.close()
    result = subprocess.run([str(CANDOR), "meetings", "export", mid, "--format", "txt",
                             "--redact"], capture_output=True, text=True, timeout=120,
                            env=os.environ.copy())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == \
        "the deal with [NAME] closed on the metformin order in Postgres"


def test_what_looks_like_a_name():
    assert looks_like_name("Anna Kowalczyk")
    assert not looks_like_name("habeas corpus")
    assert not looks_like_name("")


def test_vocabulary_terms_that_are_no_name_are_never_redacted_and_names_always_are(candor_home):
    gate = granted_gate(("transcript_storage", "transcription", "vocabulary_learning"))
    # Product names a cue would take for names (rare, capitalised, at a sentence start or
    # after "with"), and names: listed ones and a two-word one outside the lists.
    text = ("Okta broke the login again. We paired with Flink on it, said Ms Garcia, and "
            "Priya Raman met Anna about Flink too.")
    before = Redactor().redact(text)
    assert "Flink" in [s.original for s in before.spans]  # the bare cue: rare, after "with"
    with open_store() as store:
        VocabularyStore(store).add(["Okta", "Flink", "Priya Raman", "anna"], gate)
        redactor = vocabulary_redactor(store)
    gate.close()
    redacted = redactor.redact(text).text
    assert redacted == ("Okta broke the login again. We paired with Flink on it, said Ms [NAME], "
                        "and [NAME] met [NAME] about Flink too.")


def test_which_terms_are_names():
    assert is_person_name("Anna Kowalczyk")
    assert is_person_name("Priya Raman")  # two capitalised words: a full name
    assert is_person_name("marc")  # a first name, whatever its case
    assert is_person_name("Jenkins")  # a surname: kept a name, to be safe
    for term in ("Postgres", "Kubernetes", "Jira", "TensorFlow", "GitHub", "AWS", "S3",
                 "kubernetes", "metformin"):
        assert not is_person_name(term), term
