"""Who may `--unmask`: an account whose role holds accounts.roles.UNMASK (lead, admin), named by --as or
$HOTLINE_USER, never the OS user; each use is in the access log. Real SQLite, the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qa_calls import IVR, add_call, config_file
from sqlalchemy import select
from typer.testing import CliRunner

import db
from accounts.tables import AccessLog
from accounts.users import add_user
from cli import app
from ivr.tables import CallEvent
from settings import load_config
from transcribe.tables import Job

PASSWORD = "a long enough password"
CALLER = "13812345678"  # qa_calls.add_call's caller number
ID_NUMBER = "110101199003077777"
SEGMENTS_PII = [*IVR, ("agent", 20.5, 24.0, "您好，这里是海尔斯科技，请问有什么可以帮您？"),
                ("caller", 25.0, 30.0, f"我的身份证号码是{ID_NUMBER}。"),
                ("agent", 31.0, 33.0, "好的，感谢您的来电，再见。")]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    """The shipped config on a database with a lead, a reviewer, an agent and one transcribed call."""
    monkeypatch.delenv("HOTLINE_USER", raising=False)
    path = config_file(tmp_path)
    with db.transaction(load_config(path).database_url) as s:
        add_user(s, "wu", "lead", PASSWORD)
        add_user(s, "lin", "reviewer", PASSWORD)
        add_user(s, "a1001", "agent", PASSWORD, agent_id="SIP/agent1001")
        call = add_call(s, SEGMENTS_PII)
        s.add(Job(call_id=call.id, status="done"))  # transcribed: `transcribe --call` shows the stored text
        return path, call.id


def invoke(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, list(args), terminal_width=300)
    return r.exit_code, r.output + (r.stderr if r.stderr_bytes else "")


def access(path: Path) -> list[tuple[str, str, str | None, str]]:
    with db.transaction(load_config(path).database_url) as s:
        return [(a.account, a.action, a.target, a.via) for a in s.scalars(select(AccessLog).order_by(AccessLog.id))]


@pytest.mark.parametrize("command", [["calls", "show", "{id}"], ["calls", "list"], ["transcribe", "--call", "{id}"]])
def test_unmask_without_an_allowed_account_exits_2_and_shows_nothing(
        world: tuple[Path, int], monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    path, cid = world
    argv = [a.format(id=cid) for a in command] + ["--unmask", "-c", str(path)]
    code, out = invoke(*argv)
    assert code == 2 and "--unmask: who is acting? pass --as NAME or set HOTLINE_USER" in out
    for who, why in (("lin", "account 'lin' (reviewer) may not unmask"), ("a1001", "(agent) may not unmask"),
                     ("nobody", "no enabled account 'nobody'")):
        code, out = invoke(*argv, "--as", who)
        assert code == 2 and why in out, out
        assert CALLER not in out and ID_NUMBER not in out
    monkeypatch.setenv("HOTLINE_USER", "lin")  # the environment names an account the same way
    code, out = invoke(*argv)
    assert code == 2 and "may not unmask" in out
    assert access(path) == []


def test_a_lead_unmasks_and_each_use_is_in_the_access_log(world: tuple[Path, int],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path, cid = world
    code, out = invoke("calls", "show", str(cid), "--unmask", "--as", "wu", "--json", "-c", str(path))
    assert code == 0 and json.loads(out)["caller"] == CALLER
    code, out = invoke("transcribe", "--call", str(cid), "--unmask", "--as", "wu", "--json", "-c", str(path))
    assert code == 0 and ID_NUMBER in out
    monkeypatch.setenv("HOTLINE_USER", "wu")
    code, out = invoke("calls", "list", "--unmask", "--json", "-c", str(path))
    assert code == 0 and json.loads(out)[0]["caller"] == CALLER
    code, out = invoke("calls", "show", str(cid), "--json", "-c", str(path))  # no --unmask: masked, not logged
    assert code == 0 and CALLER not in out
    assert access(path) == [("wu", "unmask", f"call {cid} (calls show)", "cli"),
                            ("wu", "unmask", f"call {cid} (transcribe --call)", "cli"),
                            ("wu", "unmask", f"call {cid} (calls list)", "cli")]
    with db.transaction(load_config(path).database_url) as s:  # one audit trail: the access log, no call events
        assert not s.scalars(select(CallEvent).where(CallEvent.kind == "unmasked")).all()


def test_unmasking_a_file_needs_an_allowed_account_before_any_work(world: tuple[Path, int], tmp_path: Path) -> None:
    path, _ = world
    wav = tmp_path / "nothing.wav"  # not even read: the refusal comes first
    code, out = invoke("transcribe", str(wav), "--unmask", "--as", "lin", "-c", str(path))
    assert code == 2 and "may not unmask" in out and "nothing.wav" not in out
