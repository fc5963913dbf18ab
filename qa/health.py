"""Rule health: how often reviewers agree with each rule (issue 11 part 5).

For the flags on calls started in a period, per rule: how many were confirmed,
dismissed and are still unreviewed, and the rule's precision
``confirmed / (confirmed + dismissed)`` -- the share of its judged flags that were
real breaches. Unreviewed flags are left out of precision (nobody has judged them)
but shown, so a precision over 2 verdicts is not mistaken for one over 200.

The same split by whether QA was sure of the flag (``needs_listening``) says whether
the confidence threshold separates real breaches from false ones: a rule whose
"sure" flags are often dismissed needs its phrases tuned; one whose "listen" flags
are mostly confirmed could be trusted more.

Appeals (issue 15) are counted per rule too: ``appeals`` filed against its flags and how many a
lead ``overturned`` (an overturned flag is dismissed, so it already lowers the precision).

The counting is one grouped query (rows per rule, status and sureness, not per flag), so a
year of 50,000 flags costs the database a scan and Python a few dozen rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.tables import Call
from qa.scorecard_tables import Appeal
from qa.tables import Flag

VERDICTS = ("confirmed", "unreviewed", "dismissed")  # a flag's standing: a reviewer's verdict, or none yet


def verdict(status: str) -> str:
    """A flag's standing: confirmed or dismissed by a reviewer, otherwise unreviewed (never a breach)."""
    return status if status in ("confirmed", "dismissed") else "unreviewed"


def precision(confirmed: int, dismissed: int) -> float | None:
    """confirmed / (confirmed + dismissed); None when no flag of the rule has a verdict."""
    judged = confirmed + dismissed
    return round(confirmed / judged, 3) if judged else None


def grouped_flags(session: Session, start: datetime, end: datetime, *columns: Any) -> list[Any]:
    """Flags on calls started in [start, end), counted per rule, category, status, sureness and ``columns``:
    rows of (rule, category, status, needs_listening, *columns, count, sum of confidence, count of confidence)."""
    keys = (Flag.rule_id, Flag.category, Flag.status, Flag.needs_listening, *columns)
    return list(session.execute(
        select(*keys, func.count(), func.sum(Flag.confidence), func.count(Flag.confidence))
        .join(Call, Call.id == Flag.call_id)
        .where((Call.started_at >= start) & (Call.started_at < end))
        .group_by(*keys)
    ).all())


def rule_health(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """One row per rule that raised a flag on a call started in [start, end), worst precision first."""
    return health_rows(grouped_flags(session, start, end), appeal_counts(session, start, end))


def health_rows(rows: list[Any], appealed: dict[str, tuple[int, int]]) -> list[dict[str, Any]]:
    """Rule health from ``grouped_flags`` rows (any extra grouping columns are summed over)."""
    rules: dict[str, dict[str, Any]] = {}
    for rule, category, status, listen, *_, n, conf_sum, conf_n in rows:
        r = rules.setdefault(rule, {"rule": rule, "category": category, "flags": 0, "confirmed": 0, "dismissed": 0,
                                    "unreviewed": 0, "needs_listening": 0, "sure": [0, 0], "listen": [0, 0],
                                    "_conf": {"confirmed": [0.0, 0], "dismissed": [0.0, 0]}})
        r["flags"] += n
        v = verdict(status)
        r[v] += n
        if v == "unreviewed":
            r["needs_listening"] += n if listen else 0
            continue
        r["listen" if listen else "sure"][0 if v == "confirmed" else 1] += n
        acc = r["_conf"][v]
        acc[0] += conf_sum or 0.0
        acc[1] += conf_n
    out = []
    for r in rules.values():
        r["appeals"], r["overturned"] = appealed.get(r["rule"], (0, 0))
        conf = r.pop("_conf")
        sure, listen = r.pop("sure"), r.pop("listen")
        r["precision"] = precision(r["confirmed"], r["dismissed"])
        r["precision_sure"] = precision(*sure)
        r["precision_listen"] = precision(*listen)
        for verdict_name, (total, count) in conf.items():
            r[f"mean_confidence_{verdict_name}"] = round(total / count, 3) if count else None
        out.append(r)
    # worst first: the rules a QA lead should look at; rules nobody has judged yet at the end
    out.sort(key=lambda r: (r["precision"] is None, r["precision"] if r["precision"] is not None else 0.0,
                            -r["flags"], r["rule"]))
    return out


def appeal_counts(session: Session, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """Per rule: (appeals against its flags on calls started in [start, end), how many a lead overturned)."""
    out: dict[str, tuple[int, int]] = {}
    for rule, status in session.execute(select(Flag.rule_id, Appeal.status).join(Flag, Flag.id == Appeal.flag_id)
                                        .join(Call, Call.id == Flag.call_id)
                                        .where((Call.started_at >= start) & (Call.started_at < end))):
        n, overturned = out.get(rule, (0, 0))
        out[rule] = (n + 1, overturned + (status == "overturned"))
    return out
