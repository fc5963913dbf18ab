"""Periodic QA reports (POLICY.md §6; seed 001 slides 152-156: weekly, monthly, quarterly, yearly).

Counts of flags by category, agent, rule and route for the calls that started in a calendar
period (qa/periods.py, local days in the configured timezone), the calls with at least one
flag, and the most-flagged agents. Every breakdown is split into confirmed, dismissed and
unreviewed (issue 11: counting unreviewed flags as breaches charted an agent with 11 flags
when 2 were confirmed): only confirmed flags are breaches. ``rules`` is the rule-health
table (qa/health.py: each rule's precision from reviewers' verdicts), each rule named in
Chinese from the config (``rule_labels``). Charts: qa/report_charts.py; CSV: ``csv_rows``.

Nothing here names a caller: rows are counted per agent, rule and route only.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from ivr.tables import Call
from qa.health import VERDICTS, appeal_counts, grouped_flags, health_rows, precision, verdict
from qa.periods import Period, parse_period, today_in
from qa.scorecard import score_averages
from qa.scorecard_tables import Appeal, CallScore, ScoreAnswer
from qa.tables import Flag, Review
from settings import REVIEW_RULE, Config

BREAKDOWNS = ("by_agent", "by_rule", "by_route", "by_category")
CATEGORY_ZH = {"opening": "开场白", "forbidden": "禁语", "vague": "模糊用语", "closing": "结束语", "pii": "隐私信息",
               "hangup": "挂断", "slow-answer": "接听慢", "hold": "等待", "conversation": "通话过程",
               "review": "需人工听"}
NO_AGENT, NO_ROUTE = "(无坐席)", "(无路由)"
LABEL_PHRASES = 14  # characters of a phrase rule's phrases in its name


def timezone_of(cfg: Config) -> ZoneInfo:
    """The hotline's timezone (qa.web.timezone): a report's days are its local days."""
    return ZoneInfo(cfg.qa.web.timezone)


def resolve_period(cfg: Config, text: str, at: date | None = None) -> Period:
    """The period ``text`` names (qa.periods.parse_period), "this" being the one holding ``at`` (default: today
    in the hotline's timezone). Raises qa.periods.PeriodError."""
    return parse_period(text, at or today_in(timezone_of(cfg)))


def report_for(session: Session, cfg: Config, period: Period, *, rescore: bool = False) -> dict[str, Any]:
    """The report of ``period`` as the CLI and the web page show it: local days, rules named in Chinese,
    and the scorecard averages per agent and team (issue 15) from the stored scores, which reviews, answers
    and appeal decisions keep current (rescoring a year of calls in a page view took seconds).
    ``rescore``: bring every call's score in the period up to date first (after a rescan or a changed
    form; only calls whose inputs changed are written)."""
    tz = timezone_of(cfg)
    rep = build(session, period, tz, rule_labels(cfg))
    start, end = period.bounds(tz)
    rep["scores"] = {"agent": score_averages(session, start, end, "agent", cfg if rescore else None),
                     "team": score_averages(session, start, end, "team")}
    return rep


def data_stamp(session: Session) -> tuple[Any, ...]:
    """What changes whenever a report's figures may: flags added or removed (a rescan), a verdict (reviews
    are only added, and an overturned appeal adds one), a new appeal, call or scorecard answer (answers
    are only added), and the newest stored score (a rescore elsewhere, `hotline qa report --rescore`).
    Equal stamps mean equal reports, so a report may be kept and served again while the stamp holds; each
    part is an index lookup, but the newest score, a scan of one small column (a few ms at 10,000 calls)."""
    return tuple(session.execute(select(
        select(func.max(Flag.id)).scalar_subquery(), select(func.count()).select_from(Flag).scalar_subquery(),
        select(func.max(Review.id)).scalar_subquery(), select(func.max(Appeal.id)).scalar_subquery(),
        select(func.max(Call.id)).scalar_subquery(), select(func.max(ScoreAnswer.id)).scalar_subquery(),
        select(func.max(CallScore.computed_at)).scalar_subquery(),
    )).one())


def rule_labels(cfg: Config) -> dict[str, str]:
    """Each configured rule's id -> a Chinese name a QA lead recognises.

    Phrase rules are named by their category and their first phrases as written in config.yaml
    (禁语：不行、不知道、不能够), so a rule a lead adds is named by what it listens for; the
    fixed rules by what they check.
    """
    q = cfg.qa
    c = q.conversation
    labels = {
        q.opening.id: "开场白不规范", q.closing.id: "未使用结束语", q.pii.id: "坐席说出客户隐私",
        q.ask_secret.id: "索要密码或验证码", q.agent_hangup.id: "坐席先挂断", q.slow_answer.id: "三环内未接听",
        q.hold.id: "等待后未致歉", c.silence.id: "静音过长", c.interruptions.id: "抢话", c.speech_rate.id: "语速不当",
        REVIEW_RULE: "转写不清，需人工听",
    }
    for r in q.phrases:
        named = r.bare_phrases()  # a label names the phrases, gaps empty; more wordings (variants) make a …
        shown = "、".join(named[:3])
        if len(shown) > LABEL_PHRASES or len(named) > 3 or r.variants:  # a chart's axis has room for a few words only
            shown = shown[:LABEL_PHRASES] + "…"
        labels[r.id] = f"{CATEGORY_ZH.get(r.category, r.category)}：{shown}"
    return labels


def _split() -> dict[str, int]:
    return dict.fromkeys(VERDICTS, 0)


def _ranked(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Most confirmed first, then most unreviewed: a chart leads with what a person has confirmed."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1]["confirmed"], -kv[1]["unreviewed"], kv[0])))


def build(session: Session, period: Period, tz: tzinfo, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Flags of the calls started in the period, each breakdown split by verdict.

    Only ``confirmed`` flags are breaches; ``unreviewed`` ones are a reviewer's queue (of which
    ``needs_listening`` are the ones QA itself is unsure of); ``dismissed`` ones were false alarms.
    """
    labels = labels or {}
    start, end = period.bounds(tz)
    in_period = (Call.started_at >= start) & (Call.started_at < end)
    calls = session.scalar(select(func.count()).select_from(Call).where(in_period)) or 0

    # grouped in the database: one row per distinct combination, not per flag; rule health reads the same rows
    rows = grouped_flags(session, start, end, Flag.severity, Call.agent, Call.route_target, Call.route_action)
    flagged, confirmed_calls = session.execute(
        select(func.count(distinct(case((Flag.status != "dismissed", Flag.call_id)))),
               func.count(distinct(case((Flag.status == "confirmed", Flag.call_id)))))
        .join(Call, Call.id == Flag.call_id).where(in_period)
    ).one()
    by: dict[str, dict[str, dict[str, int]]] = {k: {} for k in BREAKDOWNS}
    totals = _split()
    by_status: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    listen = 0
    for rule, category, status, needs_listening, severity, agent, target, action, n, _, _ in rows:
        v = verdict(status)
        totals[v] += n
        by_status[status] += n
        for key, name in (("by_category", category), ("by_agent", agent or NO_AGENT), ("by_rule", rule),
                          ("by_route", target or action or NO_ROUTE)):
            by[key].setdefault(name, _split())[v] += n
        if v == "dismissed":  # a false alarm: counted apart, never against anyone
            continue
        by_severity[severity] += n
        if v == "unreviewed" and needs_listening:
            listen += n
    agents = _ranked(by["by_agent"])
    health = health_rows(rows, appeal_counts(session, start, end))
    for r in health:
        r["label"] = labels.get(r["rule"], r["rule"])
    return {
        "period": period.key, "label": period.label_zh, "unit": period.unit,
        "first_day": period.start.isoformat(), "last_day": period.last_day.isoformat(),
        "from": start.isoformat(), "until": end.isoformat(), "timezone": str(tz),
        "calls": calls, "flagged_calls": flagged, "calls_with_confirmed": confirmed_calls,
        "flags": totals["confirmed"] + totals["unreviewed"],  # not dismissed
        "confirmed": totals["confirmed"], "unreviewed": totals["unreviewed"], "dismissed": totals["dismissed"],
        "precision": precision(totals["confirmed"], totals["dismissed"]),
        "unreviewed_needs_listening": listen,
        "by_category": _ranked(by["by_category"]), "by_agent": agents, "by_rule": _ranked(by["by_rule"]),
        "by_route": _ranked(by["by_route"]),
        "by_status": dict(by_status.most_common()), "by_severity": dict(by_severity.most_common()),
        "most_flagged_agents": [{"agent": a, **n} for a, n in list(agents.items())[:5]],
        "rule_labels": {r: labels.get(r, r) for r in by["by_rule"]},
        "category_labels": {c: CATEGORY_ZH.get(c, c) for c in by["by_category"]},
        "rules": health,
    }


CSV_HEADER = ("分组 section", "名称 name", "说明 label", "已确认 confirmed", "已驳回 dismissed", "未审核 unreviewed",
              "准确率 precision")


SCORE_FIELDS = ("calls", "average", "lowest", "highest", "failed")
SCORE_HEADER = ("分组 section", "名称 name", "", "评分通话 scored calls", "平均分 average", "最低 lowest",
                "最高 highest", "一票否决 instant fails")
NO_TEAM = "(未分组)"


def csv_rows(report: dict[str, Any]) -> list[list[str]]:
    """The report as rows for a spreadsheet: a header, the totals, then one row per agent, rule, route, category.

    Precision is confirmed / (confirmed + dismissed), empty where nobody has judged a flag yet.
    """
    def row(section: str, name: str, label: str, n: dict[str, Any]) -> list[str]:
        p = precision(n["confirmed"], n["dismissed"])
        return [section, name, label, str(n["confirmed"]), str(n["dismissed"]), str(n["unreviewed"]),
                "" if p is None else f"{p:.3f}"]

    out = [[f"# 质检报表 {report['label']} ({report['first_day']} .. {report['last_day']}, {report['timezone']}); "
            f"{report['calls']} calls"], list(CSV_HEADER), row("total", "all", "全部", report)]
    names = {"by_rule": report["rule_labels"], "by_category": report["category_labels"]}
    for key in BREAKDOWNS:
        for name, n in report[key].items():
            out.append(row(key.removeprefix("by_"), name, names.get(key, {}).get(name, ""), n))
    scores = report.get("scores", {})
    if any(scores.values()):
        out.append(list(SCORE_HEADER))
        for by, rows in scores.items():
            for r in rows:
                values = ("" if r[k] is None else str(r[k]) for k in SCORE_FIELDS)
                out.append([f"score_{by}", r[by] or NO_TEAM, "", *values])
    return out


def csv_bytes(report: dict[str, Any]) -> bytes:
    """``csv_rows`` as UTF-8 with a byte-order mark: Excel opens it with the Chinese intact (without the
    mark it guesses the local code page)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(csv_rows(report))
    return buf.getvalue().encode("utf-8-sig")
