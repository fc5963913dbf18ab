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
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.tables import Call
from qa.tables import Flag


def precision(confirmed: int, dismissed: int) -> float | None:
    """confirmed / (confirmed + dismissed); None when no flag of the rule has a verdict."""
    judged = confirmed + dismissed
    return round(confirmed / judged, 3) if judged else None


def rule_health(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """One row per rule that raised a flag on a call started in [start, end), worst precision first."""
    rows = session.execute(
        select(Flag.rule_id, Flag.category, Flag.status, Flag.needs_listening, Flag.confidence)
        .join(Call, Call.id == Flag.call_id)
        .where((Call.started_at >= start) & (Call.started_at < end))
    ).all()
    rules: dict[str, dict[str, Any]] = {}
    for rule, category, status, listen, confidence in rows:
        r = rules.setdefault(rule, {"rule": rule, "category": category, "flags": 0, "confirmed": 0, "dismissed": 0,
                                    "unreviewed": 0, "needs_listening": 0, "sure": [0, 0], "listen": [0, 0],
                                    "_conf": {"confirmed": [], "dismissed": []}})
        r["flags"] += 1
        if status in ("confirmed", "dismissed"):
            r[status] += 1
            r["listen" if listen else "sure"][0 if status == "confirmed" else 1] += 1
            if confidence is not None:
                r["_conf"][status].append(confidence)
        else:
            r["unreviewed"] += 1
            r["needs_listening"] += int(bool(listen))
    out = []
    for r in rules.values():
        conf = r.pop("_conf")
        sure, listen = r.pop("sure"), r.pop("listen")
        r["precision"] = precision(r["confirmed"], r["dismissed"])
        r["precision_sure"] = precision(*sure)
        r["precision_listen"] = precision(*listen)
        for verdict_name, values in conf.items():
            r[f"mean_confidence_{verdict_name}"] = round(sum(values) / len(values), 3) if values else None
        out.append(r)
    # worst first: the rules a QA lead should look at; rules nobody has judged yet at the end
    out.sort(key=lambda r: (r["precision"] is None, r["precision"] if r["precision"] is not None else 0.0,
                            -r["flags"], r["rule"]))
    return out
