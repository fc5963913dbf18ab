"""Reports at issue 14's size: 10,000 calls and 50,000 flags in SQLite, over one year.

Times, through a real uvicorn server signed in as a lead (httpx, one client, requests in turn):
the /reports page (its figures, rule health and score averages), one chart PNG and the CSV export,
for this month, this quarter and this year: the first request (the page counts the figures; the
chart and CSV after it reuse them while the data is unchanged, web/reports.py), then 20 more
(5 for charts); p50 and p95 in ms. Also the figures alone (qa.report.report_for, no HTTP) for the year.

Rows are written straight into a fresh SQLite file (temp folder) with the app's own tables: calls
spread over the 365 days before now, 20 agents, 4 routes, each call 0-10 flags of the configured
rules, a third of them confirmed, a sixth dismissed; then every call scored once and stored (what
`hotline qa report --rescore` does; reviews and scans keep the scores current), which the page reads.
Run: .venv/bin/python bench/reports.py
"""

from __future__ import annotations

import random
import re
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from sqlalchemy import insert

import db
from accounts.tables import Account
from ivr.tables import Call
from qa.periods import parse_period, today_in
from qa.report import report_for, timezone_of
from qa.scorecard import rescore_period
from qa.tables import Flag
from settings import load_config
from web.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from web_server import p50_p95, running

CALLS, FLAGS, RUNS = 10_000, 50_000, 20
REPO = Path(__file__).resolve().parent.parent


def seed(folder: Path) -> Path:
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    path = folder / "config.yaml"
    path.write_text(text.replace("url: sqlite:///var/hotline.db", f"url: sqlite:///{folder}/bench.db"),
                    encoding="utf-8")
    cfg = load_config(path)
    rules = [(r.id, r.category) for r in cfg.qa.phrases] + [(cfg.qa.opening.id, "opening"),
                                                            (cfg.qa.closing.id, "closing")]
    rnd = random.Random(14)
    now = db.now()
    calls = [{"id": i, "uniqueid": f"bench.{i}", "channel": "SIP/caller", "caller_num": "13812345678",
              "status": "ended", "started_at": now - timedelta(seconds=rnd.uniform(0, 365 * 86400)),
              "agent": f"SIP/agent{1000 + rnd.randrange(20)}", "route_action": "queue",
              "route_target": rnd.choice(["support", "complaints", "orders", "operator"])}
             for i in range(1, CALLS + 1)]
    flags = []
    for n in range(FLAGS):
        rule, category = rnd.choice(rules)
        status = rnd.choices(["confirmed", "dismissed", "new"], [2, 1, 3])[0]
        flags.append({"call_id": rnd.randrange(1, CALLS + 1), "fingerprint": f"bench|{n}", "rule_id": rule,
                      "category": category, "severity": "medium", "status": status, "confidence": rnd.random(),
                      "needs_listening": rnd.random() < 0.2, "created_at": now})
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with db.transaction(cfg.database_url) as s:
        s.execute(insert(Call), calls)
        s.execute(insert(Flag), flags)
        s.add(Account(name="lead", role="lead", password_hash=cheap.hash("bench password")))
    with db.transaction(cfg.database_url) as s:
        rescore_period(s, cfg, now - timedelta(days=366), now + timedelta(days=1))
    return path


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    t = time.perf_counter()
    cfg = load_config(seed(folder))
    print(f"seeded and scored {CALLS} calls, {FLAGS} flags in {time.perf_counter() - t:.1f} s ({folder})")
    tz = timezone_of(cfg)
    year = parse_period("this-year", today_in(tz))
    with db.transaction(cfg.database_url) as s:
        p50, p95 = p50_p95(lambda: report_for(s, cfg, year), RUNS)
    print(f"figures only (report_for, this year): p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    with running(create_app(cfg)) as base, httpx.Client(base_url=base, timeout=60) as c:
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
        assert token is not None
        c.post("/login", data={"name": "lead", "password": "bench password", "csrf": token[1]})
        for period in ("this-month", "this-quarter", "this-year"):
            for what, url, runs in (("page", f"/reports?period={period}", RUNS),
                                    ("chart", f"/reports/chart/rule.png?period={period}", 5),
                                    ("csv", f"/reports.csv?period={period}", RUNS)):
                t = time.perf_counter()
                assert c.get(url).status_code == 200, url
                cold = (time.perf_counter() - t) * 1000
                p50, p95 = p50_p95(lambda u=url: c.get(u), runs)  # type: ignore[misc]
                print(f"{period:13s} {what:5s}: first {cold:5.0f} ms; then p50 {p50:4.0f} ms, p95 {p95:4.0f} ms "
                      f"({runs} requests, data unchanged)")
    sys.exit(0)


if __name__ == "__main__":
    main()
