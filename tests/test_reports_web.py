"""The reports pages (web/reports.py) through a real uvicorn server: a lead sees the month, its charts
and its CSV; a reviewer is refused; /report (the old address) leads there."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from argon2 import PasswordHasher
from report_calls import CALLER, seeded_config
from sqlalchemy import select
from web_server import running

import db
from accounts.tables import Account
from qa.review import review
from qa.tables import Flag
from settings import Config
from web.app import create_app

PASSWORD = "correct horse 7"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Config]]:
    cfg = seeded_config(tmp_path_factory.mktemp("reports"))
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # real argon2, test-sized cost
    with db.transaction(cfg.database_url) as s:
        s.add_all(Account(name=n, role=r, password_hash=cheap.hash(PASSWORD)) for n, r in
                  (("zhang", "lead"), ("li", "reviewer")))
    with running(create_app(cfg)) as base:
        yield base, cfg


@contextmanager
def signed_in(base: str, name: str) -> Iterator[httpx.Client]:
    """A client signed in through the sign-in form, as a browser would."""
    with httpx.Client(base_url=base, timeout=30) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        assert token is not None
        r = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token[1], "next": "/reports"})
        assert r.status_code == 303, r.text
        yield client


def test_a_lead_sees_the_month_in_chinese_with_charts_and_csv(server: tuple[str, Config]) -> None:
    base, cfg = server
    with signed_in(base, "zhang") as lead:
        r = lead.get("/reports", params={"period": "2026-11"})
        assert r.status_code == 200
        page = r.text
        assert "2026年11月" in page and 'data-period="2026-11"' in page
        assert 'data-figure="confirmed">2<' in page and 'data-figure="unreviewed">4<' in page
        assert "禁语：不行、不知道、不能够" in page  # the rule named in Chinese from config.yaml
        assert re.search(r'data-rule="forbidden.refusal">.*?precision[^>]*>0.50<', page, re.S)
        assert CALLER not in page
        # scorecard averages of the month's calls (issue 15)
        assert re.search(r'id="scores-agent".*?data-name="SIP/agent1001">.*?class="num average">66.7<', page, re.S)
        # the charts the page shows are PNGs of the same period
        srcs = re.findall(r'class="chart" data-chart="\w+" src="([^"]+)"', page)
        assert len(srcs) == 5
        for src in srcs:
            img = lead.get(src)
            assert img.status_code == 200 and img.headers["content-type"] == "image/png"
            assert img.content.startswith(PNG)
        assert lead.get("/reports/chart/nothing.png").status_code == 404
        # CSV export of the period the page shows: BOM, Chinese, no caller number
        href = re.search(r'id="export-csv" href="([^"]+)"', page)
        assert href is not None
        exported = lead.get(href[1].replace("&amp;", "&"))
        assert exported.status_code == 200 and exported.content.startswith(b"\xef\xbb\xbf")
        assert 'filename="qa-report-2026-11.csv"' in exported.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert rows[2] == ["total", "all", "全部", "2", "1", "4", "0.667"]
        assert CALLER not in exported.content.decode("utf-8-sig")
        # a range of days, and the picker's previous/next
        r = lead.get("/reports", params={"start": "2026-11-25", "end": "2026-12-10"})
        assert r.status_code == 200 and 'data-figure="calls">2<' in r.text  # the edge call and December's
        assert "/reports?period=2026-11-09..2026-11-24" in r.text  # previous: the same length before
        assert lead.get("/reports", params={"period": "fortnight"}).status_code == 400
        assert lead.get("/reports", params={"start": "2026-11-25"}).status_code == 400
        # a verdict given meanwhile shows at once (figures are reused only while the data is unchanged), and
        # the call's score with it: the review rescored its call, the page reads the stored scores
        with db.transaction(cfg.database_url) as s:
            flag = s.scalars(select(Flag).where(Flag.status == "new", Flag.rule_id == "vague.ambiguous")).one()
            review(s, flag.id, "zhang", "confirm", None, cfg)
        again = lead.get("/reports", params={"period": "2026-11"}).text
        assert 'data-figure="confirmed">3<' in again and 'data-figure="unreviewed">3<' in again
        # the clarity item (vague phrases) loses its 10 of 75 points too: (75 - 25 - 10) / 75
        assert re.search(r'id="scores-agent".*?data-name="SIP/agent1001">.*?class="num average">53.3<', again, re.S)
        assert lead.get(href[1]).content != exported.content
        # the default is this month; the old address leads to the page
        assert 'value="this-month" selected' in lead.get("/reports").text
        old = lead.get("/report", params={"period": "2026-Q4"}, follow_redirects=False)
        assert old.status_code == 303 and old.headers["location"] == "/reports?period=2026-Q4"


def test_a_reviewer_may_not_see_reports(server: tuple[str, Config]) -> None:
    base, _ = server
    with signed_in(base, "li") as reviewer:
        for path in ("/reports", "/reports.csv?period=2026-11", "/reports/chart/agent.png"):
            assert reviewer.get(path).status_code == 403, path
        assert "/reports" not in reviewer.get("/flags").text.split("<main>")[0]  # no menu link either
    anonymous = httpx.get(f"{base}/reports.csv?period=2026-11", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
