"""Periodic QA reports (POLICY.md §6: weekly, monthly, quarterly, yearly).

Counts of flags by category, by agent, by route and by status for the calls that
started in the period (the last 7, 30, 91 or 365 days up to ``until``), the calls
with at least one flag, and the most-flagged agents. ``write_charts`` draws them as
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


def build(session: Session, period: str, until: datetime | None = None) -> dict[str, Any]:
    if period not in PERIODS:
        raise ReportError(f"--period {period!r}: one of {', '.join(PERIODS)}")
    end = until or datetime.now(UTC)
    start = end - timedelta(days=PERIODS[period])
    in_period = (Call.started_at >= start) & (Call.started_at < end)
    calls = session.scalar(select(func.count()).select_from(Call).where(in_period)) or 0
    rows = session.execute(
        select(Flag.category, Flag.status, Flag.severity, Flag.call_id, Call.agent, Call.route_target,
               Call.route_action).join(Call, Call.id == Flag.call_id).where(in_period)
    ).all()
    by_category: Counter[str] = Counter()
    by_agent: Counter[str] = Counter()
    by_route: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    confirmed_by_agent: Counter[str] = Counter()
    flagged_calls: set[int] = set()
    for category, status, severity, call_id, agent, target, action in rows:
        if status == "dismissed":  # a dismissed flag was a false alarm: counted apart, not against anyone
            by_status[status] += 1
            continue
        agent_key = agent or "(no agent)"
        by_category[category] += 1
        by_agent[agent_key] += 1
        by_route[target or action or "(no route)"] += 1
        by_status[status] += 1
        by_severity[severity] += 1
        flagged_calls.add(call_id)
        if status == "confirmed":
            confirmed_by_agent[agent_key] += 1
    return {
        "period": period, "from": start.isoformat(), "until": end.isoformat(), "calls": calls,
        "flagged_calls": len(flagged_calls), "flags": sum(by_category.values()),
        "by_category": dict(by_category.most_common()), "by_agent": dict(by_agent.most_common()),
        "by_route": dict(by_route.most_common()), "by_status": dict(by_status.most_common()),
        "by_severity": dict(by_severity.most_common()),
        "most_flagged_agents": [{"agent": a, "flags": n, "confirmed": confirmed_by_agent[a]}
                                for a, n in by_agent.most_common(5)],
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
        counts: dict[str, int] = report[key]
        labels = list(counts) or ["(none)"]
        values = list(counts.values()) or [0]
        legend: list[str] = []
        shown = []
        for i, label in enumerate(labels, 1):
            if font or label.isascii():
                shown.append(label)
            else:
                shown.append(f"#{i}")
                legend.append(f"#{i}\t{label}")
        fig, ax = plt.subplots(figsize=(max(5.0, 0.7 * len(labels) + 2), 4))
        ax.bar(range(len(values)), values, color="#c0504d" if key == "by_category" else "#4f81bd")
        ax.set_xticks(range(len(values)), shown, rotation=30, ha="right",
                      **({"fontproperties": {"family": font}} if font else {}))
        ax.set_ylabel("flags")
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
