"""Calls and flags across November and December 2026 for the report tests (tests/test_reports*.py).
Import as ``from report_calls import ...``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from qa_calls import add_call, config_file
from sqlalchemy.orm import Session

import db
from qa.review import review
from qa.scorecard import refresh_call
from qa.tables import Flag
from settings import Config, load_config

CALLER = "13812345678"  # every seeded call's caller_num (tests/qa_calls.py): never in a report


def _flag(s: Session, call_id: int, rule: str, category: str, verdict: str | None = None) -> None:
    f = Flag(call_id=call_id, fingerprint=f"{call_id}|{rule}|{s.info.setdefault('f', 0)}", rule_id=rule,
             category=category, severity="medium", status="new", confidence=0.9)
    s.info["f"] += 1
    s.add(f)
    s.flush()
    if verdict:
        review(s, f.id, "lin", verdict, None)


def seeded_config(tmp_path: Path) -> Config:
    """Calls across November and December 2026 (Asia/Shanghai, UTC+8), with flags in every standing.

    November: agent1001 has one refusal confirmed, one dismissed and a vague phrase unreviewed;
    agent1002 has three refusals unreviewed and a missing closing confirmed. A call at 17:00 UTC on
    30 November is 01:00 on 1 December in Shanghai: December's, with one confirmed opening flag.
    December 5: one refusal dismissed.
    """
    c = load_config(config_file(tmp_path))
    assert c.qa.web.timezone == "Asia/Shanghai"
    with db.transaction(c.database_url) as s:
        a = add_call(s, started=datetime(2026, 11, 10, 2, 0, tzinfo=UTC), agent="SIP/agent1001").id
        _flag(s, a, "forbidden.refusal", "forbidden", "confirm")
        _flag(s, a, "forbidden.refusal", "forbidden", "dismiss")
        _flag(s, a, "vague.ambiguous", "vague")
        b = add_call(s, started=datetime(2026, 11, 20, 6, 0, tzinfo=UTC), agent="SIP/agent1002",
                     route_target="complaints").id
        for _ in range(3):
            _flag(s, b, "forbidden.refusal", "forbidden")
        _flag(s, b, "closing.courtesy", "closing", "confirm")
        edge = add_call(s, started=datetime(2026, 11, 30, 17, 0, tzinfo=UTC), agent="SIP/agent1001").id
        _flag(s, edge, "opening.mandated", "opening", "confirm")
        dec = add_call(s, started=datetime(2026, 12, 5, 3, 0, tzinfo=UTC), agent="SIP/agent1002").id
        _flag(s, dec, "forbidden.refusal", "forbidden", "dismiss")
        for call in (a, b, edge, dec):  # scored as a scan scores a call once its flags are raised
            refresh_call(s, c, call)
    return c
