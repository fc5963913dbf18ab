"""Reports on a real SQLite file: calendar months in the hotline's timezone, verdicts kept apart,
rule precision, the CSV export and the charts' Chinese labels (qa/report.py, qa/report_charts.py, `qa report`)."""

from __future__ import annotations

import csv
import io
import json
import logging
import warnings
from datetime import date
from pathlib import Path

import pytest
from matplotlib import font_manager
from report_calls import CALLER, seeded_config
from sqlalchemy import update
from typer.testing import CliRunner

import db
from cli import app
from qa import report_charts
from qa.periods import containing
from qa.report import csv_bytes, report_for, rule_labels
from qa.report_charts import CHARTS, chart_png, cjk_font
from qa.scorecard_tables import CallScore
from settings import Config

runner = CliRunner(env={"COLUMNS": "200"})
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return seeded_config(tmp_path)


def _report(c: Config, day: date) -> dict:
    with db.transaction(c.database_url) as s:
        return report_for(s, c, containing("month", day))


def test_a_month_counts_only_confirmed_flags_as_breaches(cfg: Config) -> None:
    nov = _report(cfg, date(2026, 11, 15))
    assert (nov["period"], nov["label"], nov["calls"]) == ("2026-11", "2026年11月", 2)  # not the 1 December call
    assert (nov["confirmed"], nov["dismissed"], nov["unreviewed"]) == (2, 1, 4)
    # agent1002 has 4 flags, 1 confirmed: counting unreviewed flags as breaches would charge it 4
    assert nov["by_agent"]["SIP/agent1002"] == {"confirmed": 1, "dismissed": 0, "unreviewed": 3}
    assert nov["by_agent"]["SIP/agent1001"] == {"confirmed": 1, "dismissed": 1, "unreviewed": 1}
    assert list(nov["by_agent"]) == ["SIP/agent1002", "SIP/agent1001"]  # tie on confirmed: more to review first
    assert nov["by_route"]["complaints"] == {"confirmed": 1, "dismissed": 0, "unreviewed": 3}
    assert nov["by_rule"]["forbidden.refusal"] == {"confirmed": 1, "dismissed": 1, "unreviewed": 3}
    assert nov["calls_with_confirmed"] == 2 and nov["flagged_calls"] == 2
    health = {r["rule"]: r for r in nov["rules"]}
    # precision from verdicts only: 1 / (1 + 1), not 4 / 5 as if the unreviewed three were breaches
    assert health["forbidden.refusal"]["precision"] == 0.5
    assert health["vague.ambiguous"]["precision"] is None and health["vague.ambiguous"]["unreviewed"] == 1
    assert health["forbidden.refusal"]["label"] == "禁语：不行、不知道、不能够…"
    assert nov["rules"][-1]["rule"] == "vague.ambiguous"  # rules nobody judged come last
    dec = _report(cfg, date(2026, 12, 2))
    assert (dec["calls"], dec["confirmed"], dec["dismissed"], dec["unreviewed"]) == (2, 1, 1, 0)
    assert dec["by_rule"]["opening.mandated"]["confirmed"] == 1 and dec["first_day"] == "2026-12-01"
    assert CALLER not in json.dumps(nov, ensure_ascii=False)


def test_rule_labels_come_from_the_config(cfg: Config) -> None:
    labels = rule_labels(cfg)
    assert labels["forbidden.shifting-blame"].startswith("禁语：我不能帮助你、")
    assert labels["vague.ambiguous"] == "模糊用语：可能、大概、看情况…"
    assert labels[cfg.qa.opening.id] == "开场白不规范"
    ids = {cfg.qa.closing.id, cfg.qa.hold.id, cfg.qa.conversation.silence.id, *(r.id for r in cfg.qa.phrases)}
    assert ids <= set(labels)


def test_csv_export_opens_in_excel_and_names_no_caller(cfg: Config) -> None:
    data = csv_bytes(_report(cfg, date(2026, 11, 1)))
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8, Chinese intact
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1][:4] == ["分组 section", "名称 name", "说明 label", "已确认 confirmed"]
    assert rows[2] == ["total", "all", "全部", "2", "1", "4", "0.667"]
    by = {(r[0], r[1]): r for r in rows[3:]}
    assert by[("rule", "forbidden.refusal")][2:] == ["禁语：不行、不知道、不能够…", "1", "1", "3", "0.500"]
    assert by[("agent", "SIP/agent1002")][3:6] == ["1", "0", "3"]
    assert by[("rule", "vague.ambiguous")][6] == ""  # no verdict yet: no precision
    assert CALLER not in data.decode("utf-8-sig")


