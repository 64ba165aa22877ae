"""Kantara Consent Receipt v1.1 output, validated against the specification's published JSON
schema (tests/consent/schemas/, source named in its README) with the `jsonschema` validator."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from app.consent import open_gate
from app.consent.kantara import NothingGiven, build_kantara_receipt
from app.consent.review import add_months, keep
from tests.support.clock import install_ledger_clock

SCHEMA_PATH = Path(__file__).parent / "schemas" / "kantara-consent-receipt-v1_1-schema.json"


def kantara_schema() -> dict:
    # The published file opens with two `//` comment lines, which JSON does not allow.
    lines = SCHEMA_PATH.read_text(encoding="utf-8").splitlines()
    return json.loads("\n".join(line for line in lines if not line.lstrip().startswith("//")))


def validate(receipt: object) -> None:
    schema = kantara_schema()
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(receipt)


def candor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          timeout=60)


def test_the_schema_is_the_published_one_and_rejects_a_broken_receipt(gate):
    schema = kantara_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert "consentReceiptID" in schema["required"]
    gate.grant("transcription", via="test")
    receipt = build_kantara_receipt(gate, ["transcription"])
    validate(receipt)
    for broken_field in ("consentTimestamp", "piiPrincipalId", "spiCat"):
        broken = copy.deepcopy(receipt)
        del broken[broken_field]
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)
    wrong_type = copy.deepcopy(receipt)
    wrong_type["consentTimestamp"] = "yesterday"
    with pytest.raises(jsonschema.ValidationError):
        validate(wrong_type)
    disclosed = copy.deepcopy(receipt)
    disclosed["services"][0]["purposes"][0]["thirdPartyDisclosure"] = True  # without a name
    with pytest.raises(jsonschema.ValidationError):
        validate(disclosed)


def test_receipt_states_the_grant_from_the_ledger(monkeypatch):
    t0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    clock = install_ledger_clock(monkeypatch, t0)
    gate = open_gate()
    grant = gate.grant("transcription", via="dialog")
    reviewed = clock.advance(days=185)
    keep(gate, ["transcription"], via="test")
    later = clock.advance(days=1)
    gate.grant("microphone", via="cli")

    receipt = build_kantara_receipt(gate, ["transcription"], now=later, jurisdiction="GB")
    validate(receipt)
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["jurisdiction"] == "GB"
    assert receipt["consentTimestamp"] == int(t0.timestamp())
    assert "consent dialog" in receipt["collectionMethod"]
    assert receipt["piiPrincipalId"] == gate.ledger.profile_id
    assert receipt["sensitive"] is False
    [service] = receipt["services"]
    [purpose] = service["purposes"]
    assert purpose["consentType"] == "EXPLICIT"
    assert purpose["purposeCategory"] == ["1 - Core Function"]
    assert purpose["thirdPartyDisclosure"] is False
    assert "candor consent revoke transcription" in purpose["termination"]
    extension = purpose["candorExtension"]
    assert extension["ledgerRecordId"] == grant.record_id
    assert extension["reviewedAt"] == [reviewed.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert extension["reviewDueAt"] == add_months(reviewed, 6).strftime("%Y-%m-%dT%H:%M:%SZ")

    everything = build_kantara_receipt(gate, now=later)
    validate(everything)
    ids = [p["candorExtension"]["purposeId"] for p in everything["services"][0]["purposes"]]
    assert ids == ["microphone", "transcription"], "only what is given now"
    assert everything["consentTimestamp"] == int(later.timestamp()), "the latest grant"
    assert "command line" in everything["collectionMethod"]

    gate.withdraw("transcription", via="test")
    with pytest.raises(NothingGiven, match="not given"):
        build_kantara_receipt(gate, ["transcription"])
    gate.close()


def test_cli_kantara_receipt_validates_and_default_stays_candor(tmp_path):
    assert candor("consent", "grant", "transcript_storage", "--yes").returncode == 0
    out = candor("consent", "receipt", "--format", "kantara")
    assert out.returncode == 0, out.stderr
    validate(json.loads(out.stdout))

    target = tmp_path / "receipt.json"
    written = candor("consent", "receipt", "transcript_storage", "--format", "kantara",
                     "--out", str(target))
    assert written.returncode == 0
    validate(json.loads(target.read_text()))

    default = json.loads(candor("consent", "receipt").stdout)
    assert default["schema_version"].startswith("candor-consent-receipt/1")
    with pytest.raises(jsonschema.ValidationError):
        validate(default)  # the richer default is Candor's own format, not Kantara's

    refused = candor("consent", "receipt", "microphone", "--format", "kantara")
    assert refused.returncode == 2
    assert "not given" in refused.stderr
    assert refused.stdout == ""
