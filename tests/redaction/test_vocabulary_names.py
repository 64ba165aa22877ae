"""Names in the vocabulary are always redacted, by `candor meetings export --redact` as by the
window's redacted export, even where no other cue finds them (written in lower case)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.privacy.redact import Redactor
from app.privacy.vocabulary_names import looks_like_name, vocabulary_names
from app.storage import open_store
from app.vocabulary.store import VocabularyStore
from tests.support.storage import granted_gate, record_meeting

CANDOR = Path(sys.executable).parent / "candor"
TEXT = "the deal with okonkwo closed on the metformin order"


def test_a_vocabulary_name_is_redacted_in_the_cli_export(candor_home):
    gate = granted_gate(("transcript_storage", "transcription", "vocabulary_learning"))
    with open_store() as store:
        mid = record_meeting(store, gate, [TEXT])
        assert Redactor().redact(TEXT).spans == ()  # no cue finds it without the vocabulary
        VocabularyStore(store).add(["Okonkwo", "metformin"], gate)
        assert vocabulary_names(store) == ["Okonkwo"]  # a term, not written like a name: kept
    gate.close()
    result = subprocess.run([str(CANDOR), "meetings", "export", mid, "--format", "txt",
                             "--redact"], capture_output=True, text=True, timeout=120,
                            env=os.environ.copy())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "the deal with [NAME] closed on the metformin order"


def test_what_looks_like_a_name():
    assert looks_like_name("Anna Kowalczyk")
    assert not looks_like_name("habeas corpus")
    assert not looks_like_name("")
