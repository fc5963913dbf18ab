"""Accounts and roles (issue 14): argon2 sign-in, the roles table, `hotline users`, and CLI
reviews credited to an account, never to the OS user. Real SQLite files, real argon2."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from qa_calls import IVR, POLITE, add_call, add_reviewers, config_file, replace
from sqlalchemy import inspect, select
from typer.testing import CliRunner

import db
from accounts import roles
from accounts.identity import IdentityError, cli_identity
from accounts.roles import ROLES, allowed
from accounts.tables import AccessLog, Account
from accounts.users import (
    AccountError,
    add_user,
    authenticate,
    disable,
    enable,
    get_active,
    list_users,
    record_access,
    set_password,
    update_user,
)
from cli import app
from qa.scan import scan_call
from settings import load_config

runner = CliRunner()
PASSWORD = "correct horse"


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args), input=input, env=env)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/accounts.db"


def test_sign_in_needs_the_right_password_and_an_enabled_account(url: str) -> None:
    with db.transaction(url) as s:
        add_user(s, "lin", "reviewer", PASSWORD, display_name="林晓")
    with db.transaction(url) as s:
        assert authenticate(s, "lin", "wrong password") is None
        assert authenticate(s, "nobody", PASSWORD) is None
        account = authenticate(s, "lin", PASSWORD)
        assert account is not None and account.role == "reviewer" and account.last_login_at is not None
        assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
        disable(s, "lin")
    with db.transaction(url) as s:
        assert authenticate(s, "lin", PASSWORD) is None and get_active(s, "lin") is None
        enable(s, "lin")
        set_password(s, "lin", "a new password")
    with db.transaction(url) as s:
        assert authenticate(s, "lin", PASSWORD) is None
        assert authenticate(s, "lin", "a new password") is not None


def test_an_old_hash_is_upgraded_on_the_next_good_sign_in(url: str) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with db.transaction(url) as s:
        s.add(Account(name="wu", role="lead", password_hash=weak.hash(PASSWORD)))
    with db.transaction(url) as s:
        assert authenticate(s, "wu", "not it") is None
        assert s.scalars(select(Account.password_hash)).one().find("m=1024") > 0  # a failed sign-in changes nothing
        assert authenticate(s, "wu", PASSWORD) is not None
    with db.transaction(url) as s:
        stored = s.scalars(select(Account.password_hash)).one()
        assert "m=1024" not in stored and not PasswordHasher().check_needs_rehash(stored)
        assert authenticate(s, "wu", PASSWORD) is not None


@pytest.mark.parametrize(("name", "role", "password", "msg"), [
    ("lin", "reviewer", "short", "at least 8"),
    ("lin", "boss", PASSWORD, "one of agent, reviewer, lead, admin"),
    ("", "reviewer", PASSWORD, "account name"),
    ("has space", "reviewer", PASSWORD, "account name"),
    ("taken", "reviewer", PASSWORD, "exists already"),
])
def test_bad_accounts_are_refused_with_what_to_do(url: str, name: str, role: str, password: str, msg: str) -> None:
    with db.transaction(url) as s:
        add_reviewers(s, "taken", role="admin")
    with db.transaction(url) as s, pytest.raises(AccountError, match=msg):
        add_user(s, name, role, password)
    with db.transaction(url) as s:
        assert [a.name for a in list_users(s)] == ["taken"]


def test_roles_grant_what_the_issues_ask() -> None:
    matrix = {
        roles.REVIEW: {"reviewer", "lead", "admin"},
        roles.HEAR_REDACTED: {"agent", "reviewer", "lead", "admin"},
        roles.HEAR_ORIGINAL: {"lead", "admin"},
        roles.UNMASK: {"lead", "admin"},
        roles.EDIT_RULES: {"lead", "admin"},
        roles.SEE_REPORTS: {"lead", "admin"},
        roles.MANAGE_USERS: {"admin"},
        roles.APPEAL: {"agent"},
        roles.DECIDE_APPEALS: {"lead", "admin"},
    }
    assert set(matrix) == set(roles.PERMISSIONS)
    for permission, granted in matrix.items():
        assert {r for r in ROLES if allowed(r, permission)} == granted, permission
    assert not allowed("root", roles.REVIEW) and not allowed("admin", "everything")
    assert roles.own_calls_only("agent", roles.HEAR_REDACTED) and not roles.own_calls_only("lead", roles.HEAR_REDACTED)


def test_cli_identity_names_an_account_never_the_os_user(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "lin")  # an account of that name exists: it must still not be picked silently
    monkeypatch.delenv("HOTLINE_USER", raising=False)
    with db.transaction(url) as s:  # nobody signs in here: cheap hashes (qa_calls.add_reviewers)
        add_reviewers(s, "lin")
        add_reviewers(s, "wu", role="lead")
        add_reviewers(s, "a1001", role="agent")
    with db.transaction(url) as s:
        with pytest.raises(IdentityError, match="pass --reviewer NAME or set HOTLINE_USER"):
            cli_identity(s, None, None, roles.REVIEW)
        assert cli_identity(s, None, "wu", roles.REVIEW).name == "wu"  # the configured one
        monkeypatch.setenv("HOTLINE_USER", "lin")
        assert cli_identity(s, None, "wu", roles.REVIEW).name == "lin"  # the environment beats the config
        assert cli_identity(s, "wu", None, roles.REVIEW).name == "wu"  # the option beats both
        with pytest.raises(IdentityError, match=r"'a1001' \(agent\) may not review"):
            cli_identity(s, "a1001", None, roles.REVIEW)
        with pytest.raises(IdentityError, match="no enabled account 'ghost'"):
            cli_identity(s, "ghost", None, roles.REVIEW)
        disable(s, "wu")
        with pytest.raises(IdentityError, match="no enabled account 'wu'"):
            cli_identity(s, "wu", None, roles.REVIEW)


def test_users_commands_add_list_disable_passwd(tmp_path: Path) -> None:
    cfg = str(config_file(tmp_path))
    code, out, err = run("users", "add", "lin", "--role", "reviewer", "--display-name", "林晓", "--password-stdin",
                         "-c", cfg, input=PASSWORD + "\n")
    assert code == 0, err
    code, _, err = run("users", "add", "a1001", "--role", "agent", "--agent-id", "SIP/agent1001", "-c", cfg,
                       input=f"{PASSWORD}\n{PASSWORD}\n")  # the hidden prompt, typed twice
    assert code == 0, err
    code, out, _ = run("users", "list", "--json", "-c", cfg)
    assert code == 0
    listed = {a["name"]: a for a in json.loads(out)}
    assert set(listed) == {"lin", "a1001"} and "hash" not in out and "argon2" not in out
    assert (listed["lin"]["role"], listed["lin"]["display_name"], listed["lin"]["active"]) == ("reviewer", "林晓", True)
    assert listed["a1001"]["agent_id"] == "SIP/agent1001" and listed["lin"]["last_login_at"] is None
    url = load_config(Path(cfg)).database_url
    with db.transaction(url) as s:
        assert authenticate(s, "lin", PASSWORD) is not None
    assert run("users", "disable", "lin", "-c", cfg)[0] == 0
    with db.transaction(url) as s:
        assert authenticate(s, "lin", PASSWORD) is None
    code, out, _ = run("users", "list", "-c", cfg)
    assert code == 0 and "disabled" in out and "lin" in out
    assert run("users", "enable", "lin", "-c", cfg)[0] == 0
    assert run("users", "passwd", "lin", "--password-stdin", "-c", cfg, input="another one\n")[0] == 0
    with db.transaction(url) as s:
        assert authenticate(s, "lin", PASSWORD) is None and authenticate(s, "lin", "another one") is not None


@pytest.mark.parametrize(("args", "input", "msg"), [
    (["users", "add", "wu", "--role", "lead", "--password-stdin"], "short\n", "at least 8 characters"),
    (["users", "add", "wu", "--role", "lead"], f"{PASSWORD}\nsomething else\n", "differ"),
    (["users", "add", "wu", "--role", "root", "--password-stdin"], PASSWORD + "\n", "one of agent"),
    (["users", "disable", "ghost"], None, "no account 'ghost'"),
    (["users", "passwd", "ghost", "--password-stdin"], PASSWORD + "\n", "no account 'ghost'"),
])
def test_users_errors_exit_2_with_one_line(tmp_path: Path, args: list[str], input: str | None, msg: str) -> None:
    code, _, err = run(*args, "-c", str(config_file(tmp_path)), input=input)
    assert code == 2 and msg in err and len(err.strip().splitlines()) == 1


def test_no_password_option_exists(tmp_path: Path) -> None:
    code, _, err = run("users", "add", "wu", "--role", "lead", "--password", PASSWORD, "-c",
                       str(config_file(tmp_path)))
    assert code == 2 and "--password" in err


@pytest.fixture
def flagged(tmp_path: Path) -> Path:
    """A config whose database holds one scanned rude call, a reviewer, a lead and an agent account."""
    path = config_file(tmp_path)
    cfg = load_config(path)
    with db.transaction(cfg.database_url) as s:
        call = add_call(s, replace(IVR + POLITE, 4, "我们非常忙，你自己去查吧。"), hangup_by="agent")
        scan_call(s, cfg, call.id)
        add_reviewers(s, "lin")
        add_reviewers(s, "a1001", role="agent")
    return path


def first_flag(cfg: Path) -> int:
    code, out, _ = run("qa", "list", "--json", "-c", str(cfg))
    assert code == 0
    return int(json.loads(out)[0]["id"])


def test_a_review_without_an_identity_is_refused_not_credited_to_the_os_user(flagged: Path) -> None:
    flag = first_flag(flagged)
    code, _, err = run("qa", "review", str(flag), "--confirm", "-c", str(flagged),
                       env={"USER": "lin", "USERNAME": "lin", "HOTLINE_USER": ""})
    assert code == 2 and "pass --reviewer NAME or set HOTLINE_USER" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run("qa", "list", "--json", "--status", "new", "-c", str(flagged))
    assert flag in [f["id"] for f in json.loads(out)]  # unchanged


def test_a_reviewer_reviews_and_is_credited_and_logged(flagged: Path) -> None:
    flag = first_flag(flagged)
    code, out, err = run("qa", "review", str(flag), "--confirm", "--note", "heard it", "--json", "-c", str(flagged),
                         env={"USER": "root", "HOTLINE_USER": "lin"})
    assert code == 0, err
    assert json.loads(out)["reviewer"] == "lin" and json.loads(out)["status"] == "confirmed"
    with db.transaction(load_config(flagged).database_url) as s:
        [log] = s.scalars(select(AccessLog)).all()
        assert (log.account, log.action, log.via, log.target) == ("lin", "review", "cli", f"flag {flag} confirmed")


def test_an_agent_account_cannot_review(flagged: Path) -> None:
    flag = first_flag(flagged)
    code, _, err = run("qa", "review", str(flag), "--dismiss", "--reviewer", "a1001", "-c", str(flagged))
    assert code == 2 and "may not review" in err
    with db.transaction(load_config(flagged).database_url) as s:
        assert s.scalars(select(AccessLog)).all() == []


def test_the_hint_names_the_commands_own_option(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_USER", raising=False)
    with db.transaction(url) as s, pytest.raises(IdentityError, match=r"^who is acting\? pass --as NAME or set "):
        cli_identity(s, None, None, roles.APPEAL, option="--as")


def test_an_unknown_name_costs_a_hash_check_too(url: str) -> None:
    """Otherwise the time a sign-in takes would tell which account names exist."""
    with db.transaction(url) as s:
        add_user(s, "lin", "reviewer", PASSWORD)
    with db.transaction(url) as s:
        authenticate(s, "nobody", PASSWORD)  # the dummy hash is made on first use: not timed

        def fastest(name: str) -> float:
            times = []
            for _ in range(2):
                t0 = time.perf_counter()
                assert authenticate(s, name, "wrong password") is None
                times.append(time.perf_counter() - t0)
            return min(times)

        known, unknown = fastest("lin"), fastest("nobody")
    assert unknown > 0.3 * known  # an argon2 check takes ~100x longer than a missed lookup


def test_the_access_log_lists_newest_first_and_filters(tmp_path: Path) -> None:
    cfg = str(config_file(tmp_path))
    with db.transaction(load_config(Path(cfg)).database_url) as s:
        record_access(s, "lin", "listen", "call 12 agent track", "web", "10.0.0.7")
        record_access(s, "wu", "listen-original", "call 12 mix", "web", "10.0.0.8")
        record_access(s, "[/bold]x", "sign-in-failed", None, "web", "10.0.0.9")  # a typed name, not markup
        with pytest.raises(ValueError, match="via"):
            record_access(s, "lin", "listen", "call 1", "telnet")
    code, out, _ = run("users", "log", "--json", "-c", cfg)
    assert code == 0
    assert [(r["account"], r["action"]) for r in json.loads(out)] == [
        ("[/bold]x", "sign-in-failed"), ("wu", "listen-original"), ("lin", "listen")]
    code, out, _ = run("users", "log", "--json", "--account", "lin", "--since", "1h", "-c", cfg)
    assert [(r["target"], r["address"]) for r in json.loads(out)] == [("call 12 agent track", "10.0.0.7")]
    code, out, _ = run("users", "log", "--action", "listen-original", "-c", cfg)
    assert code == 0 and "call 12 mix" in out and "lin" not in out
    code, out, err = run("users", "log", "-c", cfg)
    assert code == 0 and "[/bold]x" in out, err
    code, _, err = run("users", "log", "--since", "yesterday", "-c", cfg)
    assert code == 2 and "--since" in err


def test_revision_0007_goes_down_and_up(url: str) -> None:
    from alembic import command

    with db.transaction(url) as s:
        add_reviewers(s, "lin")
    cfg = db.alembic_config(url)
    command.downgrade(cfg, "0006")
    engine = db.make_engine(url)
    try:
        assert not {"accounts", "access_log"} & set(inspect(engine).get_table_names())
        command.upgrade(cfg, "head")
        assert {"accounts", "access_log"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_last_enabled_admin_stays_one(url: str) -> None:
    with db.transaction(url) as s:
        add_reviewers(s, "root1", role="admin")
        add_reviewers(s, "lin")
    with db.transaction(url) as s:
        with pytest.raises(AccountError, match="'root1' is the last enabled admin"):
            disable(s, "root1")
        with pytest.raises(AccountError, match="last enabled admin"):
            update_user(s, "root1", role="lead")
        update_user(s, "lin", role="admin", display_name="林晓")  # now there are two
        disable(s, "root1")
        assert get_active(s, "root1") is None
        with pytest.raises(AccountError, match="'lin' is the last enabled admin"):
            disable(s, "lin")


def test_names_differing_only_in_case_are_one_name(url: str) -> None:
    with db.transaction(url) as s:
        add_reviewers(s, "lin")
    with db.transaction(url) as s, pytest.raises(AccountError, match="account 'lin' exists already"):
        add_user(s, "Lin", "reviewer", PASSWORD)


def test_users_set_changes_role_and_agent_id(tmp_path: Path) -> None:
    cfg = str(config_file(tmp_path))
    with db.transaction(load_config(Path(cfg)).database_url) as s:
        add_reviewers(s, "a1001", role="agent")
    code, out, err = run("users", "set", "a1001", "--agent-id", "SIP/agent1001", "--display-name", "王芳", "-c", cfg)
    assert code == 0 and "SIP/agent1001" in out, err
    code, out, _ = run("users", "list", "--json", "-c", cfg)
    [a] = json.loads(out)
    assert (a["role"], a["agent_id"], a["display_name"]) == ("agent", "SIP/agent1001", "王芳")
    assert run("users", "set", "a1001", "--role", "reviewer", "--agent-id", "", "-c", cfg)[0] == 0
    [a] = json.loads(run("users", "list", "--json", "-c", cfg)[1])
    assert (a["role"], a["agent_id"]) == ("reviewer", None)
    for args, msg in ((["a1001"], "nothing to change"), (["a1001", "--role", "boss"], "one of agent"),
                      (["ghost", "--role", "lead"], "no account 'ghost'")):
        code, _, err = run("users", "set", *args, "-c", cfg)
        assert code == 2 and msg in err and len(err.strip().splitlines()) == 1


def test_a_configured_reviewer_is_used_when_no_option_or_environment_names_one(flagged: Path) -> None:
    text = flagged.read_text(encoding="utf-8")
    assert text.count("\n  reviewer: null") == 1
    flagged.write_text(text.replace("\n  reviewer: null", "\n  reviewer: lin"), encoding="utf-8")
    flag = first_flag(flagged)
    code, out, err = run("qa", "review", str(flag), "--dismiss", "--json", "-c", str(flagged),
                         env={"USER": "root", "HOTLINE_USER": ""})
    assert code == 0 and json.loads(out)["reviewer"] == "lin", err
