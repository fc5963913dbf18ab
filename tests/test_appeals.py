"""Appeals end to end through `hotline` on a real SQLite file (issue 15).

The rules fire on seeded calls, a reviewer confirms and answers a manual item, an agent appeals its
own flag, a lead overturns it: the score, the averages and rule health follow. And the refusals: an
agent appealing another agent's flag, a second open appeal, a reviewer deciding an appeal.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from qa_calls import IVR, POLITE, add_call, config_file, replace
from scorecard_cli import Hotline, add_accounts, copy_db
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import db
from accounts.tables import AccessLog
from qa.scan import scan_call
from qa.scorecard_tables import Appeal
from qa.tables import Flag, Review
from settings import load_config

RUDE = replace(IVR + POLITE, 4, "我们非常忙。")  # forbidden.bad-answers: the 'language' item, 25 points
MARCH = ("--period", "2026-03")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Calls of agents 1001 (1) and 1002 (2) in March 2026, each with a forbidden phrase, and a clean one
    of 1001 (3). Accounts: reviewer lin, lead wu, agents a1001 and a1002."""
    folder = tmp_path_factory.mktemp("appeals")
    cfg = load_config(config_file(folder))
    with db.transaction(cfg.database_url) as s:
        for call in (add_call(s, RUDE), add_call(s, RUDE, agent="SIP/agent1002"), add_call(s)):
            scan_call(s, cfg, call.id)
        add_accounts(s, ("lin", "reviewer", None), ("wu", "lead", None), ("a1001", "agent", "SIP/agent1001"),
                     ("a1002", "agent", "SIP/agent1002"))
    return folder / "qa.db"


