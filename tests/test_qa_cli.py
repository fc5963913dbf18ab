"""`hotline qa ...` end to end on a real SQLite file: scan, list, show, review, report, eval."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from qa_calls import IVR, POLITE, add_call, add_reviewers, config_file, replace
from typer.testing import CliRunner

import db
from cli import app
from qa.scan import scan_call
from settings import load_config

runner = CliRunner()


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args), input=input)
    return r.exit_code, r.stdout, r.stderr


# the calls' local day (qa.web.timezone): a calendar "week" holding it holds them, Mondays too
# one instant for the calls and the period asked: read apart, they straddled midnight in Shanghai once
YESTERDAY = db.now() - timedelta(days=1)
AT = ("--at", YESTERDAY.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat())


@pytest.fixture
def cfg_path(tmp_path: Path) -> Path:
    """A config whose database holds two scanned calls from yesterday."""
    path = config_file(tmp_path)
    cfg = load_config(path)
    yesterday = YESTERDAY
    with db.transaction(cfg.database_url) as s:
        rude = add_call(s, replace(IVR + POLITE, 4, "我们非常忙，你的电话一三八一二三四五六七八我记下了。"),
                        started=yesterday, hangup_by="agent")
        polite = add_call(s, agent="SIP/agent1002", started=yesterday, route_target="complaints", ring_s=30.0)
        scan_call(s, cfg, rude.id)
        scan_call(s, cfg, polite.id)
        add_reviewers(s, "qa-lin", "qa-wang", "lin")
    return path


def test_scan_json_gives_one_object_per_line_with_offsets_into_the_original(tmp_path: Path) -> None:
    text = "好的，我 不 能帮您\n你找錯部門了\n请您耐心等候"
    code, out, _ = run("qa", "scan", "--json", "--config", str(config_file(tmp_path)), text)
    assert code == 0
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x["line"] for x in lines] == [1, 2, 3]
    first = lines[0]
    [flag] = first["flags"]
    assert set(flag) == {"rule", "category", "match", "start", "end"}
    assert first["text"][flag["start"]:flag["end"]] == flag["match"] == "我 不 能"
    assert [f["rule"] for f in lines[1]["flags"]] == ["forbidden.shifting-blame"]
    assert lines[2]["flags"] == []


def test_scan_reads_stdin_and_scopes_to_the_speaker(tmp_path: Path) -> None:
    cfg = str(config_file(tmp_path))
    code, out, _ = run("qa", "scan", "--json", "--speaker", "caller", "-c", cfg, "-", input="我不能登录\n我们非常忙\n")
    assert code == 0
    assert [json.loads(x)["flags"] for x in out.splitlines()] == [[], []]
    code, out, _ = run("qa", "scan", "-c", cfg, "-", input="我们非常忙\n")
    assert code == 0 and "forbidden.bad-answers" in out


def test_scan_with_a_bad_speaker_is_one_error_line(tmp_path: Path) -> None:
    code, out, err = run("qa", "scan", "--speaker", "boss", "-c", str(config_file(tmp_path)), "x")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "--speaker" in err


def test_list_filters(cfg_path: Path) -> None:
    code, out, _ = run("qa", "list", "--json", "-c", str(cfg_path))
    assert code == 0
    flags = json.loads(out)
    assert sorted(f["category"] for f in flags) == ["forbidden", "hangup", "pii", "slow-answer"]
    code, out, _ = run("qa", "list", "--json", "--category", "forbidden", "--status", "new", "-c", str(cfg_path))
    assert [f["rule"] for f in json.loads(out)] == ["forbidden.bad-answers"]
    code, out, _ = run("qa", "list", "--json", "--agent", "agent1002", "-c", str(cfg_path))
    assert [f["category"] for f in json.loads(out)] == ["slow-answer"]
    code, out, _ = run("qa", "list", "--json", "--since", "2099-01-01", "-c", str(cfg_path))
    assert json.loads(out) == []
    code, out, _ = run("qa", "list", "--since", "3d", "-c", str(cfg_path))
    assert code == 0 and "4 flag(s)" in out


@pytest.mark.parametrize("width", [80, 160])
def test_list_shows_each_rule_and_what_it_matched_whole_in_any_terminal(cfg_path: Path, width: int) -> None:
    flags = json.loads(run("qa", "list", "--json", "-c", str(cfg_path))[1])
    result = CliRunner(env={"COLUMNS": str(width)}).invoke(app, ["qa", "list", "-c", str(cfg_path)])
    code, out = result.exit_code, result.stdout
    assert code == 0 and max(len(line) for line in out.splitlines()) <= width
    # a narrow table cut forbidden.bad-answers into forbidden.bad-answe / rs
    assert all(f["rule"] in out for f in flags), out
    if width < 120:  # a line of its own for each flag's evidence
        assert all(f"    {f['matched']}" in out for f in flags if f["matched"]), out


def test_list_filters_the_conversation_rules_flags_too(cfg_path: Path) -> None:
    cfg = load_config(cfg_path)
    quiet = [(sp, a + 15.0 if a >= 34.0 else a, b + 15.0 if a >= 34.0 else b, t) for sp, a, b, t in POLITE]
    with db.transaction(cfg.database_url) as s:  # 15 s more of nobody speaking after 好的，谢谢
        scan_call(s, cfg, add_call(s, IVR + quiet[:3] + quiet[4:], started=db.now() - timedelta(days=1)).id)
    code, out, err = run("qa", "list", "--json", "--category", "conversation", "-c", str(cfg_path))
    assert code == 0, err
    assert [f["rule"] for f in json.loads(out)] == ["conversation.silence"]


@pytest.mark.parametrize("args", [["--since", "last tuesday"], ["--status", "open"], ["--category", "rude"]])
def test_list_bad_filters_are_one_error_line(cfg_path: Path, args: list[str]) -> None:
    code, _, err = run("qa", "list", *args, "-c", str(cfg_path))
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_show_masks_pii_and_marks_the_flags(cfg_path: Path) -> None:
    code, out, _ = run("qa", "show", "1", "--json", "-c", str(cfg_path))
    assert code == 0
    view = json.loads(out)
    assert view["call"]["caller"] == "*******5678"
    seg = next(s for s in view["segments"] if s["marks"])
    assert seg["text"] == "我们非常忙，你的电话*******五六七八我记下了。"
    assert sorted(m["category"] for m in seg["marks"]) == ["forbidden", "pii"]
    marks = {m["category"]: seg["text"][m["start"]:m["end"]] for m in seg["marks"]}
    assert marks == {"forbidden": "我们非常忙", "pii": "*******五六七八"}
    code, out, _ = run("qa", "show", "1", "-c", str(cfg_path))
    assert code == 0
    assert "一三八一二三四" not in out and "*******五六七八" in out
    assert "⚑1,2" in out  # the segment names its flags
    code, _, err = run("qa", "show", "99", "-c", str(cfg_path))
    assert code == 2 and "call 99" in err


def test_review_confirm_then_dismiss_keeps_both(cfg_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_USER", "qa-lin")  # an account (issue 14), not the OS user
    code, out, _ = run("qa", "review", "1", "--confirm", "--note", "heard it", "--json", "-c", str(cfg_path))
    assert code == 0 and json.loads(out)["reviewer"] == "qa-lin" and json.loads(out)["status"] == "confirmed"
    code, out, _ = run("qa", "review", "1", "--dismiss", "--reviewer", "qa-wang", "--json", "-c", str(cfg_path))
    assert code == 0 and json.loads(out)["reviews"] == 2
    code, out, _ = run("qa", "list", "--json", "--status", "dismissed", "-c", str(cfg_path))
    [flag] = json.loads(out)
    assert [(r["reviewer"], r["decision"], r["note"]) for r in flag["reviews"]] == [
        ("qa-lin", "confirmed", "heard it"), ("qa-wang", "dismissed", None)]


@pytest.mark.parametrize(("args", "msg"), [(["999", "--confirm"], "flag 999"), (["1"], "exactly one"),
                                           (["1", "--confirm", "--dismiss"], "exactly one")])
def test_review_errors_are_one_line(cfg_path: Path, args: list[str], msg: str) -> None:
    code, _, err = run("qa", "review", *args, "--reviewer", "lin", "-c", str(cfg_path))
    assert code == 2 and msg in err and len(err.strip().splitlines()) == 1


def test_report_counts_and_charts(cfg_path: Path, tmp_path: Path) -> None:
    run("qa", "review", "3", "--dismiss", "--reviewer", "lin", "-c", str(cfg_path))
    code, out, _ = run("qa", "report", "--period", "week", *AT, "--json", "--png", str(tmp_path / "charts"),
                       "-c", str(cfg_path))
    assert code == 0
    rep = json.loads(out)
    assert rep["calls"] == 2 and rep["flagged_calls"] == 2
    dismissed = rep["by_status"]["dismissed"]
    assert dismissed == 1 and rep["flags"] == 3  # four flags, one dismissed
    for key in ("by_category", "by_agent", "by_route"):  # each breakdown split by verdict, none lost
        split = rep[key].values()
        assert sum(n["confirmed"] + n["unreviewed"] for n in split) == 3
        assert sum(n["dismissed"] for n in split) == 1
    assert set(rep["by_route"]) <= {"support", "complaints"}
    pngs = sorted(Path(p).name for p in rep["charts"] if p.endswith(".png"))
    assert [p.split("-")[-1] for p in pngs] == ["agent.png", "category.png", "precision.png", "route.png",
                                                 "rule.png"]
    for p in rep["charts"]:
        if p.endswith(".png"):
            assert Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out, _ = run("qa", "report", "--period", "year", "-c", str(cfg_path))
    assert code == 0 and "by category" in out
    code, _, err = run("qa", "report", "--period", "decade", "-c", str(cfg_path))
    assert code == 2 and "--period" in err


def test_rescan_is_idempotent(cfg_path: Path) -> None:
    code, out, _ = run("qa", "rescan", "--json", "-c", str(cfg_path))
    assert code == 0 and json.loads(out) == {"1": 3, "2": 1}
    code, out, _ = run("qa", "list", "--json", "-c", str(cfg_path))
    assert len(json.loads(out)) == 4


def test_eval_prints_the_table(tmp_path: Path) -> None:
    code, out, _ = run("qa", "eval", "--json", "-c", str(config_file(tmp_path)))
    assert code == 0
    data = json.loads(out)
    assert data["lines"] >= 150
    assert all(c["precision"] >= 0.95 and c["recall"] >= 0.95 for c in data["categories"].values())


def test_missing_config_is_one_error_line(tmp_path: Path) -> None:
    code, _, err = run("qa", "list", "-c", str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such config file" in err
