"""Scorecards and appeals in the review web app (issue 15): the same story as tests/test_appeals.py, through
the pages.

A reviewer answers a manual item on the call page and the score changes; an agent sees only its own calls
and appeals a confirmed flag; a lead overturns it and the call's score goes up. And the refusals: another
agent's call, a reviewer deciding an appeal, an agent at the queue, any POST without its CSRF token.

The real app (Starlette's TestClient) on a real SQLite file seeded as the IVR and QA write it; sessions are
opened on the server as the sign-in form would (the form is tested in tests/test_qa_web.py).
"""

from __future__ import annotations

import re
import wave
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from qa_calls import IVR, POLITE, add_call, config_file, replace
from scorecard_cli import add_accounts, copy_db
from sqlalchemy import select

import db
from accounts.tables import AccessLog
from accounts.users import add_user
from qa.review import review
from qa.scan import scan_call
from qa.scorecard_tables import Appeal, CallScore, ScoreAnswer
from qa.tables import Flag
from recordings.redacted import register
from settings import Config, load_config
from web.app import create_app

PASSWORD = "correct-horse-battery"
RUDE = replace(IVR + POLITE, 4, "我们非常忙。")  # forbidden.bad-answers: the 'language' item, 25 points


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Call 1 (agent 1001, with a redacted recording) and call 2 (agent 1002) each with a confirmed forbidden
    phrase (flags 1, 2), a clean call 3 of agent 1001, and call 4 that no agent took. Accounts: reviewer lin,
    lead wu, agents a1001 (who signs in with PASSWORD), a1002 and a-new (no agent id yet)."""
    folder = tmp_path_factory.mktemp("web-scores")
    cfg = load_config(config_file(folder))
    wav = folder / "call-1-r.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(16000))
    with db.transaction(cfg.database_url) as s:
        add_accounts(s, ("lin", "reviewer", None), ("wu", "lead", None), ("a1002", "agent", "SIP/agent1002"),
                     ("a-new", "agent", None))
        add_user(s, "a1001", "agent", PASSWORD, agent_id="SIP/agent1001")
        for call in (add_call(s, RUDE), add_call(s, RUDE, agent="SIP/agent1002"), add_call(s), add_call(s, agent=None)):
            scan_call(s, cfg, call.id)
        register(s, 1, "mix-r", wav)
        for flag in (1, 2):
            review(s, flag, "lin", "confirmed")
    return folder / "qa.db"


class Site:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.app = create_app(cfg)

    def browser(self, name: str) -> TestClient:
        """A browser signed in as ``name``."""
        c = TestClient(self.app, base_url="http://127.0.0.1", follow_redirects=False)
        c.cookies.set("hotline_session", self.app.state.sessions.open(name))
        return c

    def score(self, call: int) -> float | None:
        with db.transaction(self.cfg.database_url) as s:
            row = s.get(CallScore, call)
            return None if row is None else row.score

    def logged(self, *actions: str) -> list[tuple[str, str, str | None]]:
        with db.transaction(self.cfg.database_url) as s:
            return [(a.account, a.action, a.target) for a in s.scalars(
                select(AccessLog).where(AccessLog.action.in_(actions)).order_by(AccessLog.id))]


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Site:
    return Site(load_config(copy_db(template, tmp_path)))


def token(c: TestClient, page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', c.get(page).text)
    assert found, f"{page} has a form with a CSRF token"
    return found.group(1)


def shown_score(page: str) -> str:
    found = re.search(r'<strong id="score"[^>]*>([^<]+)</strong>', page)
    assert found, "the page shows the call's score"
    return found.group(1).strip()


def test_a_reviewer_answers_manual_items_on_the_call_page_and_the_score_follows(site: Site) -> None:
    lin = site.browser("lin")
    page = lin.get("/calls/1").text
    assert shown_score(page) == "66.7"  # 50 of the 75 points judged: 'language' lost to flag 1
    language = re.search(r'<tr data-item="language" class="lost">(.*?)</tr>', page, re.S)
    assert language and 'href="#flag1"' in language.group(1)
    assert 'data-item="privacy"' in page and "一票否决" in page  # instant-fail items say so
    assert 'action="/calls/1/score"' in page and "等待质检员评分" in page  # 'solved' waits for an answer

    r = lin.post("/calls/1/score", data={"csrf": token(lin, "/calls/1"), "item": ["solved", "knowledge"],
                                         "value": ["no", "8"]})
    assert r.status_code == 303 and r.headers["location"] == "/calls/1#scorecard"
    assert shown_score(lin.get("/calls/1").text) == "58.0"  # 58 of 100
    assert site.score(1) == 58.0
    r = lin.post("/calls/1/score", data={"csrf": token(lin, "/calls/1"), "item": ["solved", "knowledge"],
                                         "value": ["yes", ""]})  # a blank value leaves that item as it was
    assert shown_score(lin.get("/calls/1").text) == "73.0"
    with db.transaction(site.cfg.database_url) as s:
        assert [(a.item, a.answer, a.reviewer) for a in s.scalars(select(ScoreAnswer).order_by(ScoreAnswer.id))] == [
            ("solved", "no", "lin"), ("knowledge", "8", "lin"), ("solved", "yes", "lin")]
    assert site.logged("score-answer") == [("lin", "score-answer", "call 1 solved=no knowledge=8"),
                                           ("lin", "score-answer", "call 1 solved=yes")]

    r = lin.post("/calls/1/score", data={"csrf": token(lin, "/calls/1"), "item": "knowledge", "value": "11"})
    assert r.status_code == 400 and "0 to 10" in r.text  # the CLI's own check, shown as the detail
    assert site.score(1) == 73.0

    page = lin.get("/calls/4").text  # nobody to score
    assert "此通话未接入坐席" in page and 'id="score"' not in page and "/calls/4/score" not in page


def test_an_agent_sees_only_its_own_calls_and_appeals_a_confirmed_flag(site: Site) -> None:
    agent = site.browser("a1001")
    page = agent.get("/my/calls").text
    assert re.findall(r'<section class="mycall" data-call="(\d+)"', page) == ["3", "1"]  # newest first, not call 2
    assert 'action="/flags/1/appeal"' in page and "/flags/2/appeal" not in page
    assert 'href="/my/calls"' in page and 'href="/flags"' not in page and 'href="/appeals"' not in page  # its nav
    mine = agent.get("/my/calls/1").text
    assert shown_score(mine) == "66.7" and 'id="flag1"' in mine and 'action="/calls/1/score"' not in mine
    assert 'src="/calls/1/audio"' in mine and agent.get("/calls/1/audio").status_code == 200  # the redacted copy
    assert "/audio" not in agent.get("/my/calls/3").text  # no recording, no player

    reason = "这句话是客户说的，回电13812345678"
    r = agent.post("/flags/1/appeal", data={"csrf": token(agent, "/my/calls"), "reason": reason})
    assert r.status_code == 303 and r.headers["location"] == "/my/calls/1#flag1"
    page = agent.get("/my/calls/1").text
    assert "这句话是客户说的" in page and "待裁定" in page and 'action="/flags/1/appeal"' not in page  # open: no second
    assert "13812345678" not in page and "*******5678" in page  # a number typed in the reason is masked
    assert "13812345678" not in site.browser("wu").get("/appeals").text
    with db.transaction(site.cfg.database_url) as s:
        [row] = s.scalars(select(Appeal)).all()
        assert (row.flag_id, row.account, row.status) == (1, "a1001", "open")
    assert site.logged("appeal") == [("a1001", "appeal", "flag 1 appeal 1")]


def test_an_agent_signs_in_to_its_own_calls(site: Site) -> None:
    c = TestClient(site.app, base_url="http://127.0.0.1", follow_redirects=False)
    form = token(c, "/login")
    r = c.post("/login", data={"name": "a1001", "password": PASSWORD, "next": "/flags", "csrf": form})
    assert r.status_code == 303 and r.headers["location"] == "/my/calls"  # not the queue it may not see
    assert c.get("/my/calls").status_code == 200


def test_an_agent_cannot_reach_another_agents_call_nor_the_review_pages(site: Site) -> None:
    agent = site.browser("a1001")
    csrf = token(agent, "/my/calls")
    assert agent.get("/my/calls/2").status_code == 403
    assert agent.post("/flags/2/appeal", data={"csrf": csrf, "reason": "不是我"}).status_code == 403
    assert agent.get("/my/calls/99").status_code == 404
    assert agent.get("/flags").status_code == 403 and agent.get("/calls/1").status_code == 403
    assert agent.post("/flags/1/review", data={"csrf": csrf, "decision": "dismissed"}).status_code == 403
    assert agent.post("/calls/1/score", data={"csrf": csrf, "item": "solved", "value": "yes"}).status_code == 403
    assert agent.get("/appeals").status_code == 403
    with db.transaction(site.cfg.database_url) as s:
        assert s.scalars(select(Appeal)).all() == []
        assert s.get(Flag, 1).status == "confirmed"  # type: ignore[union-attr]
    assert site.browser("lin").get("/my/calls").status_code == 403  # reviewers have no calls of their own
    r = site.browser("a-new").get("/my/calls")
    assert r.status_code == 400 and "请管理员设置" in r.text  # an agent account without its agent id


def test_a_reviewer_cannot_decide_appeals_and_a_lead_overturns_one(site: Site) -> None:
    agent = site.browser("a1001")
    agent.post("/flags/1/appeal", data={"csrf": token(agent, "/my/calls"), "reason": "客户的话"})
    lin = site.browser("lin")
    flag = re.search(r'<article [^>]*id="flag1".*?</article>', lin.get("/calls/1").text, re.S)
    assert flag and "申诉 1" in flag.group(0) and "客户的话" in flag.group(0)  # reviewers see the appeal at its flag
    assert "/appeals" not in flag.group(0)  # but are not sent to decide it
    assert lin.get("/appeals").status_code == 403
    r = lin.post("/appeals/1/decide", data={"csrf": token(lin, "/calls/1"), "decision": "overturn", "note": "x"})
    assert r.status_code == 403

    wu = site.browser("wu")
    page = wu.get("/appeals").text  # open ones by default
    assert re.findall(r'data-appeal="(\d+)" data-status="(\w+)"', page) == [("1", "open")] and "客户的话" in page
    assert '<td class="num">66.7</td>' in page  # the call's score as it stands
    assert site.score(1) == 66.7
    r = wu.post("/appeals/1/decide", data={"csrf": token(wu, "/appeals"), "decision": "overturn", "note": "",
                                           "status": "open"})
    assert r.status_code == 400 and site.score(1) == 66.7  # a decision needs a note, as in the CLI
    r = wu.post("/appeals/1/decide", data={"csrf": token(wu, "/appeals"), "decision": "overturn",
                                           "note": "caller's words on the agent track", "status": "open"})
    assert r.status_code == 303 and r.headers["location"] == "/appeals?status=open&decided=1"
    page = wu.get(r.headers["location"]).text
    assert 'id="decided"' in page and "100.0" in page and 'data-appeal="1"' not in page  # none open now
    assert 'data-appeal="1" data-status="overturned"' in wu.get("/appeals?status=overturned").text
    assert site.score(1) == 100.0  # the overturned flag left the score
    assert shown_score(wu.get("/calls/1").text) == "100.0"
    with db.transaction(site.cfg.database_url) as s:
        assert s.get(Flag, 1).status == "dismissed"  # type: ignore[union-attr]
    mine = agent.get("/my/calls").text
    assert 'id="flag1"' not in mine  # no confirmed flag left to show
    assert site.logged("appeal-decision") == [("wu", "appeal-decision", "appeal 1 overturned")]
    assert wu.get("/appeals?status=bogus").status_code == 400


def test_an_upheld_appeal_cannot_be_filed_again_on_the_web(site: Site) -> None:
    agent, wu = site.browser("a1001"), site.browser("wu")
    agent.post("/flags/1/appeal", data={"csrf": token(agent, "/my/calls"), "reason": "客户的话"})
    r = wu.post("/appeals/1/decide", data={"csrf": token(wu, "/appeals"), "decision": "uphold", "note": "听过录音"})
    assert r.status_code == 303
    page = agent.get("/my/calls/1").text
    assert "已维持" in page and "不能再次申诉" in page and 'action="/flags/1/appeal"' not in page  # no form now
    r = agent.post("/flags/1/appeal", data={"csrf": token(agent, "/my/calls"), "reason": "再申诉一次"})
    assert r.status_code == 400 and "appeal 1 was upheld by wu on" in r.text  # a form kept open elsewhere
    with db.transaction(site.cfg.database_url) as s:
        assert [a.status for a in s.scalars(select(Appeal))] == ["upheld"]


@pytest.mark.parametrize(("who", "path", "data"), [
    ("lin", "/calls/1/score", {"item": "solved", "value": "yes"}),
    ("a1001", "/flags/1/appeal", {"reason": "不是我"}),
    ("wu", "/appeals/1/decide", {"decision": "overturn", "note": "wrong"}),
])
def test_every_post_needs_its_csrf_token(site: Site, who: str, path: str, data: dict[str, str]) -> None:
    with db.transaction(site.cfg.database_url) as s:  # an open appeal for the lead's POST to act on
        s.add(Appeal(flag_id=1, call_id=1, account="a1001", reason="seeded", status="open"))
    c = site.browser(who)
    for sent in ({}, {"csrf": "forged"}):
        r = c.post(path, data={**data, **sent})
        assert r.status_code == 403 and "表单已过期" in r.text
    with db.transaction(site.cfg.database_url) as s:
        assert s.scalars(select(ScoreAnswer)).all() == []
        assert [(a.reason, a.status) for a in s.scalars(select(Appeal))] == [("seeded", "open")]
    assert site.logged("score-answer", "appeal", "appeal-decision") == []
