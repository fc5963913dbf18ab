"""Accounts and roles (issue 14): argon2 sign-in, the roles table, `hotline users`, and CLI
reviews credited to an account, never to the OS user. Real SQLite files, real argon2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from qa_calls import IVR, POLITE, add_call, config_file, replace
from sqlalchemy import select
from typer.testing import CliRunner

import db
from accounts import roles
from accounts.identity import IdentityError, cli_identity
from accounts.roles import ROLES, allowed
from accounts.tables import AccessLog, Account
from accounts.users import AccountError, add_user, authenticate, disable, enable, get_active, list_users, set_password
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
        add_user(s, "taken", "admin", PASSWORD)
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
    with db.transaction(url) as s:
        add_user(s, "lin", "reviewer", PASSWORD)
        add_user(s, "wu", "lead", PASSWORD)
        add_user(s, "a1001", "agent", PASSWORD, agent_id="SIP/agent1001")
    with db.transaction(url) as s:
        with pytest.raises(IdentityError, match="pass --reviewer NAME or set HOTLINE_USER"):
            cli_identity(s, None, None, roles.REVIEW)
        assert cli_identity(s, None, "wu", roles.REVIEW).name == "wu"  # the configured one
        monkeypatch.setenv("HOTLINE_USER", "lin")
        assert cli_identity(s, None, "wu", roles.REVIEW).name == "lin"  # the environment beats the config
        assert cli_identity(s, "wu", None, roles.REVIEW).name == "wu"  # the option beats both
        with pytest.raises(IdentityError, match="'a1001' \\(agent\\) may not review"):
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
        add_user(s, "lin", "reviewer", PASSWORD)
        add_user(s, "a1001", "agent", PASSWORD, agent_id="SIP/agent1001")
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
