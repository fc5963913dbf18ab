"""Scorecards (issue 15): the form in config.yaml, a score per call from flags and answers, averages.

Pure scoring on the shipped form first, then `hotline qa score` / `qa scores` on a real SQLite file
with calls scanned by the real rules. Appeals are in tests/test_appeals.py.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from qa_calls import IVR, POLITE, T0, add_call, config, config_file, replace
from scorecard_cli import add_accounts, copy_db, invoke
from sqlalchemy import select

import db
from qa.scan import scan_call
from qa.scorecard import Answer, FlagFact, ScoreError, parse_answer, score_averages, score_call
from qa.scorecard_tables import CallScore
from qa.tables import Flag
from settings import ConfigError, load_config

RUDE = replace(IVR + POLITE, 4, "我们非常忙。")  # forbidden.bad-answers, the 'language' item (25 of 75 points)


def run(*args: str) -> tuple[int, str, str]:
    return invoke(*args)


# -- the pure score on the shipped form -------------------------------------------------------------------


def test_a_clean_call_scores_100_on_what_is_judged_and_waits_for_the_manual_items() -> None:
    r = score_call(config().qa.scorecard, [], {})
    assert (r["score"], r["earned"], r["possible"], r["failed"]) == (100.0, 75.0, 75.0, False)
    assert r["pending"] == ["solved", "knowledge"]


def test_flags_cost_their_items_points_only_when_they_count() -> None:
    card = config().qa.scorecard
    rude = FlagFact(1, "forbidden.bad-answers", "forbidden", "confirmed")
    assert score_call(card, [rude], {})["score"] == pytest.approx(100 * 50 / 75, abs=0.05)
    unreviewed = FlagFact(1, "forbidden.bad-answers", "forbidden", "new")
    assert score_call(card, [unreviewed], {})["score"] == 100.0  # deduct_on: confirmed
    language = score_call(card, [unreviewed], {})["items"][1]
    assert (language["id"], language["lost_to"], language["unreviewed"]) == ("language", [], [1])  # shown, waiting
    anything = card.model_copy(update={"deduct_on": "any"})
    assert score_call(anything, [unreviewed], {})["score"] == pytest.approx(66.7)
    dismissed = FlagFact(1, "forbidden.bad-answers", "forbidden", "dismissed")
    assert score_call(anything, [dismissed], {})["score"] == 100.0
    # two flags on one item cost it once
    both = [rude, FlagFact(2, "forbidden.rude", "forbidden", "confirmed")]
    items = {i["id"]: i for i in score_call(card, both, {})["items"]}
    assert (items["language"]["earned"], items["language"]["lost_to"]) == (0.0, [1, 2])


def test_answers_join_the_score_and_an_instant_fail_zeroes_it_only_when_confirmed() -> None:
    card = config().qa.scorecard
    answers = {"solved": Answer(0.0, "no", "lin"), "knowledge": Answer(8.0, "8", "lin")}
    r = score_call(card, [], answers)
    assert (r["score"], r["earned"], r["possible"], r["pending"]) == (83.0, 83.0, 100.0, [])
    leak = FlagFact(7, "pii.spoken", "pii", "new")
    assert score_call(card, [leak], answers)["score"] == 83.0  # an unreviewed guess never zeroes a call
    r = score_call(card, [FlagFact(7, "pii.spoken", "pii", "confirmed")], answers)
    assert (r["score"], r["failed"]) == (0.0, True)
    assert [i["id"] for i in r["items"] if i.get("failed")] == ["privacy"]


def test_a_call_nobody_could_hear_earns_no_credit_but_keeps_its_penalties() -> None:
    """No usable transcript: the rules heard nothing, so silence is no proof of a polite call."""
    card = config().qa.scorecard
    r = score_call(card, [], {}, heard=False)
    assert (r["score"], r["possible"]) == (None, 0.0)
    r = score_call(card, [], {"solved": Answer(15.0, "yes", "lin")}, heard=False)
    assert (r["score"], r["possible"]) == (100.0, 15.0)
    r = score_call(card, [FlagFact(3, "hangup.agent-first", "hangup", "confirmed")], {}, heard=False)
    assert (r["score"], r["failed"]) == (0.0, True)


@pytest.mark.parametrize(("item", "text", "expected"), [
    ("solved", "yes", (15.0, "yes")), ("solved", "否", (0.0, "no")), ("knowledge", "7.5", (7.5, "7.5")),
])
def test_answers_are_read_as_reviewers_type_them(item: str, text: str, expected: tuple[float, str]) -> None:
    assert parse_answer(config().qa.scorecard, item, text) == expected


@pytest.mark.parametrize(("item", "text", "msg"), [
    ("solved", "maybe", "solved=maybe: answer yes or no"), ("knowledge", "11", "from 0 to 10"),
    ("language", "yes", "scored by its rules"), ("mood", "yes", "not on the form (items to answer: solved, knowledge)"),
])
def test_bad_answers_say_what_to_give(item: str, text: str, msg: str) -> None:
    with pytest.raises(ScoreError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        parse_answer(config().qa.scorecard, item, text)


# -- the form is checked when config.yaml is read -----------------------------------------------------------


FORM = """\
  scorecard:
    items:
      - id: opening
        label: 开头语
        points: 10
        rules: [opening.mandated]
