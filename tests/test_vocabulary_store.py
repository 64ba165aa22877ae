"""The learned vocabulary (issue 12 §2) with the real ledger and the real encrypted store: learned
only with `vocabulary_learning`, only terms (never a sentence, never a meeting), encrypted at
rest, listed without the permission, erased by withdraw-and-delete, report, export and erase."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.consent import ConsentRequired
from app.derived_data import PRODUCING, count_derived, delete_derived
from app.storage import erase_everything, export_all, open_store
from app.storage.database import DB_NAME
from app.storage.report import build_report
from app.vocabulary.corrections import correct_segment, restore_heard
from app.vocabulary.store import BadTerm, VocabularyStore
from tests.support.storage import files_containing, granted_gate, record_meeting

CANDOR = Path(sys.executable).parent / "candor"
HEARD = ["I sent the draft to a con quo this morning.",
         "The patient takes met for me in the morning and lives in upper left eye."]
CORRECTED = ["I sent the draft to Chidi Okonkwo this morning.",
             "The patient takes metformin in the morning and lisinopril at night."]
LEARNED = {"Chidi Okonkwo", "metformin", "lisinopril"}


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CANDOR), *args], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())


@pytest.fixture
def meeting(candor_home):
    gate = granted_gate(("transcript_storage", "transcription", "vocabulary_learning"))
    store = open_store()
    mid = record_meeting(store, gate, HEARD, title="Ward round")
    yield store, mid, gate
    store.close()
    gate.close()


def _correct_all(store, mid, gate):
    return [correct_segment(store, mid, i, text, gate) for i, text in enumerate(CORRECTED)]


def _vocabulary_rows() -> list[tuple]:
    from app.paths import data_dir

    conn = sqlite3.connect(data_dir() / DB_NAME)
    rows = conn.execute("SELECT * FROM vocabulary_terms").fetchall()
    conn.close()
    return rows


def test_with_the_permission_corrections_teach_terms_only(meeting, candor_home):
    store, mid, gate = meeting
    outcomes = _correct_all(store, mid, gate)
    assert [o.learning for o in outcomes] == ["learned", "learned"]
    terms = VocabularyStore(store).terms()
    assert {t.text for t in terms} == LEARNED
    record = gate.record_id("vocabulary_learning")
    for term in terms:
        assert term.origin == "corrected"
        assert term.times_corrected == 1
        assert term.records == (record,)
    # the list holds no sentence: every term is a few words, none is a segment, heard or
    # corrected, and no term row names a meeting
    sentences = {s.casefold().rstrip(".") for s in HEARD + CORRECTED}
    for term in terms:
        assert len(term.text.split()) <= 2
        assert term.text.casefold() not in sentences
        assert all(term.text.casefold() != s and len(term.text) < len(s) / 2 for s in sentences)
    assert all(mid not in repr(row) for row in _vocabulary_rows())
    store.close()
    # and on disk the terms are encrypted
    assert files_containing(candor_home, [t.encode() for t in LEARNED]) == []
    # decrypting every raw row of the vocabulary with its own key gives back only the terms
    from app import keystore
    from app.paths import data_dir
    from app.storage import crypto

    conn = sqlite3.connect(data_dir() / DB_NAME)
    wrapped = conn.execute("SELECT wrapped FROM vocabulary_key").fetchone()[0]
    key = crypto.unwrap_key(keystore.get_secret(crypto.MASTER_KEY_NAME), "vocabulary", wrapped)
    plain = [crypto.open_text(key, "vocabulary", f"term:{term_id}", None, blob)
             for term_id, blob in conn.execute("SELECT id, term FROM vocabulary_terms")]
    conn.close()
    assert sorted(plain) == sorted(LEARNED)


def test_the_same_term_corrected_again_is_counted_not_duplicated(meeting):
    store, mid, gate = meeting
    _correct_all(store, mid, gate)
    other = record_meeting(store, gate, ["Ask a con quo."], title="Later")
    correct_segment(store, other, 0, "Ask Okonkwo.", gate)
    correct_segment(store, other, 0, "Ask Chidi Okonkwo.", gate)
    by_text = {t.text: t for t in VocabularyStore(store).terms()}
    assert set(by_text) == LEARNED | {"Okonkwo"}
    assert by_text["Chidi Okonkwo"].times_corrected == 2


def test_without_the_permission_nothing_is_learned(meeting):
    store, mid, gate = meeting
    gate.withdraw("vocabulary_learning", via="test")
    outcomes = _correct_all(store, mid, gate)
    assert {o.learning for o in outcomes} == {"not_permitted"}
    assert [s.text for s in store.get(mid).segments] == CORRECTED  # still corrected
    assert VocabularyStore(store).terms() == []
    assert _vocabulary_rows() == []


def test_an_undo_takes_a_learned_term_back(meeting):
    store, mid, gate = meeting
    _correct_all(store, mid, gate)
    undo = restore_heard(store, mid, 1, gate)
    assert set(undo.forgotten) == {"metformin", "lisinopril"}
    assert {t.text for t in VocabularyStore(store).terms()} == {"Chidi Okonkwo"}


def test_glossary_add_needs_the_permission_and_rejects_sentences(meeting):
    store, _mid, gate = meeting
    vocabulary = VocabularyStore(store)
    added = vocabulary.add(["Nakagawa", "voir dire", "nakagawa"], gate)
    assert sorted(t.text for t in added) == ["Nakagawa", "voir dire"]
    assert {t.origin for t in added} == {"added"}
    with pytest.raises(BadTerm, match="not sentences"):
        vocabulary.add(["we will ask for indemnification in the settlement"], gate)
    gate.withdraw("vocabulary_learning", via="test")
    with pytest.raises(ConsentRequired, match="vocabulary_learning"):
        vocabulary.add(["Adebayo"], gate)
    # removing needs no permission
    assert vocabulary.remove(["NAKAGAWA", "Adebayo"]) == (["Nakagawa"], ["Adebayo"])
    assert vocabulary.texts() == ["voir dire"]


def test_withdraw_and_delete_empties_the_list_and_reports_what_it_will_delete(meeting):
    store, mid, gate = meeting
    _correct_all(store, mid, gate)
    VocabularyStore(store).add(["Adebayo"], gate)
    assert "vocabulary_learning" in PRODUCING
    grants = gate.grant_record_ids("vocabulary_learning")
    store.close()
    assert count_derived("vocabulary_learning", grants) == 4
    gate.withdraw("vocabulary_learning", via="test", delete_data=True)
    assert delete_derived("vocabulary_learning", grants) == 4
    with open_store() as reopened:
        assert VocabularyStore(reopened).terms() == []
        assert [s.text for s in reopened.get(mid).segments] == CORRECTED  # transcripts stay
    assert _vocabulary_rows() == []


def test_cli_list_add_remove_clear_and_revoke_with_delete(meeting):
    store, mid, gate = meeting
    _correct_all(store, mid, gate)
    store.close()
    listed = json.loads(candor("vocabulary", "list", "--json").stdout)
    assert listed["vocabulary_learning"] == "given"
    assert {t["term"] for t in listed["terms"]} == LEARNED
    assert set(listed["terms"][0]) == {"term", "origin", "times_corrected", "first_learned",
                                       "last_learned", "consent_records", "kind"}
    added = candor("vocabulary", "add", "Przybylski", "habeas corpus")
    assert added.returncode == 0
    assert "Added: habeas corpus, Przybylski" in added.stdout
    assert candor("vocabulary", "add", "one two three four five").returncode == 2
    assert candor("vocabulary", "remove", "Nobody").returncode == 2
    assert candor("vocabulary", "remove", "habeas corpus").returncode == 0
    text = candor("vocabulary", "list").stdout
    assert any(line.split()[:3] == ["Przybylski", "(guess)", "added"] for line in text.splitlines())
    assert "metformin" in text

    revoked = candor("consent", "revoke", "vocabulary_learning")
    assert "4 item(s) produced under it are still kept" in revoked.stdout
    listed = json.loads(candor("vocabulary", "list", "--json").stdout)
    assert listed["vocabulary_learning"] == "not given"
    assert len(listed["terms"]) == 4  # listing works without the permission
    refused = candor("vocabulary", "add", "Adebayo")
    assert refused.returncode == 3
    assert "candor consent grant vocabulary_learning" in refused.stderr
    deleted = candor("consent", "revoke", "vocabulary_learning", "--delete-data")
    assert "Deleted 4 item(s) produced under vocabulary_learning." in deleted.stdout
    assert "The vocabulary is empty." in candor("vocabulary", "list").stdout

    gate.grant("vocabulary_learning", via="test")
    candor("vocabulary", "add", "Szymanski")
    cleared = candor("vocabulary", "clear")
    assert "Removed 1 term(s)" in cleared.stdout
    assert _vocabulary_rows() == []


def test_report_export_and_erase_include_the_vocabulary(meeting, candor_home, tmp_path):
    store, mid, gate = meeting
    _correct_all(store, mid, gate)
    report = build_report(store, gate=gate).to_dict()
    category = next(c for c in report["categories"] if c["category"] == "vocabulary")
    assert category["count"] == 3
    assert category["consent"]["state"] == "given"
    exported = export_all(store, tmp_path / "out", gate=gate)
    assert exported.vocabulary_terms == 3
    body = json.loads((tmp_path / "out" / "vocabulary.json").read_text())
    assert {t["term"] for t in body["terms"]} == LEARNED
    assert "Vocabulary:" in (tmp_path / "out" / "report.txt").read_text()
    store.close()
    result = erase_everything(candor_home)
    assert result.vocabulary_terms == 3
    with open_store() as fresh:
        assert VocabularyStore(fresh).terms() == []
