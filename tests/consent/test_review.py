"""Consent reviewed over time: due dates from the real ledger with an injected clock, `reviewed`
notes that never change a permission, and the command line that shows and records reviews."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from app.consent import open_gate
from app.consent.review import (
    ReviewError,
    add_months,
    due_for_review,
    keep,
    review_statuses,
)
from tests.support.clock import install_ledger_clock

T0 = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          timeout=60)


def due(gate, now, period="6m") -> list[str]:
    return [s.purpose for s in due_for_review(gate, now, period)]


def test_a_permission_is_due_after_the_period_and_a_review_resets_it(monkeypatch):
    clock = install_ledger_clock(monkeypatch, T0)
    gate = open_gate()
    grant = gate.grant("transcription", via="test")
    clock.advance(days=1)
    gate.grant("microphone", via="test")

    assert due(gate, add_months(T0, 6) - timedelta(minutes=1)) == []
    assert due(gate, add_months(T0, 6) + timedelta(minutes=1)) == ["transcription"]
    assert due(gate, add_months(T0, 7)) == ["microphone", "transcription"]
    assert due(gate, add_months(T0, 3) + timedelta(days=2), "3m") == ["microphone", "transcription"]
    assert due(gate, add_months(T0, 11), "12m") == []
    assert due(gate, add_months(T0, 60), "never") == []

    reviewed_at = clock.advance(days=200)  # the user looks at the banner 7 months on
    [note] = keep(gate, ["transcription"], via="test")
    assert note.state == "reviewed"
    assert note.purpose == "transcription"
    # A note never changes the permission: same grant in force, still given.
    assert gate.allowed("transcription")
    assert gate.record_id("transcription") == grant.record_id

    assert due(gate, reviewed_at + timedelta(days=1)) == ["microphone"]
    [status] = [s for s in review_statuses(gate, reviewed_at, "6m") if s.purpose == "transcription"]
    assert status.given_at == T0
    assert status.reviewed_at == (reviewed_at,)
    assert status.last_confirmed_at == reviewed_at
    assert status.due_at == add_months(reviewed_at, 6)
    assert due(gate, add_months(reviewed_at, 6) + timedelta(minutes=1)) == [
        "microphone", "transcription"
    ]
    gate.close()


def test_reviews_of_an_earlier_grant_do_not_count_after_giving_it_again(monkeypatch):
    clock = install_ledger_clock(monkeypatch, T0)
    gate = open_gate()
    gate.grant("transcription", via="test")
    clock.advance(days=190)
    keep(gate, ["transcription"], via="test")
    clock.advance(days=10)
    gate.withdraw("transcription", via="test")
    assert review_statuses(gate, clock.now, "6m") == []  # not given: nothing to review
    regranted = clock.advance(days=400)
    gate.grant("transcription", via="test")
    [status] = review_statuses(gate, regranted, "6m")
    assert status.given_at == regranted
    assert status.reviewed_at == ()
    assert not status.due
    gate.close()


def test_ignoring_a_due_review_changes_nothing_and_bad_reviews_record_nothing(monkeypatch):
    install_ledger_clock(monkeypatch, T0)
    gate = open_gate()
    gate.grant("transcription", via="test")
    gate.grant("model_download", via="test")
    before = gate.ledger.records()
    assert due(gate, add_months(T0, 24)) == ["transcription"], "single-use ones are never due"
    assert [s.state for s in gate.states()] == [s.state for s in open_gate().states()]
    with pytest.raises(ReviewError, match="asked for each time"):
        keep(gate, ["model_download"], via="test")
    with pytest.raises(ReviewError, match="not given"):
        keep(gate, ["transcription", "microphone"], via="test")
    assert gate.ledger.records() == before
    gate.close()


def test_month_arithmetic_clamps_to_the_end_of_the_month():
    assert add_months(datetime(2025, 8, 31, tzinfo=UTC), 6) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2023, 8, 31, tzinfo=UTC), 6) == datetime(2024, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2025, 11, 5, tzinfo=UTC), 3) == datetime(2026, 2, 5, tzinfo=UTC)


def test_cli_shows_what_is_due_and_records_a_review(monkeypatch):
    # The grant was recorded seven months ago (the ledger's clock set back); the command line
    # then runs on the real clock.
    given = datetime.now(UTC) - timedelta(days=213)
    install_ledger_clock(monkeypatch, given)
    gate = open_gate()
    gate.grant("transcription", via="test")
    gate.grant("microphone", via="test")
    gate.close()
    # The commands below run in other processes, on the real clock.

    rows = {r["id"]: r for r in json.loads(candor("consent", "list", "--json").stdout)}
    assert rows["transcription"]["review_due"] is True
    assert rows["transcription"]["last_reviewed_at"] is None
    assert rows["transcription"]["review_due_at"].startswith(
        add_months(given, 6).strftime("%Y-%m-%d"))
    assert rows["noise_suppression"]["review_due"] is False
    text = candor("consent", "list").stdout
    assert "DUE FOR REVIEW" in text
    assert "candor consent review --keep" in text

    shown = candor("consent", "review")
    assert shown.returncode == 0
    assert "2 due for review" in shown.stdout
    assert "Ignoring this changes nothing" in shown.stdout
    assert len(open_gate().ledger.records()) == 2, "showing what is due records nothing"

    kept = candor("consent", "review", "transcription", "--keep")
    assert kept.returncode == 0, kept.stderr
    assert "Kept after review: transcription." in kept.stdout
    notes = open_gate().notes("transcription", "reviewed")
    assert [(n.state, n.collection_method) for n in notes] == [("reviewed", "cli")]

    rows = {r["id"]: r for r in json.loads(candor("consent", "list", "--json").stdout)}
    assert rows["transcription"]["review_due"] is False
    assert rows["transcription"]["last_reviewed_at"] is not None
    assert rows["microphone"]["review_due"] is True
    assert rows["transcription"]["granted"] is True

    receipt = json.loads(candor("consent", "receipt", "transcription").stdout)
    [entry] = receipt["pii_processing"]["purposes"]
    assert entry["review"]["reviewed_at"] == [rows["transcription"]["last_reviewed_at"]]
    assert entry["review"]["review_due"] is False
    assert entry["review"]["given_at"].startswith(given.strftime("%Y-%m-%d"))

    all_kept = candor("consent", "review", "--keep", "--json")
    assert json.loads(all_kept.stdout)["kept"] == ["microphone"], "only what was due"


def test_cli_review_period_setting_and_bad_input():
    assert candor("consent", "grant", "transcription", "--yes").returncode == 0
    out = json.loads(candor("consent", "review", "--every", "12m", "--json").stdout)
    assert out["period"] == "12m"
    [row] = out["permissions"]
    assert row["review_due_at"][:4] == str(int(row["given_at"][:4]) + 1)
    assert json.loads(candor("consent", "review", "--json").stdout)["period"] == "12m"
    never = json.loads(candor("consent", "review", "--every", "never", "--json").stdout)
    assert never["permissions"][0]["review_due_at"] is None

    assert candor("consent", "review", "--every", "5m").returncode == 2
    unknown = candor("consent", "review", "bogus", "--keep")
    assert unknown.returncode == 2
    assert "valid purposes" in unknown.stderr
    not_given = candor("consent", "review", "microphone", "--keep")
    assert not_given.returncode == 2
    assert "not given" in not_given.stderr
    without_keep = candor("consent", "review", "transcription")
    assert without_keep.returncode == 2
    assert "--keep" in without_keep.stderr
    assert open_gate().notes("transcription") == []
