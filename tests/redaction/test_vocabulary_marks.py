"""A vocabulary term marked as a name is always redacted, one marked as a term never is (issue
14 §1), in every export format, through the real CLI on a real SQLite store; the mark survives
reopening and an upgraded database; unmarked terms keep today's guess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.privacy.redact import Redactor
from app.privacy.vocabulary_names import vocabulary_names, vocabulary_terms
from app.storage import export_all, open_store
from app.storage.database import DB_NAME, connect
from app.storage.schema import LATEST_VERSION, schema_version
from app.vocabulary.store import VocabularyStore
from tests.support.storage import granted_gate, record_meeting

CANDOR = Path(sys.executable).parent / "candor"
# No cue finds "okonkwo" (lower case, in no name list); "Kowalczyk" after "with" is a Census
# surname, so today's guess takes it for a name.
TEXT = "the deal with Kowalczyk closed after okonkwo signed the order"
PURPOSES = ("transcript_storage", "transcription", "vocabulary_learning")


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CANDOR), *args], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())


@pytest.fixture
def meeting(candor_home):
    gate = granted_gate(PURPOSES)
    with open_store() as store:
        mid = record_meeting(store, gate, [TEXT])
    yield mid, gate
    gate.close()


def test_a_name_mark_redacts_and_a_term_mark_keeps_in_every_export_format(meeting):
    mid, _ = meeting
    assert "okonkwo" in Redactor().redact(TEXT).text  # no cue finds it without the mark
    added = candor("vocabulary", "add", "Okonkwo", "--name")
    assert added.returncode == 0, added.stderr
    assert candor("vocabulary", "add", "Kowalczyk").returncode == 0
    marked = candor("vocabulary", "mark", "kowalczyk", "--term")
    assert marked.returncode == 0, marked.stderr
    assert "Marked as a term" in marked.stdout
    for fmt in ("txt", "srt", "vtt", "json", "md"):
        result = candor("meetings", "export", mid, "--format", fmt, "--redact")
        assert result.returncode == 0, (fmt, result.stderr)
        assert "okonkwo" not in result.stdout.casefold(), fmt
        assert "Kowalczyk closed after [NAME] signed" in result.stdout, fmt


def test_unmarked_terms_keep_todays_guess_and_guess_undoes_a_mark(meeting):
    mid, _ = meeting
    assert candor("vocabulary", "add", "Kowalczyk", "Okonkwo").returncode == 0
    exported = candor("meetings", "export", mid, "--format", "txt", "--redact").stdout
    assert exported.strip() == "the deal with [NAME] closed after okonkwo signed the order"
    assert candor("vocabulary", "mark", "Kowalczyk", "--term").returncode == 0
    assert candor("vocabulary", "mark", "Kowalczyk", "--guess").returncode == 0
    assert candor("meetings", "export", mid, "--format", "txt", "--redact").stdout == exported


def test_the_mark_is_listed_exported_and_survives_reopening(meeting, tmp_path):
    assert candor("vocabulary", "add", "Okonkwo", "--name").returncode == 0
    assert candor("vocabulary", "add", "Flink", "Postgres").returncode == 0
    assert candor("vocabulary", "mark", "Flink", "--term").returncode == 0
    listed = json.loads(candor("vocabulary", "list", "--json").stdout)
    assert {t["term"]: t["kind"] for t in listed["terms"]} == {
        "Okonkwo": "name", "Flink": "term", "Postgres": None}
    rows = {line.split()[0]: line.split()[1] for line in candor("vocabulary", "list")
            .stdout.splitlines()[2:-1]}
    assert rows == {"Okonkwo": "name", "Flink": "term", "Postgres": "(guess)"}
    with open_store() as store:
        assert {t.text: t.kind for t in VocabularyStore(store).terms()} == {
            "Okonkwo": "name", "Flink": "term", "Postgres": None}
        assert vocabulary_names(store) == ["Okonkwo"]
        assert sorted(vocabulary_terms(store)) == ["Flink", "Postgres"]
        export_all(store, tmp_path / "out", gate=meeting[1])
    exported = json.loads((tmp_path / "out" / "vocabulary.json").read_text())
    assert {t["term"]: t["kind"] for t in exported["terms"]} == {
        "Okonkwo": "name", "Flink": "term", "Postgres": None}


def test_marking_an_unknown_term_or_without_the_permission_is_refused(meeting):
    assert candor("vocabulary", "add", "Okonkwo").returncode == 0
    unknown = candor("vocabulary", "mark", "Okonkwo", "Nobody", "--name")
    assert unknown.returncode == 2
    assert "not in the vocabulary: Nobody" in unknown.stderr
    assert "candor vocabulary list" in unknown.stderr
    no_kind = candor("vocabulary", "mark", "Okonkwo")
    assert no_kind.returncode == 2
    assert "--name" in no_kind.stderr
    assert candor("consent", "revoke", "vocabulary_learning").returncode == 0
    refused = candor("vocabulary", "mark", "Okonkwo", "--name")
    assert refused.returncode == 3
    assert "candor consent grant vocabulary_learning" in refused.stderr
    with open_store() as store:
        assert [t.kind for t in VocabularyStore(store).terms()] == [None]


def test_a_vocabulary_from_before_marks_upgrades_unmarked(candor_home):
    from app.paths import data_dir

    gate = granted_gate(PURPOSES)
    with open_store() as store:
        VocabularyStore(store).add(["Okonkwo"], gate)
    # The same database as the previous schema held it: no kind column, one version back.
    conn = connect(data_dir() / DB_NAME)
    conn.execute("ALTER TABLE vocabulary_terms DROP COLUMN kind")
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION - 1}")
    assert schema_version(conn) == LATEST_VERSION - 1
    conn.close()
    with open_store() as store:
        assert store.stats().schema_version == LATEST_VERSION
        assert [(t.text, t.kind) for t in VocabularyStore(store).terms()] == [("Okonkwo", None)]
        assert vocabulary_names(store) == []  # unmarked and in no name list: today's guess
        VocabularyStore(store).mark(["okonkwo"], "name", gate)
    with open_store() as store:
        assert VocabularyStore(store).terms()[0].kind == "name"
        assert vocabulary_names(store) == ["Okonkwo"]
    gate.close()
