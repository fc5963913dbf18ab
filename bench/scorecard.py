"""What scoring a month of calls costs (qa/scorecard.py), next to rule health on the same flags.

    .venv/bin/python bench/scorecard.py [--calls 10000] [--flags-per-call 5]

A fresh SQLite file holds ``--calls`` calls of 20 agents in one month and ``--flags-per-call`` flags
each (a third confirmed, a third unreviewed, a third dismissed; no transcripts). Timed, in order:
- ``rule health``: qa.health.rule_health over the month, the baseline (one grouped query on the flags);
- ``rescore, first``: every call scored and its call_scores row written;
- ``rescore, unchanged``: the same again, nothing changed (the digest skips scoring and writing);
- ``averages, stored``: score_averages without config (what a report page can call on each view);
- ``averages, refreshed``: score_averages with config (rescores what changed first, as `qa scores`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from qa_calls import T0, config_file  # noqa: E402
from sqlalchemy import insert  # noqa: E402

import db  # noqa: E402
from ivr.tables import Call  # noqa: E402
from qa.health import rule_health  # noqa: E402
from qa.scorecard import rescore_period, score_averages  # noqa: E402
from qa.tables import Flag  # noqa: E402
from settings import load_config  # noqa: E402

RULES = [("forbidden.bad-answers", "forbidden"), ("vague.ambiguous", "vague"), ("closing.courtesy", "closing"),
         ("conversation.silence", "conversation"), ("pii.spoken", "pii")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--flags-per-call", type=int, default=5)
    args = ap.parse_args()
    n, per = args.calls, args.flags_per_call
    cfg = load_config(config_file(Path(tempfile.mkdtemp(prefix="bench-scorecard-"))))
    minutes = 31 * 24 * 60 // max(n, 1)  # the calls spread over the month
    with db.transaction(cfg.database_url) as s:
        s.execute(insert(Call), [dict(uniqueid=f"bench.{i}", channel="SIP/caller", caller_num="13800000000",
                                      status="ended", started_at=T0 + timedelta(minutes=minutes * i),
                                      agent=f"SIP/agent{1000 + i % 20}", route_action="queue",
                                      route_target="support") for i in range(n)])
        s.execute(insert(Flag), [dict(call_id=1 + i // per, fingerprint=f"bench{i}", rule_id=RULES[i % 5][0],
                                      category=RULES[i % 5][1], severity="low",
                                      status=("confirmed", "new", "dismissed")[i % 3]) for i in range(n * per)])
    start, end = T0, T0 + timedelta(days=31)
    steps = [("rule health (baseline)", lambda s: rule_health(s, start, end)),
             ("rescore, first", lambda s: rescore_period(s, cfg, start, end)),
             ("rescore, unchanged", lambda s: rescore_period(s, cfg, start, end)),
             ("averages, stored", lambda s: score_averages(s, start, end, "agent")),
             ("averages, refreshed", lambda s: score_averages(s, start, end, "agent", config=cfg))]
    print(f"{n} calls, {n * per} flags, one month, SQLite")
    base = None
    for name, step in steps:
        with db.transaction(cfg.database_url) as s:
            t = time.perf_counter()
            step(s)
            took = time.perf_counter() - t
        base = base or took
        print(f"  {name:<24} {took * 1000:8.0f} ms  {took / base:6.1f} x baseline  "
              f"{took / n * 1e6:7.1f} us per call")


if __name__ == "__main__":
    main()
