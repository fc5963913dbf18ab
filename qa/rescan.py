"""What a rule change would do to past calls, before it is saved (issue 11 part 5).

``dry_run`` runs the real scan (qa.scan.scan_call, so exactly what ``qa rescan`` would
do) on each call inside a transaction that is always rolled back, and compares the
call's flags before and after by fingerprint:

- ``added``: a finding the rules would raise that is not flagged today;
- ``removed``: a flag the rules would no longer raise (an unreviewed one would be deleted;
  a reviewed one stays for the audit trail and is marked ``reviewed``);
- ``kept``: flags found again (their verdicts stand).

One transaction per call keeps SQLite's write lock short (the worker writes meanwhile).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

import db
from ivr.tables import Call
from qa.scan import scan_call
from qa.tables import Flag
from settings import Config
from transcribe.tables import Transcript


@dataclass
class CallDiff:
    call: int
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    kept: int = 0
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"call": self.call, "added": self.added, "removed": self.removed, "kept": self.kept,
                "error": self.error}


def calls_to_scan(url: str, since: datetime | None = None, calls: list[int] | None = None) -> list[int]:
    """The calls with a transcript (started since ``since``), or the given ids."""
    if calls:
        return sorted(set(calls))
    with db.transaction(url) as s:
        stmt = select(Transcript.call_id).where(Transcript.call_id.is_not(None))
        if since is not None:
            stmt = stmt.join(Call, Call.id == Transcript.call_id).where(Call.started_at >= since)
        return sorted({cid for cid in s.scalars(stmt) if cid is not None})


def _brief(f: Flag) -> dict[str, Any]:
    return {"fingerprint": f.fingerprint, "flag": f.id, "rule": f.rule_id, "category": f.category,
            "offset_s": f.offset_s, "matched": f.matched, "status": f.status,
            "reviewed": f.status != "new" or bool(f.reviews)}


def dry_run(url: str, rules: Config, call_ids: list[int]) -> list[CallDiff]:
    """Scan each call with ``rules`` and roll back: the database is left exactly as it was."""
    out: list[CallDiff] = []
    make = db.sessions(url)
    for cid in call_ids:
        diff = CallDiff(cid)
        with make() as session:
            try:
                # by flag id, not fingerprint: a flag re-keyed by the scan (PII keys moved from the
                # digits to the kind) is the same flag, kept
                before = {f.id: _brief(f) for f in session.scalars(select(Flag).where(Flag.call_id == cid))}
                after = {f.id: f for f in scan_call(session, rules, cid)}
                diff.added = [_brief(f) | {"flag": None} for i, f in after.items() if i not in before]
                diff.removed = [b for i, b in before.items() if i not in after]
                diff.kept = sum(1 for i in after if i in before)
            except LookupError as exc:
                diff.error = str(exc)
            finally:
                session.rollback()  # a dry run: nothing is written
        out.append(diff)
    return out


def summary(diffs: list[CallDiff]) -> dict[str, Any]:
    by_rule: dict[str, dict[str, int]] = {}
    for d in diffs:
        for kind in ("added", "removed"):
            for f in getattr(d, kind):
                by_rule.setdefault(f["rule"], {"added": 0, "removed": 0})[kind] += 1
    return {"calls": len(diffs), "changed_calls": sum(1 for d in diffs if d.added or d.removed),
            "added": sum(len(d.added) for d in diffs), "removed": sum(len(d.removed) for d in diffs),
            "kept": sum(d.kept for d in diffs), "by_rule": dict(sorted(by_rule.items()))}