def test_charts_draw_chinese_with_the_noto_cjk_font(cfg: Config) -> None:
    font = cjk_font()
    assert font is not None and "NotoSansCJK" in Path(font.path).name  # Debian fonts-noto-cjk (dev.sh)
    # what matplotlib itself resolves the charts' family to (no silent fallback to DejaVu Sans)
    resolved = font_manager.findfont(font_manager.FontProperties(family=font.family), fallback_to_default=False)
    assert Path(resolved).name == Path(font.path).name
    rep = _report(cfg, date(2026, 11, 15))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" for every box it draws
        pngs = {name: chart_png(rep, name) for name in CHARTS}
    assert all(p.startswith(PNG) and len(p) > 5000 for p in pngs.values())


def test_cli_report_month_at_a_date_with_csv(cfg: Config, tmp_path: Path) -> None:
    path = str(cfg.source)
    r = runner.invoke(app, ["qa", "report", "--period", "month", "--at", "2026-11-30", "--json", "--csv",
                            str(tmp_path / "nov.csv"), "--png", str(tmp_path / "charts"), "-c", path])
    assert r.exit_code == 0, r.stderr
    rep = json.loads(r.stdout)
    assert (rep["period"], rep["confirmed"], rep["unreviewed"]) == ("2026-11", 2, 4)
    assert (tmp_path / "nov.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert sorted(Path(p).name for p in rep["charts"]) == sorted(f"2026-11-{n}.png" for n in CHARTS)
    r = runner.invoke(app, ["qa", "report", "--period", "last-month", "--at", "2027-01-03", "-c", path])
    assert r.exit_code == 0 and "2026年12月" in r.stdout and "禁语：不行、不知道、不能够" in r.stdout
    assert CALLER not in r.stdout
    r = runner.invoke(app, ["qa", "report", "--period", "fortnight", "-c", path])
    assert r.exit_code == 2 and "--period" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    # scorecard averages (issue 15): the stored scores (the calls were scored as their flags were raised)
    scores = {s["agent"]: s for s in rep["scores"]["agent"]}
    # 75 points judged by rules: agent1001's refusal costs 25 (the unreviewed vague flag costs nothing),
    # agent1002's missing closing 5; the 1 December call is not November's
    assert scores["SIP/agent1001"]["average"] == pytest.approx(66.7, abs=0.1)
    assert scores["SIP/agent1002"]["average"] == pytest.approx(93.3, abs=0.1)
    assert all(s["calls"] == 1 for s in scores.values())
    r = runner.invoke(app, ["qa", "report", "--period", "2026-11", "-c", path])
    assert "scorecard average by agent" in r.stdout and "66.7" in r.stdout
    # a stored score gone stale (a changed form, a rescan) is what a report shows until --rescore refreshes it
    with db.transaction(cfg.database_url) as s:
        s.execute(update(CallScore).values(score=0.0, inputs="stale"))
    month = ["qa", "report", "--period", "2026-11", "--json", "-c", path]
    stale, fresh, kept = ([a["average"] for a in json.loads(runner.invoke(app, [*month, *extra]).stdout)["scores"]
                           ["agent"]] for extra in ([], ["--rescore"], []))
    assert stale == [0.0, 0.0]
    assert fresh == [pytest.approx(93.3, abs=0.1), pytest.approx(66.7, abs=0.1)] and kept == fresh
    r = runner.invoke(app, ["qa", "health", "--period", "2026-Q4", "--json", "-c", path])
    rules = {x["rule"]: x for x in json.loads(r.stdout)["rules"]}
    assert rules["forbidden.refusal"]["precision"] == pytest.approx(1 / 3, abs=0.001)  # 1 of 3 judged, Q4


def test_without_a_cjk_font_charts_still_draw_with_rule_ids(cfg: Config, monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(report_charts, "CJK_FAMILIES", ("No Such CJK Font",))
    report_charts.cjk_font.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="qa.report_charts"):
            assert cjk_font() is None and cjk_font() is None
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no box drawn for a glyph the font lacks: ids and ASCII only
                png = chart_png(_report(cfg, date(2026, 11, 15)), "rule")
        assert png.startswith(PNG)
        assert [r.message for r in caplog.records] == [
            "charts: no CJK font found (install Debian fonts-noto-cjk); rules are labelled by id"]
    finally:
        report_charts.cjk_font.cache_clear()
