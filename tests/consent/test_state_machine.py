"""For any sequence of grants, withdrawals, notice changes and restarts, a purpose is allowed
exactly when its last event was a grant under its current notice version."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from app.consent import PURPOSES, NoticeCatalog, open_gate
from tests.consent.helpers import bump_notice, copy_notices

purposes = st.sampled_from(PURPOSES)


class ConsentMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="candor-consent-"))
        self.notices = copy_notices(self.dir)
        self.gate = open_gate(self.dir, NoticeCatalog(self.notices))
        # the model: purpose -> (last event, notice version that event was under)
        self.last: dict[str, tuple[str, int]] = {}
        self.version = {p: 1 for p in PURPOSES}

    def teardown(self) -> None:
        self.gate.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(purpose=purposes)
    def grant(self, purpose: str) -> None:
        self.gate.grant(purpose, via="test")
        self.last[purpose] = ("given", self.version[purpose])

    @rule(purpose=purposes, delete=st.booleans())
    def withdraw(self, purpose: str, delete: bool) -> None:
        self.gate.withdraw(purpose, via="test", delete_data=delete)
        if purpose in self.last or delete:
            self.last[purpose] = ("withdrawn", self.version[purpose])

    @rule(purpose=purposes)
    def change_notice(self, purpose: str) -> None:
        self.version[purpose] = bump_notice(self.notices, purpose)
        self.gate.reload_notices()

    @rule()
    def restart(self) -> None:
        self.gate.close()
        self.gate = open_gate(self.dir, NoticeCatalog(self.notices))

    @invariant()
    def allowed_iff_last_event_is_a_grant_under_the_current_notice(self) -> None:
        for purpose in PURPOSES:
            event = self.last.get(purpose)
            expected = event == ("given", self.version[purpose])
            assert self.gate.allowed(purpose) is expected, purpose
            state = self.gate.state(purpose).state
            if expected:
                assert state == "given"
            elif event is not None and event[0] == "given":
                assert state == "reconsent_needed"
            else:
                assert state == "not_given"

    @invariant()
    def ledger_verifies(self) -> None:
        assert self.gate.ledger.verify().ok


ConsentMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=20, deadline=None)
TestConsentStateMachine = ConsentMachine.TestCase
