"""Periodic QA reports (POLICY.md §6: weekly, monthly, quarterly, yearly).

Counts of flags by category, by agent, by route and by status for the calls that
started in the period (the last 7, 30, 91 or 365 days up to ``until``), the calls
with at least one flag, and the most-flagged agents. Every breakdown is split into
confirmed, unreviewed and dismissed (issue 11: counting unreviewed flags as breaches
charted an agent with 11 flags when 2 were confirmed), and ``rules`` is the rule-health
table (qa/health.py: each rule's precision from reviewers' verdicts). ``write_charts`` draws them as
PNG bar charts with matplotlib (headless Agg backend). Chart labels use a CJK font
when one is installed; otherwise any label that is not ASCII is shown as ``#n`` and
the chart's title names the file that lists what ``#n`` stands for.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # charts are files: no display on a server
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib import font_manager
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.tables import Call
from qa.tables import Flag

PERIODS = {"week": 7, "month": 30, "quarter": 91, "year": 365}
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
             "SimHei", "Microsoft YaHei", "PingFang SC", "AR PL UMing CN", "Droid Sans Fallback")


class ReportError(ValueError):
    pass


VERDICTS = ("confirmed", "unreviewed", "dismissed")  # a flag's standing: a reviewer's verdict, or none yet


def verdict(status: str) -> str:
    return status if status in ("confirmed", "dismissed") else "unreviewed"


def period_bounds(period: str, until: datetime | None = None) -> tuple[datetime, datetime]:
    if period not in PERIODS:
        raise ReportError(f"--period {period!r}: one of {', '.join(PERIODS)}")
    end = until or datetime.now(UTC)
    return end - timedelta(days=PERIODS[period]), end


def _split() -> dict[str, int]:
    return dict.fromkeys(VERDICTS, 0)


def _ranked(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Most confirmed first, then most unreviewed: a chart leads with what a person has confirmed."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1]["confirmed"], -kv[1]["unreviewed"], kv[0])))


def build(session: Session, period: str, until: datetime | None = None) -> dict[str, Any]:
    """Flags of the calls started in the period, each breakdown split by verdict.

    Only ``confirmed`` flags are breaches; ``unreviewed`` ones are a reviewer's queue (of which
    ``needs_listening`` are the ones QA itself is unsure of); ``dismissed`` ones were false alarms.
    """
    from qa.health import rule_health

    start, end = period_bounds(period, until)
    in_period = (Call.started_at >= start) & (Call.started_at < end)
    calls = session.scalar(select(func.count()).select_from(Call).where(in_period)) or 0
    rows = session.execute(
        select(Flag.category, Flag.status, Flag.severity, Flag.call_id, Flag.needs_listening, Call.agent,
               Call.route_target, Call.route_action).join(Call, Call.id == Flag.call_id).where(in_period)
    ).all()
    by: dict[str, dict[str, dict[str, int]]] = {"by_category": {}, "by_agent": {}, "by_route": {}}
    totals = _split()
    by_status: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    listen = 0
    flagged_calls: set[int] = set()
    confirmed_calls: set[int] = set()
    for category, status, severity, call_id, needs_listening, agent, target, action in rows:
        v = verdict(status)
        totals[v] += 1
        by_status[status] += 1
        for key, name in (("by_category", category), ("by_agent", agent or "(no agent)"),
                          ("by_route", target or action or "(no route)")):
            by[key].setdefault(name, _split())[v] += 1
        if v == "dismissed":  # a false alarm: counted apart, never against anyone
            continue
        by_severity[severity] += 1
        flagged_calls.add(call_id)
        if v == "confirmed":
            confirmed_calls.add(call_id)
        elif needs_listening:
            listen += 1
    agents = _ranked(by["by_agent"])
    return {
        "period": period, "from": start.isoformat(), "until": end.isoformat(), "calls": calls,
        "flagged_calls": len(flagged_calls), "calls_with_confirmed": len(confirmed_calls),
        "flags": totals["confirmed"] + totals["unreviewed"],  # not dismissed
        "confirmed": totals["confirmed"], "unreviewed": totals["unreviewed"], "dismissed": totals["dismissed"],
        "unreviewed_needs_listening": listen,
        "by_category": _ranked(by["by_category"]), "by_agent": agents, "by_route": _ranked(by["by_route"]),
        "by_status": dict(by_status.most_common()), "by_severity": dict(by_severity.most_common()),
        "most_flagged_agents": [{"agent": a, **n} for a, n in list(agents.items())[:5]],
        "rules": rule_health(session, start, end),
    }


def _cjk_font() -> str | None:
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def write_charts(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """One PNG bar chart per breakdown (category, agent, route); returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    font = _cjk_font()
    written: list[Path] = []
    for key, title in (("by_category", "flags by category"), ("by_agent", "flags by agent"),
                       ("by_route", "flags by route")):
        counts: dict[str, dict[str, int]] = report[key]
        labels = list(counts) or ["(none)"]
        confirmed = [c["confirmed"] for c in counts.values()] or [0]
        unreviewed = [c["unreviewed"] for c in counts.values()] or [0]
        legend: list[str] = []
        shown = []
        for i, label in enumerate(labels, 1):
            if font or label.isascii():
                shown.append(label)
            else:
                shown.append(f"#{i}")
                legend.append(f"#{i}\t{label}")
        fig, ax = plt.subplots(figsize=(max(5.0, 0.7 * len(labels) + 2), 4))
        # confirmed breaches solid, the unreviewed queue hatched on top: never one bar of "flags"
        ax.bar(range(len(labels)), confirmed, color="#c0504d", label="confirmed")
        ax.bar(range(len(labels)), unreviewed, bottom=confirmed, color="#ffffff", edgecolor="#7f7f7f", hatch="//",
               label="unreviewed")
        ax.set_xticks(range(len(labels)), shown, rotation=30, ha="right",
                      **({"fontproperties": {"family": font}} if font else {}))
        ax.set_ylabel("flags (dismissed not shown)")
        ax.legend(fontsize=8)
        name = f"{report['period']}-{key.removeprefix('by_')}"
        suffix = f" (labels: {name}.labels.txt)" if legend else ""
        ax.set_title(f"{title}, {report['period']} to {report['until'][:10]}{suffix}", fontsize=9)
        fig.tight_layout()
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
        if legend:
            labels_path = out_dir / f"{name}.labels.txt"
            labels_path.write_text("\n".join(legend) + "\n", encoding="utf-8")
            written.append(labels_path)
    return written
