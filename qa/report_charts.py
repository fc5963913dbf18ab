"""The report's charts as PNG, with Chinese labels (issue 14: rule ids alone said little, and with no
CJK font every Chinese label came out as boxes).

Text is drawn with Noto Sans CJK from Debian's ``fonts-noto-cjk`` (dev.sh installs it); matplotlib's
font cache may predate the package, so the font file is looked up on disk and registered. Without a
CJK font the charts still draw (one log line says so), in English, rules and categories by id.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # charts are bytes or files: no display on a server
import io
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.ticker import MaxNLocator

log = logging.getLogger(__name__)
# file names of CJK fonts, preferred first (Debian fonts-noto-cjk, then other packagings of the same faces)
CJK_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf",
             "NotoSerifCJK-Regular.ttc", "wqy-microhei.ttc", "wqy-zenhei.ttc")
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Noto Serif CJK SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei")
CHARTS = {"agent": "按坐席", "rule": "按规则", "route": "按路由", "category": "按类别", "precision": "规则准确率"}
_COLOURS = {"confirmed": "#c0504d", "dismissed": "#bfbfbf", "unreviewed": "#ffffff"}
# the charts' own words: Chinese as on the pages, English when no font can draw Chinese
_WORDS = {
    True: {"confirmed": "已确认", "dismissed": "已驳回", "unreviewed": "待审", "flags": "标记数",
           "none": "本期没有标记", "no verdicts": "本期还没有审核结论",
           "precision": "准确率 = 已确认 / (已确认 + 已驳回)"},
    False: {"confirmed": "confirmed", "dismissed": "dismissed", "unreviewed": "unreviewed", "flags": "flags",
            "none": "no flags in this period", "no verdicts": "no verdicts in this period",
            "precision": "precision = confirmed / (confirmed + dismissed)"},
}


class ChartError(LookupError):
    """An unknown chart name."""


@dataclass(frozen=True)
class CjkFont:
    family: str
    path: str


@cache
def cjk_font() -> CjkFont | None:
    """The CJK font charts use, registered with matplotlib; None (logged once) when none is installed."""
    by_name = {Path(p).name: p for p in font_manager.findSystemFonts()}
    for fname in CJK_FILES:
        if fname in by_name:
            font_manager.fontManager.addfont(by_name[fname])
    known = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return CjkFont(family, known[family])
    log.warning("charts: no CJK font found (install Debian fonts-noto-cjk); rules are labelled by id")
    return None


def _bar_chart(ax: Any, names: list[str], counts: list[dict[str, int]], words: dict[str, str]) -> None:
    """Horizontal stacked bars, one per name: confirmed solid, dismissed grey, unreviewed hatched."""
    ys = range(len(names))
    left = [0] * len(names)
    for v in ("confirmed", "dismissed", "unreviewed"):
        values = [c[v] for c in counts]
        ax.barh(ys, values, left=left, color=_COLOURS[v], edgecolor="#7f7f7f",
                hatch="//" if v == "unreviewed" else None, label=words[v])
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(list(ys), names)
    ax.invert_yaxis()  # the largest (first) at the top
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # flags are whole numbers
    ax.set_xlabel(words["flags"])
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the bars, never over them


def _precision_chart(ax: Any, rules: list[dict[str, Any]], label: Any, words: dict[str, str]) -> None:
    judged = [r for r in rules if r["precision"] is not None]
    ys = range(len(judged))
    ax.barh(ys, [r["precision"] for r in judged], color="#4f81bd")
    for y, r in zip(ys, judged, strict=True):  # the verdicts it rests on: 1.0 of 2 is not 1.0 of 200
        ax.text(min(r["precision"], 0.85) + 0.02, y, f"{r['confirmed']}/{r['confirmed'] + r['dismissed']}",
                va="center", fontsize=8)
    ax.set_yticks(list(ys), [label(r["rule"]) for r in judged])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(words["precision"])


def chart_png(report: dict[str, Any], name: str) -> bytes:
    """One chart of the report as PNG bytes: ``agent``, ``rule``, ``route``, ``category`` or ``precision``."""
    if name not in CHARTS:
        raise ChartError(f"chart {name!r}: one of {', '.join(CHARTS)}")
    font = cjk_font()
    labels = {**report.get("rule_labels", {}), **report.get("category_labels", {})} if font else {}
    words = _WORDS[font is not None]

    def label(key: str) -> str:
        return labels.get(key, key)

    if name == "precision":
        rows = len([r for r in report["rules"] if r["precision"] is not None])
    else:
        counts: dict[str, dict[str, int]] = report[f"by_{name}"]
        rows = len(counts)
    rc = {"font.family": [font.family, "DejaVu Sans"]} if font else {}
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(8, max(2.5, 0.4 * rows + 1.5)))
        if name == "precision":
            _precision_chart(ax, report["rules"], label, words)
        else:
            names = [label(k) if name in ("rule", "category") else k for k in counts]
            _bar_chart(ax, names, list(counts.values()), words)
        if rows == 0:
            empty = words["no verdicts" if name == "precision" else "none"]
            ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
        title = f"{CHARTS[name]} · {report['label']}（{report['first_day']} 至 {report['last_day']}）"
        ax.set_title(title if font else f"{name} {report['period']}", fontsize=10)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
    return buf.getvalue()


def write_charts(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Every chart of the report as a PNG file in ``out_dir``; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in CHARTS:
        path = out_dir / f"{report['period']}-{name}.png"
        path.write_bytes(chart_png(report, name))
        written.append(path)
    return written
