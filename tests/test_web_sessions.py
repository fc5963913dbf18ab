"""Review-app sessions in the database (revision 0011): they outlive the app process and are shared
by two app processes on one database; a password change or disabling ends them everywhere; Secure
cookies; where ``/`` leads each role. Real uvicorn servers on free ports, real SQLite (or the test
PostgreSQL), real argon2 sign-ins through the form, the real `hotline users` commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from qa_calls import config_file
from sqlalchemy import inspect, select
from typer.testing import CliRunner
from web_server import running

import db
from accounts.sessions import token_hash
from accounts.tables import AccessLog, Account, SignInSession
from accounts.users import authenticate
from cli import app as cli
from settings import Config, load_config
from web.app import create_app

PASSWORD = "correct-horse-battery"


@pytest.fixture
def cfg_path(tmp_path: Path) -> Path:
    path = config_file(tmp_path)
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # the default costs a second here
    with db.transaction(load_config(path).database_url) as s:
        s.add_all([Account(name="lin", role="reviewer", password_hash=cheap.hash(PASSWORD)),
                   Account(name="a1001", role="agent", agent_id="SIP/agent1001", password_hash=cheap.hash(PASSWORD))])
    return path


def sign_in(base: str, name: str) -> str:
    """Sign in through the form; returns the session cookie's token."""
    with httpx.Client(base_url=base, follow_redirects=False) as c:
        form = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
        assert form
        r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf": form.group(1)})
        assert r.status_code == 303, r.text
        return r.cookies["hotline_session"]


def get(base: str, token: str, path: str = "/flags") -> httpx.Response:
    return httpx.get(base + path, cookies={"hotline_session": token}, follow_redirects=False)


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"hotline_session={token}"}


def signed_in(r: httpx.Response) -> bool:
    assert r.status_code in (200, 303), r.status_code
    return not (r.status_code == 303 and r.headers["location"].startswith("/login"))


def stored(cfg: Config) -> list[SignInSession]:
    with db.transaction(cfg.database_url) as s:
        return list(s.scalars(select(SignInSession)))


@pytest.fixture
def two_apps(cfg_path: Path) -> Iterator[tuple[Config, str, str]]:
    """Two app processes' worth of app (each its own create_app) on one database, both serving."""
    cfg = load_config(cfg_path)
    with running(create_app(cfg)) as one, running(create_app(cfg)) as two:
        yield cfg, one, two


def test_a_session_survives_a_restart_and_is_shared_by_two_apps(two_apps: tuple[Config, str, str]) -> None:
    cfg, one, two = two_apps
    token = sign_in(one, "lin")
    assert signed_in(get(one, token)) and signed_in(get(two, token))  # the other process knows it
    with running(create_app(cfg)) as restarted:  # a new app on the same database: still signed in
        assert signed_in(get(restarted, token))
    [row] = stored(cfg)
    assert row.account == "lin" and row.token_hash == token_hash(token)
    assert token not in {row.token_hash, row.csrf}  # the token itself is never stored
    # signing out on one ends it on the other
    page = get(two, token).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    r = httpx.post(two + "/logout", data={"csrf": csrf.group(1)}, cookies={"hotline_session": token})
    assert r.status_code == 303
    assert not signed_in(get(one, token)) and stored(cfg) == []


@pytest.mark.parametrize("command", [["users", "passwd", "lin", "--password-stdin"], ["users", "disable", "lin"]])
def test_passwd_and_disable_sign_the_account_out_of_every_app(two_apps: tuple[Config, str, str], cfg_path: Path,
                                                              command: list[str]) -> None:
    cfg, one, two = two_apps
    lin, agent = sign_in(one, "lin"), sign_in(two, "a1001")
    result = CliRunner().invoke(cli, [*command, "-c", str(cfg_path)], input="a new long password\n")
    assert result.exit_code == 0, result.output
    assert not signed_in(get(one, lin)) and not signed_in(get(two, lin))  # at once, in both processes
    assert signed_in(get(two, agent, "/my/calls"))  # other accounts keep theirs
    assert [r.account for r in stored(cfg)] == ["a1001"]