@pytest.fixture
def hotline(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hotline:
    monkeypatch.delenv("HOTLINE_USER", raising=False)
    return Hotline(copy_db(template, tmp_path))


def agent_average(h: Hotline, agent: str) -> float:
    return next(r["average"] for r in h.json("qa", "scores", *MARCH)["agents"] if r["agent"] == agent)


def test_the_scorecard_story_rules_answer_appeal_overturn(hotline: Hotline) -> None:
    h = hotline
    flags = h.json("qa", "list")
    assert sorted((f["call"], f["rule"]) for f in flags) == [(1, "forbidden.bad-answers"), (2, "forbidden.bad-answers")]
    h("qa", "review", "1", "--confirm", "--reviewer", "lin")
    h("qa", "review", "2", "--confirm", "--reviewer", "lin")
    assert h.json("qa", "score", "1")["score"] == 66.7  # 50 of the 75 points judged
    assert h.json("qa", "score", "1", "--answer", "solved=yes", "--reviewer", "lin")["score"] == 72.2  # 65 of 90
    assert agent_average(h, "SIP/agent1001") == round((72.2 + 100.0) / 2, 1)

    mine = h.json("qa", "appeal", "--list", "--as", "a1001")
    assert [(c["call"], c["score"], [f["flag"] for f in c["flags"]]) for c in mine] == [(3, 100.0, []),
                                                                                       (1, 72.2, [1])]
    assert mine[1]["flags"][0]["appeal"] is None
    appeal = h.json("qa", "appeal", "1", "--reason", "客户说的是“我们非常忙”，不是我", "--as", "a1001")
    assert (appeal["id"], appeal["status"], appeal["flag"], appeal["account"]) == (1, "open", 1, "a1001")
    assert h.json("qa", "appeals", "--status", "open")[0]["reason"] == "客户说的是“我们非常忙”，不是我"
    assert h.json("qa", "score", "1")["score"] == 72.2  # an open appeal changes nothing yet

    note = "caller's words on the agent track"
    decided = h.json("qa", "appeals", "overturn", "1", "--note", note, "--reviewer", "wu")
    assert (decided["status"], decided["decided_by"], decided["flag_status"], decided["score"]) == \
        ("overturned", "wu", "dismissed", 100.0)
    assert h.json("qa", "score", "1")["items"][1]["lost_to"] == []
    assert agent_average(h, "SIP/agent1001") == 100.0
    assert h.json("qa", "appeal", "--list", "--as", "a1001")[1]["flags"] == []  # no confirmed flag left
    assert h.json("qa", "appeals", "--status", "open") == []
    assert "overturned" in h("qa", "appeals")

    health = {r["rule"]: r for r in h.json("qa", "health", "--period", "2026-03")["rules"]}
    rule = health["forbidden.bad-answers"]
    assert (rule["confirmed"], rule["dismissed"], rule["appeals"], rule["overturned"]) == (1, 1, 1, 1)
    with db.transaction(load_config(h.path).database_url) as s:
        review = s.scalars(select(Review).where(Review.flag_id == 1).order_by(Review.id.desc())).first()
        assert review is not None and (review.reviewer, review.decision) == ("wu", "dismissed")
        assert review.note == "appeal 1 overturned: caller's words on the agent track"
        log = [(a.account, a.action, a.target) for a in s.scalars(select(AccessLog).where(
            AccessLog.action.in_(("score-answer", "appeal", "appeal-decision"))).order_by(AccessLog.id))]
        assert log == [("lin", "score-answer", "call 1 solved=yes"), ("a1001", "appeal", "flag 1 appeal 1"),
                       ("wu", "appeal-decision", "appeal 1 overturned")]


def test_an_upheld_appeal_leaves_the_flag_and_the_score(hotline: Hotline) -> None:
    h = hotline
    h("qa", "review", "2", "--confirm", "--reviewer", "lin")
    h("qa", "appeal", "2", "--reason", "我没有这样说", "--as", "a1002")
    out = h("qa", "appeals", "uphold", "1", "--note", "heard it on the recording", "--reviewer", "wu")
    assert "upheld" in out and "66.7" in out
    assert agent_average(h, "SIP/agent1002") == 66.7
    [row] = h.json("qa", "appeals")
    assert (row["status"], row["flag_status"], row["note"]) == ("upheld", "confirmed", "heard it on the recording")
    h("qa", "appeals", "overturn", "1", "--note", "changed my mind", "--reviewer", "wu", code=2)


def test_a_decided_appeal_is_not_filed_again(hotline: Hotline) -> None:
    h = hotline
    h("qa", "review", "2", "--confirm", "--reviewer", "lin")
    h("qa", "appeal", "2", "--reason", "我没有这样说", "--as", "a1002")
    h("qa", "appeals", "uphold", "1", "--note", "heard it on the recording", "--reviewer", "wu")
    err = h("qa", "appeal", "2", "--reason", "再申诉一次", "--as", "a1002", code=2)
    [line] = err.strip().splitlines()  # one line: which appeal, who decided, when
    assert "appeal 1 was upheld by wu on 20" in line and "UTC" in line
    assert [a["status"] for a in h.json("qa", "appeals", "--status", "open")] == []
    assert agent_average(h, "SIP/agent1002") == 66.7  # the upheld flag still counts


def test_only_the_agent_of_the_call_appeals_and_only_a_confirmed_flag_once(hotline: Hotline) -> None:
    h = hotline
    assert "is new: only a confirmed flag" in h("qa", "appeal", "1", "--reason", "x", "--as", "a1001", code=2)
    h("qa", "review", "1", "--confirm", "--reviewer", "lin")
    h("qa", "review", "2", "--confirm", "--reviewer", "lin")
    err = h("qa", "appeal", "2", "--reason", "not me", "--as", "a1001", code=2)
    assert "did not take" in err and len(err.strip().splitlines()) == 1
    assert "may not appeal" in h("qa", "appeal", "1", "--reason", "x", "--as", "lin", code=2)
    assert "needs --reason" in h("qa", "appeal", "1", "--reason", "  ", "--as", "a1001", code=2)
    assert "who is acting?" in h("qa", "appeal", "1", "--reason", "x", code=2)
    h("qa", "appeal", "1", "--reason", "x", "--as", "a1001")
    assert "already has an open appeal (1, by a1001)" in h("qa", "appeal", "1", "--reason", "y", "--as", "a1001",
                                                            code=2)
    assert [c["call"] for c in h.json("qa", "appeal", "--list", "--as", "a1002")] == [2]
    # free text is masked where it is shown: an agent quoting the caller's number
    row = h.json("qa", "appeal", "2", "--reason", "客户的手机号是13812345678，他自己说的", "--as", "a1002")
    assert row["reason"] == "客户的手机号是*******5678，他自己说的"
    assert "13812345678" not in h("qa", "appeals") + h("qa", "appeals", "--json")


def test_a_reviewer_cannot_decide_appeals(hotline: Hotline) -> None:
    h = hotline
    h("qa", "review", "1", "--confirm", "--reviewer", "lin")
    h("qa", "appeal", "1", "--reason", "x", "--as", "a1001")
    assert "may not decide-appeals" in h("qa", "appeals", "overturn", "1", "--note", "ok", "--reviewer", "lin",
                                         code=2)
    assert "may not decide-appeals" in h("qa", "appeals", "uphold", "1", "--note", "ok", "--reviewer", "a1001",
                                         code=2)
    assert "needs --note" in h("qa", "appeals", "uphold", "1", "--reviewer", "wu", code=2)
    assert "no such appeal" in h("qa", "appeals", "uphold", "9", "--note", "ok", "--reviewer", "wu", code=2)
    [row] = h.json("qa", "appeals")
    assert row["status"] == "open"
    with db.transaction(load_config(h.path).database_url) as s:
        assert s.get(Flag, 1).status == "confirmed"  # type: ignore[union-attr]


def test_the_database_holds_one_open_appeal_per_flag(hotline: Hotline) -> None:
    """Two appeals filed at once (two windows) cannot both be open: the partial unique index refuses."""
    url = load_config(hotline.path).database_url
    with db.transaction(url) as s:
        s.add(Appeal(flag_id=1, call_id=1, account="a1001", reason="x", status="upheld"))
        s.add(Appeal(flag_id=1, call_id=1, account="a1001", reason="y", status="open"))
    with pytest.raises(IntegrityError), db.transaction(url) as s:
        s.add(Appeal(flag_id=1, call_id=1, account="a1001", reason="z", status="open"))