"""


@pytest.mark.parametrize(("old", "new", "field", "msg"), [
    ("rules: [opening.mandated]", "rules: [opening.mandatd]", "qa.scorecard.items.0.rules",
     "unknown rule 'opening.mandatd' (did you mean 'opening.mandated'?)"),
    ("rules: [opening.mandated]", "categories: [rudeness]", "qa.scorecard.items.0.categories",
     "unknown category 'rudeness'"),
    ("rules: [opening.mandated]", "rules: [opening.mandated]\n        answer: yes_no", "qa.scorecard.items.0.answer",
     "not both"),
    ("points: 10", "points: 0", "qa.scorecard.items.0.points", "must be above 0"),
    ("points: 10", "points: -5", "qa.scorecard.items.0.points", "greater than or equal to 0"),
    ("    items:", "    deduct_on: always\n    items:", "qa.scorecard.deduct_on", "'confirmed' or 'any'"),
    ("        label: 开头语\n", "", "qa.scorecard.items.0.label", "required field is missing"),
    ("rules: [opening.mandated]", "rules: [opening.mandated]\n        weight: 3", "qa.scorecard.items.0.weight",
     "unknown field 'weight'"),
])
def test_a_bad_form_is_one_line_naming_the_field(tmp_path: Path, old: str, new: str, field: str, msg: str) -> None:
    path = config_file(tmp_path)
    text = path.read_text(encoding="utf-8")  # the shipped qa.scorecard, up to the next section, replaced
    text, n = re.subn(r"^  scorecard:.*?(?=^  \S|^\S|\Z)", lambda _: FORM.replace(old, new), text, flags=re.S | re.M)
    assert n == 1
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    line = str(exc.value)
    assert f": {field}: " in line and msg in line, line
    code, _, err = run("--config", str(path), "qa", "score", "1")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and field in err


def test_the_migration_makes_the_tables_the_models_describe(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    engine = db.engine_for(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.Base.metadata)
    mine = {"call_scores", "score_answers", "appeals"}
    assert [d for d in diff if any(t in repr(d) for t in mine)] == []


# -- `hotline qa score` / `qa scores` on a real database -----------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two calls of agent 1001 in March 2026, one with a forbidden phrase (confirmed by lin), one clean."""
    folder = tmp_path_factory.mktemp("scorecard")
    path = config_file(folder)
    cfg = load_config(path)
    with db.transaction(cfg.database_url) as s:
        rude, clean = add_call(s, RUDE), add_call(s)
        assert [f.rule_id for f in scan_call(s, cfg, rude.id)] == ["forbidden.bad-answers"]
        assert scan_call(s, cfg, clean.id) == []
        add_accounts(s, ("lin", "reviewer", None), ("a1001", "agent", "SIP/agent1001"))
        assert (rude.id, clean.id) == (1, 2)
    code, _, err = run("--config", str(path), "qa", "review", "1", "--confirm", "--reviewer", "lin")
    assert code == 0, err
    return folder / "qa.db"


@pytest.fixture
def flagged(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int, int]:
    """The template's calls (rude 1, clean 2) in a database of this test's own."""
    monkeypatch.delenv("HOTLINE_USER", raising=False)
    return copy_db(template, tmp_path), 1, 2


def score(path: Path, call: int, *args: str) -> dict:  # type: ignore[type-arg]
    code, out, err = run("--config", str(path), "qa", "score", str(call), "--json", *args)
    assert code == 0, err
    return json.loads(out)


def test_a_reviewer_answers_manual_items_and_the_score_follows(flagged: tuple[Path, int, int]) -> None:
    path, rude, _ = flagged
    r = score(path, rude)
    assert r["score"] == pytest.approx(66.7) and r["pending"] == ["solved", "knowledge"]
    assert next(i for i in r["items"] if i["id"] == "language")["lost_to"] == [1]
    r = score(path, rude, "--answer", "solved=no", "--answer", "knowledge=8", "--reviewer", "lin")
    assert (r["score"], r["earned"], r["possible"]) == (58.0, 58.0, 100.0)
    r = score(path, rude, "--answer", "solved=yes", "--reviewer", "lin")  # a later answer wins
    assert r["score"] == 73.0
    cfg = load_config(path)
    with db.transaction(cfg.database_url) as s:
        row = s.get(CallScore, rude)
        assert row is not None and row.score == 73.0  # stored as shown
    code, out, _ = run("--config", str(path), "qa", "score", str(rude))
    assert code == 0 and "73.0" in out and "lost to flag 1" in out and "answered yes by lin" in out


