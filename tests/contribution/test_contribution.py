"""Anonymised, aggregated contribution (issue 14 §2, §6): planted identifiers never reach the
file, no pair seen in fewer than k meetings is in it, the preview is the file, the export needs
its single-use permission, and a bad ε is refused clearly. Real SQLite and AES-GCM, the real
consent ledger, real OpenDP noise, the real `candor` command."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.contribution import pending
from app.contribution.aggregate import DEFAULT_K, aggregate, read_meetings
from app.contribution.pairs import Pair, meeting_pairs, segment_pairs
from app.privacy.redact import Redactor
from app.privacy.vocabulary_names import vocabulary_names
from app.storage import crypto, open_store
from tests.contribution.corrected_meetings import (
    BELOW_K,
    PLANTED_STRINGS,
    REAL_PAIRS,
    plant,
)
from tests.support.storage import files_containing, granted_gate

CANDOR = Path(sys.executable).parent / "candor"


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CANDOR), *args], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())


@pytest.fixture
def planted(candor_home):
    gate = granted_gate()
    store = open_store()
    ids = plant(store, gate)
    store.close()
    gate.close()
    return ids


def _pairs(document: dict) -> set[tuple[str, str]]:
    return {(p["heard"], p["corrected"]) for p in document["pairs"]}


def test_a_meetings_pairs_hold_its_real_confusions_and_no_planted_identifier(planted):
    with open_store() as store:
        meeting = store.get(planted[0])
        pairs = meeting_pairs(meeting, Redactor(vocabulary_names(store)))
    assert {(p.heard, p.corrected) for p in pairs} == REAL_PAIRS


def test_capitalised_jargon_corrections_are_kept_and_names_beside_them_dropped():
    redactor = Redactor()
    corrections = [
        ("file it in gyra please", "File it in Jira, please.", ("gyra", "jira")),
        ("we use tensor flow now", "We use TensorFlow now.", ("tensor flow", "tensorflow")),
        ("open gravana now", "Open Grafana now.", ("gravana", "grafana")),
        ("put it in reddis", "Put it in Redis.", ("reddis", "redis")),
        ("we are on post grass", "We are on Postgres.", ("post grass", "postgres")),
    ]
    for heard, corrected, pair in corrections:
        assert segment_pairs(heard, corrected, redactor) == [Pair(*pair)], corrected
    names = [
        ("ask pria about it", "Ask Priya about it."),  # after "ask"
        ("pria said so", "Priya said so."),  # a verb people do
        ("i met tomas yesterday", "I met Tomasz yesterday."),
        ("dr okon will see you", "Dr Okonkwo will see you."),  # a title
        ("we met anna cowalczyk", "We met Anna Kowalczyk."),  # Census names
        ("grace said no", "Siobhan said no."),
    ]
    for heard, corrected in names:
        assert segment_pairs(heard, corrected, redactor) == [], corrected


def test_the_aggregate_counts_meetings_and_keeps_no_pair_seen_in_fewer_than_k(planted):
    with open_store() as store:
        data = aggregate(read_meetings(store), Redactor(), k=DEFAULT_K)
    at_k = Pair("post grass", "postgres")  # AT_K, in exactly k meetings
    assert data.counts == {**{Pair(*p): 8 for p in REAL_PAIRS}, at_k: 3}
    assert Pair("their", "they're") not in data.counts  # BELOW_K: in 2 < k meetings
    assert data.meetings_read == 13
    assert data.models == ("tiny.en",)


def test_the_preview_is_the_exported_file_with_no_identifier_and_its_privacy_stated(
        planted, candor_home, tmp_path):
    preview = candor("contribute", "preview", "--json", "--epsilon", "10")
    assert preview.returncode == 0, preview.stderr
    assert candor("consent", "grant", "contribution", "--yes").returncode == 0
    out = tmp_path / "contribution.json"
    export = candor("contribute", "export", str(out), "--epsilon", "10")
    assert export.returncode == 0, export.stderr

    text = out.read_text(encoding="utf-8")
    assert text == preview.stdout
    document = json.loads(text)
    # at ε = 10 the noise is small: both real pairs (8 meetings each) are shared
    assert _pairs(document) == REAL_PAIRS
    for pair in document["pairs"]:
        assert pair["meetings"] >= document["privacy"]["threshold_meetings"] >= DEFAULT_K
    privacy = document["privacy"]
    assert privacy["epsilon"] == pytest.approx(10.0)
    assert 0 < privacy["delta"] <= 1e-6
    assert privacy["k"] == DEFAULT_K
    assert document["models"] == ["tiny.en"]
    assert document["app_version"]
    lowered = text.casefold()
    assert [s for s in PLANTED_STRINGS if s in lowered] == []
    assert BELOW_K[1].split()[0] not in lowered
    # no meeting id, no time, no sentence
    assert [mid for mid in planted if mid in text] == []
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}", text)
    assert all(len(p["heard"].split()) <= 3 and len(p["corrected"].split()) <= 3
               for p in document["pairs"])
    # the kept draw is sealed: no corrected term is readable in the data directory
    assert files_containing(candor_home, [b"kubernetes", b"metformin", b"netties"]) == []


def test_preview_and_export_use_one_kept_draw_sealed_and_erased_with_everything(
        planted, candor_home, tmp_path):
    first = candor("contribute", "preview", "--json", "--epsilon", "10")
    again = candor("contribute", "preview", "--json", "--epsilon", "10")
    assert first.returncode == again.returncode == 0
    assert first.stdout == again.stdout
    # The kept draw is what preview and export show, not a fresh one: replace it (sealed, for
    # the same corrections and ε) and both show the replacement.
    kept_path = candor_home / pending.PENDING_NAME
    with open_store() as store:
        master = store.master_key(create=False)
        blob = base64.b64decode(kept_path.read_text())
        kept = json.loads(crypto.open_text(master, "contribution", "release", None, blob))
        assert [d["text"] for d in kept["draws"]] == [first.stdout]
        marked = first.stdout.replace('"about": "', '"about": "MARKED ')
        assert marked != first.stdout
        pending.keep(candor_home, master, kept["draws"][0]["fingerprint"], marked)
    assert candor("contribute", "preview", "--json", "--epsilon", "10").stdout == marked
    assert candor("consent", "grant", "contribution", "--yes").returncode == 0
    out = tmp_path / "c.json"
    assert candor("contribute", "export", str(out), "--epsilon", "10").returncode == 0
    assert out.read_text(encoding="utf-8") == marked
    # another ε is another draw
    other = candor("contribute", "preview", "--json", "--epsilon", "9")
    assert json.loads(other.stdout)["privacy"]["epsilon"] == pytest.approx(9.0)

    human = candor("contribute", "preview", "--epsilon", "2")
    assert human.returncode == 0
    assert "epsilon 2" in human.stdout
    assert "k 3" in human.stdout
    assert "writes exactly this" in human.stdout
    # the kept draw goes with everything else
    assert candor("data", "erase", "--yes").returncode == 0
    assert not kept_path.exists()


def test_a_preview_for_another_epsilon_does_not_replace_the_one_the_user_is_saving(
        planted, tmp_path):
    # The window computes its first preview (default ε) and the one for the ε the user typed at
    # once; whichever finished last used to be the only draw kept, and the export then drew anew
    # and wrote a file the user had never seen.
    from app.contribution.service import export, prepare

    with open_store() as store:
        wanted = prepare(store, 10.0).text
        other = prepare(store, 1.0).text  # finishes later
        assert json.loads(other)["privacy"]["epsilon"] == pytest.approx(1.0)
        assert prepare(store, 10.0).text == wanted  # stepping ε back shows the same draw
        gate = granted_gate(["contribution"])
        try:
            out = tmp_path / "c.json"
            assert export(store, out, gate, 10.0).text == wanted
        finally:
            gate.close()
    assert out.read_text(encoding="utf-8") == wanted
    assert candor("contribute", "preview", "--json", "--epsilon", "1").stdout == other


def test_every_draw_is_kept_beside_the_others_and_the_oldest_go_past_the_bound(tmp_path):
    # At ε = 10 a fresh draw often prints the same counts, so the test above can pass by luck;
    # this one cannot.
    master = bytes(range(32))
    pending.keep(tmp_path, master, "for-epsilon-10", "release A")
    pending.keep(tmp_path, master, "for-epsilon-1", "release B")
    assert pending.load(tmp_path, master, "for-epsilon-10") == "release A"
    assert pending.load(tmp_path, master, "for-epsilon-1") == "release B"
    assert pending.load(tmp_path, bytes(32), "for-epsilon-10") is None  # another key
    for i in range(pending.MAX_KEPT):
        pending.keep(tmp_path, master, f"later-{i}", f"release {i}")
    assert pending.load(tmp_path, master, "for-epsilon-10") is None
    assert pending.load(tmp_path, master, f"later-{pending.MAX_KEPT - 1}") == \
        f"release {pending.MAX_KEPT - 1}"


def test_the_default_epsilon_is_at_most_one_and_shares_nothing_this_rare(planted):
    preview = candor("contribute", "preview", "--json")
    document = json.loads(preview.stdout)
    assert document["privacy"]["epsilon"] <= 1.0
    # 8 meetings is far below what ε = 1 needs (threshold ~31 meetings): nothing is shared
    assert document["pairs"] == []


def test_export_needs_its_single_use_permission_each_time(planted, tmp_path):
    out = tmp_path / "c.json"
    refused = candor("contribute", "export", str(out))
    assert refused.returncode == 3
    assert "contribution" in refused.stderr
    assert "candor consent grant contribution" in \
        refused.stderr
    assert not out.exists()

    assert candor("consent", "grant", "contribution", "--yes").returncode == 0
    assert candor("contribute", "export", str(out)).returncode == 0
    assert out.exists()
    out.unlink()
    again = candor("contribute", "export", str(out))
    assert again.returncode == 3  # the one use was consumed
    assert not out.exists()
    history = json.loads(candor("consent", "history", "--json").stdout)
    records = history["records"] if isinstance(history, dict) else history
    states = [r["state"] for r in records if r["purpose"] == "contribution"]
    assert states == ["given", "expired"]


@pytest.mark.parametrize("epsilon", ["0", "-1", "abc", "11", "nan", "inf"])
def test_an_unusable_epsilon_is_refused_with_what_to_give(planted, tmp_path, epsilon):
    out = tmp_path / "c.json"
    assert candor("consent", "grant", "contribution", "--yes").returncode == 0
    for args in (["export", str(out)], ["preview"]):
        result = candor("contribute", *args, "--epsilon", epsilon)
        assert result.returncode == 2
        assert "epsilon must be a number greater than 0 and at most 10" in result.stderr
    assert not out.exists()
    # the permission was not used by the refusal
    assert candor("contribute", "export", str(out)).returncode == 0