def test_changing_ones_password_on_the_web_signs_out_every_other_session(two_apps: tuple[Config, str, str]) -> None:
    cfg, one, two = two_apps
    here, elsewhere = sign_in(one, "lin"), sign_in(two, "lin")  # two browsers, two app processes
    csrf = re.search(r'name="csrf" value="([^"]+)"', get(one, here, "/password").text)
    assert csrf

    def change(current: str, new: str, again: str) -> httpx.Response:
        return httpx.post(one + "/password", data={"csrf": csrf.group(1), "current": current, "new": new,
                                                   "again": again}, cookies={"hotline_session": here})

    assert change("a guess at it", "a new long password", "a new long password").status_code == 403
    assert change(PASSWORD, "short", "short").status_code == 400
    assert change(PASSWORD, "a new long password", "a new long passwort").status_code == 400
    assert signed_in(get(two, elsewhere))  # nothing changed yet
    r = change(PASSWORD, "a new long password", "a new long password")
    assert r.status_code == 303 and r.headers["location"] == "/password?changed=1"
    fresh = r.cookies["hotline_session"]
    assert fresh != here and signed_in(get(two, fresh))  # this browser stays signed in, on a new session
    assert not signed_in(get(two, elsewhere)) and not signed_in(get(one, here))  # every other one has ended
    assert "密码已修改" in get(one, fresh, "/password?changed=1").text
    with db.transaction(cfg.database_url) as s:
        assert authenticate(s, "lin", "a new long password") is not None
        assert [a.account for a in s.scalars(select(AccessLog).where(AccessLog.action == "password-change"))] == [
            "lin"]


def test_expired_sessions_end_and_their_rows_are_pruned(cfg_path: Path) -> None:
    cfg = load_config(cfg_path)
    app = create_app(cfg)
    now = [1_800_000_000.0]
    app.state.sessions.clock = lambda: now[0]
    idle = app.state.sessions.open("lin")
    busy = app.state.sessions.open("a1001")
    c = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
    for _ in range(4):  # one account keeps working, the other walks away
        now[0] += 10 * 60
        assert c.get("/my/calls", headers=cookie(busy)).status_code == 200
    assert c.get("/flags", headers=cookie(idle)).status_code == 303  # 40 minutes idle: ended
    now[0] += 9 * 3600  # past the absolute limit (12 h) too
    app.state.sessions.open("lin")  # a sign-in sweeps what expired
    assert [r.account for r in stored(cfg)] == ["lin"] and busy not in str(stored(cfg))


def test_cookies_are_secure_when_configured_or_over_https(cfg_path: Path) -> None:
    def cookie_flags(cfg: Config, base: str) -> list[str]:
        c = TestClient(create_app(cfg), base_url=base, follow_redirects=False)
        page = c.get("/login?lang=en")
        form = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert form
        # as the browser behind the proxy would (a client that sees plain HTTP keeps Secure cookies back)
        r = c.post("/login", data={"name": "lin", "password": PASSWORD, "csrf": form.group(1)},
                   headers={"Cookie": f"hotline_signin={form.group(1)}"})
        return [h for h in [*page.headers.get_list("set-cookie"), *r.headers.get_list("set-cookie")]
                if h.startswith(("hotline_session=", "hotline_signin=", "hotline_lang="))]

    cfg = load_config(cfg_path)
    plain = cookie_flags(cfg, "http://127.0.0.1")
    assert len(plain) == 4 and not any("secure" in h.lower() for h in plain)  # the plain-HTTP default
    https = cookie_flags(cfg, "https://hotline.example")
    assert len(https) == 4 and all("Secure" in h for h in https)
    cfg_path.write_text(cfg_path.read_text(encoding="utf-8").replace("secure_cookies: false", "secure_cookies: true"),
                        encoding="utf-8")
    secure = load_config(cfg_path)
    assert secure.qa.web.secure_cookies
    proxied = cookie_flags(secure, "http://127.0.0.1")  # behind a TLS proxy the app sees plain HTTP
    assert len(proxied) == 4 and all("Secure" in h for h in proxied)


def test_the_front_page_leads_each_role_home(cfg_path: Path) -> None:
    app = create_app(load_config(cfg_path))
    c = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
    assert c.get("/").headers["location"].startswith("/login")
    for name, home in (("a1001", "/my/calls"), ("lin", "/flags")):
        r = c.get("/", headers=cookie(app.state.sessions.open(name)))
        assert (r.status_code, r.headers["location"]) == (303, home)
        assert c.get(home, headers=cookie(app.state.sessions.open(name))).status_code == 200


def test_revision_0011_goes_down_and_up(cfg_path: Path) -> None:
    from alembic import command

    url = load_config(cfg_path).database_url
    alembic = db.alembic_config(url)
    command.downgrade(alembic, "0010")
    engine = db.make_engine(url)
    try:
        assert "web_sessions" not in inspect(engine).get_table_names()
        command.upgrade(alembic, "head")
        assert "web_sessions" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