def test_answers_need_an_account_that_may_review(flagged: tuple[Path, int, int]) -> None:
    path, rude, _ = flagged
    for who, msg in (([], "who is acting?"), (["--reviewer", "a1001"], "may not review"),
                     (["--reviewer", "nobody"], "no enabled account")):
        code, _, err = run("--config", str(path), "qa", "score", str(rude), "--answer", "solved=no", *who)
        assert code == 2 and msg in err, err
    code, _, err = run("--config", str(path), "qa", "score", str(rude), "--answer", "solved", "--reviewer", "lin")
    assert code == 2 and "ITEM=VALUE" in err
    assert score(path, rude)["pending"] == ["solved", "knowledge"]  # nothing was written


def test_a_review_made_elsewhere_shows_in_the_next_score_and_the_averages(flagged: tuple[Path, int, int]) -> None:
    path = flagged[0]
    code, out, err = run("--config", str(path), "qa", "scores", "--period", "2026-03", "--json")
    assert code == 0, err
    data = json.loads(out)
    [agent] = data["agents"]
    assert (agent["agent"], agent["calls"], agent["average"]) == ("SIP/agent1001", 2, round((100 + 66.7) / 2, 1))
    [team] = data["teams"]  # no teams configured: one row for the agents without a team
    assert (team["team"], team["calls"], team["average"]) == (None, 2, agent["average"])
    code, _, _ = run("--config", str(path), "qa", "review", "1", "--dismiss", "--reviewer", "lin")
    assert code == 0
    code, out, _ = run("--config", str(path), "qa", "scores", "--period", "2026-03", "--json")
    assert json.loads(out)["agents"][0]["average"] == 100.0
    code, out, _ = run("--config", str(path), "qa", "scores", "--period", "2026-04", "--json")
    assert json.loads(out)["agents"] == []


def test_team_averages_come_from_the_configured_teams(flagged: tuple[Path, int, int]) -> None:
    path = flagged[0]
    text = path.read_text(encoding="utf-8").replace("    teams: {}",
                                                    "    teams: {SIP/agent1001: 一组, SIP/agent1002: 二组}")
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path)
    with db.transaction(cfg.database_url) as s:
        other = add_call(s, RUDE, agent="SIP/agent1002")
        [flag] = scan_call(s, cfg, other.id)
        flag.status = "confirmed"
    code, out, err = run("--config", str(path), "qa", "scores", "--period", "2026-03")
    assert code == 0, err
    assert "一组" in out and "二组" in out
    code, out, _ = run("--config", str(path), "qa", "scores", "--period", "2026-03", "--json")
    teams = {t["team"]: t["average"] for t in json.loads(out)["teams"]}
    assert teams == {"一组": round((100 + 66.7) / 2, 1), "二组": 66.7}
    with db.transaction(cfg.database_url) as s:
        assert {r.team for r in s.scalars(select(CallScore))} == {"一组", "二组"}
        assert s.scalars(select(Flag).where(Flag.status == "confirmed")).all()


def test_unknown_calls_calls_without_an_agent_or_a_transcript_have_no_score(flagged: tuple[Path, int, int]) -> None:
    path, *_ = flagged
    cfg = load_config(path)
    with db.transaction(cfg.database_url) as s:
        lost = add_call(s, agent=None, agent_answer_s=None, transcript=False).id
    for call, msg in ((999, "call 999: no such call"), (lost, "nobody to score")):
        code, _, err = run("--config", str(path), "qa", "score", str(call))
        assert code == 2 and msg in err
    with db.transaction(cfg.database_url) as s:
        unheard = add_call(s, transcript=False).id
    r = score(path, unheard)
    assert (r["score"], r["heard"]) == (None, False)
    assert {i["earned"] for i in r["items"] if i["kind"] == "rules" and i["points"]} == {None}
    code, out, _ = run("--config", str(path), "qa", "score", str(unheard))
    assert code == 0 and "score -" in out and "not judged" in out


def test_without_a_form_the_commands_say_so_and_reports_still_render(flagged: tuple[Path, int, int]) -> None:
    path = flagged[0]
    text, n = re.subn(r"^  scorecard:.*?(?=^  \S|^\S|\Z)", "  scorecard:\n    items: []\n", path.read_text("utf-8"),
                      flags=re.S | re.M)
    assert n == 1
    path.write_text(text, encoding="utf-8")
    for args in (["qa", "score", "1"], ["qa", "scores"]):
        code, _, err = run("--config", str(path), *args)
        assert code == 2 and "no scorecard is configured" in err
    cfg = load_config(path)
    with db.transaction(cfg.database_url) as s:
        # nothing is rescored without a form: the scores stored while there was one (the scan scored both
        # calls, the CLI review rescored the rude one) are what a report reads
        kept = score_averages(s, T0, T0 + timedelta(days=31), "agent", config=cfg)
        assert kept == score_averages(s, T0, T0 + timedelta(days=31), "agent")
        assert [(r["calls"], r["lowest"], r["highest"]) for r in kept] == [(2, pytest.approx(66.7), 100.0)]
