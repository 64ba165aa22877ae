"""What `candor privacy check` reports: one typed result per promise, and the whole report.

Plain data for the command line and, later, the window's "9 of 9 checks pass" (expandable to
each check's evidence and what to do).
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

CheckId = Literal[
    "files_private",
    "master_key_private",
    "keys_where_reported",
    "no_plaintext_transcripts",
    "ledger_verifies",
    "stored_under_recorded_consent",
    "retention_kept",
    "model_verified",
    "no_internet_sockets",
    "no_network_os_level",  # opt-in: `candor privacy check --os`
]
CheckStatus = Literal["pass", "fail"]
PRIVATE_BITS = stat.S_IRWXG | stat.S_IRWXO  # any permission for group or others
MAX_LISTED = 10  # evidence lists the first few offenders, then a count


@dataclass(frozen=True)
class CheckResult:
    id: CheckId
    title: str  # the promise, as a user reads it
    status: CheckStatus
    evidence: tuple[str, ...]  # what was looked at and found
    remedy: str = ""  # what to do when it fails

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "status": self.status,
                "evidence": list(self.evidence), "remedy": self.remedy}


@dataclass(frozen=True)
class PrivacyReport:
    checked_at: datetime
    data_dir: Path
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def ok(self) -> bool:
        return self.passed == len(self.results)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def summary(self) -> str:
        return f"{self.passed} of {len(self.results)} checks pass"

    def to_dict(self) -> dict[str, object]:
        return {"checked_at": self.checked_at.isoformat(timespec="seconds"),
                "data_dir": str(self.data_dir), "summary": self.summary(), "ok": self.ok,
                "checks": [r.to_dict() for r in self.results]}


def make_result(
    check: CheckId, title: str, problems: list[str], evidence: list[str], remedy: str
) -> CheckResult:
    if not problems:
        return CheckResult(check, title, "pass", tuple(evidence))
    shown = problems[:MAX_LISTED]
    if len(problems) > MAX_LISTED:
        shown.append(f"… and {len(problems) - MAX_LISTED} more")
    return CheckResult(check, title, "fail", (*evidence, *shown), remedy)
