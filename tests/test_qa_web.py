"""The review web app (web/) over HTTP: sign-in and its probes, sessions, CSRF, throttling,
roles, the queue, the call page, reviews, audio with ranges, the users page, languages.

Starlette's TestClient drives the real app against a real SQLite file seeded the way the IVR,
the transcription worker and QA write it; real WAV files, real accounts (argon2 hashes).
"""

from __future__ import annotations

import re
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backends import copy_database
from fastapi import FastAPI
from fastapi.testclient import TestClient
from qa_calls import IVR, POLITE, add_call, config_file, replace
from sqlalchemy import select
from typer.testing import CliRunner

import db
import web.queue
from accounts.tables import AccessLog
from accounts.users import add_user
from qa.scan import scan_call
from qa.tables import Flag, Review
from recordings.redacted import redacted_path, register, write_redacted
from recordings.tables import Recording
from settings import Config, load_config
from web.app import create_app
from web.i18n import LOCALE_DIR, translations

PASSWORD = "correct-horse-battery"
ACCOUNTS = {"qa-lin": "reviewer", "qa-wang": "reviewer", "lead-zhao": "lead", "root-admin": "admin"}
WEB = Path(__file__).resolve().parent.parent / "web"


class Clock:
    """Time the sessions and the throttle read: moved by the test, not waited for."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    cfg: Config
    app: FastAPI
    wav: Path
    clock: Clock


def write_wav(path: Path, seconds: float = 2.0) -> None:
    with wave.open(str(path), "wb") as w:  # a ramp: bytes a Range request can check
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(i % 251 for i in range(int(16000 * seconds))))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded database for the module (argon2 hashes and QA scans are slow); each test copies it."""
    folder = tmp_path_factory.mktemp("seeded")
    cfg = load_config(config_file(folder))
    wav = folder / "call-1.wav"
    write_wav(wav)
    with db.transaction(cfg.database_url) as s:
        for name, role in ACCOUNTS.items():
            add_user(s, name, role, PASSWORD)
        # call 1: an hour ago, a forbidden phrase and a phone number said by the agent (2 flags)
        call = add_call(s, replace(IVR + POLITE, 4, "我们非常忙，你的电话一三八一二三四五六七八我记下了。"),
                        started=db.now() - timedelta(hours=1))
        s.add(Recording(call_id=call.id, kind="mix", path=str(wav), status="ready"))
        write_redacted(wav, redacted_path(wav), [(0.5, 1.0)])  # what reviewers hear by default
        register(s, call.id, "mix-r", redacted_path(wav))
        scan_call(s, cfg, call.id)
        # call 2: ten days ago, another agent and route, hung up by the agent (flags 3, 4 and the hang-up, 5)
        other = add_call(s, replace(IVR + POLITE, 4, "这个我不知道，你找错部门了。"), agent="SIP/agent2002",
                         route_target="sales", hangup_by="agent", started=db.now() - timedelta(days=10))
        scan_call(s, cfg, other.id)
    return folder


@pytest.fixture
def site(seeded: Path, tmp_path: Path) -> Iterator[Site]:
    copy_database(seeded / "qa.db", tmp_path / "qa.db")
    cfg = load_config(config_file(tmp_path))
    clock = Clock()
    app = create_app(cfg)
    app.state.sessions.clock = clock
    app.state.throttle.clock = clock
    yield Site(cfg, app, seeded / "call-1.wav", clock)


def client(site: Site, address: str = "10.0.0.1") -> TestClient:
    return TestClient(site.app, base_url="http://127.0.0.1", client=(address, 40000), follow_redirects=False)


def form_token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def sign_in(c: TestClient, name: str, password: str = PASSWORD, nxt: str = "/flags") -> TestClient:
    r = c.post("/login", data={"name": name, "password": password, "next": nxt,
                               "csrf": form_token(c.get("/login").text)})
    assert r.status_code == 303 and r.headers["location"] == nxt, r.text
    return c


def signed_in(site: Site, name: str = "qa-lin", address: str = "10.0.0.1") -> TestClient:
    """A browser with a session of ``name``, opened on the server as the sign-in form would (the form
    itself is tested above; its argon2 check costs a second on a busy machine)."""
    c = client(site, address)
    c.cookies.set("hotline_session", site.app.state.sessions.open(name))
    return c


def csrf(c: TestClient) -> str:
    return form_token(c.get("/flags").text)


def accesses(site: Site) -> list[tuple[str, str, str | None]]:
    """Every listen in the access log: who, what, which call and track."""
    with db.transaction(site.cfg.database_url) as s:
        return [(a.account, a.action, a.target) for a in s.scalars(select(AccessLog).order_by(AccessLog.id))
                if a.action.startswith("listen")]


def access_log(site: Site) -> list[tuple[str, str, str | None]]:
    with db.transaction(site.cfg.database_url) as s:
        return [(a.account, a.action, a.address) for a in s.scalars(select(AccessLog).order_by(AccessLog.id))]


def flag_ids(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr class="flagrow" data-flag="(\d+)"', page)]


# --- signing in ----------------------------------------------------------------------------------

def test_nothing_without_signing_in(site: Site) -> None:
    c = client(site)
    for path in ("/flags", "/calls/1", "/calls/1/audio", "/users", "/flags?status=all"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
        assert "password" in c.get(r.headers["location"]).text
    assert accesses(site) == []
    assert c.post("/flags/1/review", data={"decision": "confirmed"}).status_code == 401
    assert c.post("/flags/bulk", data={"flag": "1", "decision": "dismissed"}).status_code == 401
    with db.transaction(site.cfg.database_url) as s:
        assert s.scalars(select(Review)).all() == []


def test_sign_in_with_a_real_account_is_logged(site: Site) -> None:
    c = client(site)
    token = form_token(c.get("/login").text)
    r = c.post("/login", data={"name": "qa-lin", "password": "wrong-password", "csrf": token})
    assert r.status_code == 403 and "用户名或密码错误" in r.text
    r = c.post("/login", data={"name": "nobody", "password": PASSWORD, "csrf": token})
    assert r.status_code == 403
    r = c.post("/login", data={"name": "qa-lin", "password": PASSWORD, "csrf": token, "next": "/calls/1?flag=1"})
    assert r.status_code == 303 and r.headers["location"] == "/calls/1?flag=1"
    assert "qa-lin" in c.get("/flags").text
    assert access_log(site) == [("qa-lin", "sign-in-failed", "10.0.0.1"), ("nobody", "sign-in-failed", "10.0.0.1"),
                                ("qa-lin", "sign-in", "10.0.0.1")]


@pytest.mark.parametrize("probe", [
    "/\\evil.example/x",  # browsers read /\ as //: the old page sent this off-site
    "//evil.example/x",
    "https://evil.example/x",
    "/flags\r\nSet-Cookie: hijack=1",  # %0d%0a in the form: the old page wrote a second header
    "/flags\nLocation: https://evil.example/",
    "javascript:alert(1)",
    "/x\\..\\evil",
    "",
])
def test_next_is_only_ever_a_path_on_this_site(site: Site, probe: str) -> None:
    c = client(site)
    page = c.get("/login", params={"next": probe}).text
    assert 'name="next" value="/flags"' in page  # the form never carries the probe on
    r = c.post("/login", data={"name": "qa-lin", "password": PASSWORD, "next": probe,
                               "csrf": form_token(page)})
    assert r.status_code == 303 and r.headers["location"] == "/flags"
    assert "hijack" not in str(r.headers) and list(r.headers.keys()).count("location") == 1


def test_the_probes_as_raw_requests(site: Site) -> None:
    """Through the URL as a browser sends it: %5C and %0d%0a decoded by the server, still refused."""
    c = client(site)
    for raw in ("/login?next=/%5Cevil.example/x", "/login?next=/flags%0d%0aSet-Cookie:%20hijack=1"):
        page = c.get(raw).text
        assert 'name="next" value="/flags"' in page and "\r\n" not in page and "Set-Cookie: hijack" not in page


def test_a_good_next_survives_and_a_session_cookie_is_strict(site: Site) -> None:
    c = client(site)
    r = c.post("/login", data={"name": "qa-lin", "password": PASSWORD, "next": "/flags?category=pii&status=all",
                               "csrf": form_token(c.get("/login").text)})
    assert r.headers["location"] == "/flags?category=pii&status=all"
    cookie = r.headers["set-cookie"]
    assert "hotline_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_security_headers_on_every_page(site: Site) -> None:
    c = signed_in(site)
    for path in ("/login", "/flags", "/calls/1", "/calls/1/audio", "/static/app.js", "/nowhere"):
        h = c.get(path).headers
        csp = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert h["x-frame-options"] == "DENY" and h["referrer-policy"] == "same-origin"
        assert h["x-content-type-options"] == "nosniff"
    assert c.get("/flags").headers["cache-control"] == "no-store"


def test_sessions_end_when_idle_and_after_the_absolute_limit(site: Site) -> None:
    c = signed_in(site)
    site.clock.now += 29 * 60
    assert c.get("/flags").status_code == 200  # 29 minutes idle: still signed in (and the idle time restarts)
    site.clock.now += 31 * 60
    r = c.get("/flags")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    c = signed_in(site)
    for _ in range(12 * 3):  # busy all day: a request every 20 minutes for 12 hours
        assert c.get("/flags").status_code == 200
        site.clock.now += 20 * 60
    site.clock.now += 60  # 12 hours and a minute since signing in
    r = c.get("/flags")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_sign_out_ends_the_session(site: Site) -> None:
    c = signed_in(site)
    assert c.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert c.get("/flags").status_code == 200
    r = c.post("/logout", data={"csrf": csrf(c)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert c.get("/flags").status_code == 303
    assert access_log(site)[-1][:2] == ("qa-lin", "sign-out")


def test_sign_in_is_throttled_per_account_and_per_address(site: Site) -> None:
    def attempt(address: str, name: str, password: str) -> int:
        c = client(site, address)
        return c.post("/login", data={"name": name, "password": password,
                                      "csrf": form_token(c.get("/login").text)}).status_code

    assert [attempt("10.0.0.1", "qa-lin", f"guess-{i}") for i in range(5)] == [403] * 5
    assert attempt("10.0.0.1", "qa-lin", PASSWORD) == 429  # the right password, but too late
    assert attempt("10.0.0.9", "qa-lin", PASSWORD) == 429  # per account: from anywhere
    c = client(site, "10.0.0.9")
    r = c.post("/login", data={"name": "qa-lin", "password": PASSWORD, "csrf": form_token(c.get("/login").text)})
    assert "登录失败次数过多" in r.text
    assert attempt("10.0.0.1", "qa-wang", PASSWORD) == 429  # per address: any account from there
    assert attempt("10.0.0.2", "qa-wang", PASSWORD) == 303
    # one address guessing many names
    assert [attempt("10.0.0.3", f"user{i}", "guess") for i in range(5)] == [403] * 5
    assert attempt("10.0.0.3", "lead-zhao", PASSWORD) == 429
    site.clock.now += 5 * 60 + 1  # the window has passed
    assert attempt("10.0.0.1", "qa-lin", PASSWORD) == 303
    actions = [a for _, a, _ in access_log(site)]
    assert actions.count("sign-in-failed") == 10 and actions.count("sign-in-refused") == 5


def test_the_sign_in_form_has_its_own_csrf_token(site: Site) -> None:
    c = client(site)
    c.get("/login")
    r = c.post("/login", data={"name": "qa-lin", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403 and "hotline_session" not in r.headers.get("set-cookie", "")


def test_every_post_needs_the_sessions_csrf_token(site: Site) -> None:
    c = signed_in(site, "root-admin")
    for path, data in (("/flags/1/review", {"decision": "confirmed"}), ("/flags/bulk", {"flag": "1", "decision":
                       "confirmed"}), ("/users", {"name": "mallory", "role": "admin", "password": PASSWORD}),
                       ("/users/qa-lin/disable", {}), ("/logout", {})):
        assert c.post(path, data=data).status_code == 403
        assert c.post(path, data={**data, "csrf": "forged"}).status_code == 403
    with db.transaction(site.cfg.database_url) as s:
        assert s.scalars(select(Review)).all() == [] and s.get(Flag, 1).status == "new"  # type: ignore[union-attr]
    assert "mallory" not in c.get("/users").text
    other = signed_in(site, "qa-wang")  # another session's token is not this one's
    assert c.post("/flags/1/review", data={"decision": "confirmed", "csrf": csrf(other)}).status_code == 403
    r = c.post("/flags/1/review", data={"decision": "confirmed"}, headers={"X-CSRF-Token": csrf(c)})
    assert r.status_code == 303  # scripts may send it as a header instead


# --- the queue -----------------------------------------------------------------------------------

def test_the_queue_shows_unreviewed_flags_with_counts_and_filters(site: Site) -> None:
    c = signed_in(site)
    page = c.get("/flags").text
    assert sorted(flag_ids(page)) == [1, 2, 3, 4, 5]
    assert re.search(r'data-status="new">待审 <span class="n">5</span>', page)
    assert "一三八一二三四" not in page and "*******五六七八" in page  # masked
    assert flag_ids(c.get("/flags?category=pii").text) == [2]
    assert flag_ids(c.get("/flags?rule=hangup.agent-first").text) == [5]
    assert sorted(flag_ids(c.get("/flags?agent=agent2002").text)) == [3, 4, 5]
    assert sorted(flag_ids(c.get("/flags?route=support").text)) == [1, 2]
    assert sorted(flag_ids(c.get("/flags?severity=medium").text)) == [2, 3]
    assert flag_ids(c.get("/flags?confidence=high").text) == [5]  # an event: sure by construction
    week = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    assert sorted(flag_ids(c.get(f"/flags?from={week}").text)) == [1, 2]
    assert sorted(flag_ids(c.get(f"/flags?to={week}").text)) == [3, 4, 5]
    assert c.get("/flags?from=yesterday").status_code == 400
    assert c.get("/flags?status=maybe").status_code == 400
    assert set(flag_ids(c.get("/flags?sort=newest").text)[:2]) == {1, 2}
    assert set(flag_ids(c.get("/flags?sort=oldest").text)[:3]) == {3, 4, 5}
    assert set(flag_ids(c.get("/flags?sort=severity").text)[-2:]) == {2, 3}  # the medium flags last


def test_the_queue_pages(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web.queue, "PAGE", 3)
    c = signed_in(site)
    first = c.get("/flags?sort=oldest").text
    assert len(flag_ids(first)) == 3 and 'rel="next"' in first and "1 / 2" in first
    second = c.get("/flags?sort=oldest&page=2").text
    assert len(flag_ids(second)) == 2 and 'rel="prev"' in second and 'rel="next"' not in second
    assert set(flag_ids(first)) | set(flag_ids(second)) == {1, 2, 3, 4, 5}


def test_bulk_dismiss_with_one_note(site: Site) -> None:
    c = signed_in(site, "qa-wang")
    r = c.post("/flags/bulk", data={"flag": ["3", "4"], "decision": "dismissed", "note": "坐席已解释",
                                    "back": "/flags?agent=agent2002", "csrf": csrf(c)})
    assert r.status_code == 303 and r.headers["location"] == "/flags?agent=agent2002"
    with db.transaction(site.cfg.database_url) as s:
        got = [(r.flag_id, r.reviewer, r.decision, r.note) for r in s.scalars(select(Review).order_by(Review.id))]
    assert got == [(3, "qa-wang", "dismissed", "坐席已解释"), (4, "qa-wang", "dismissed", "坐席已解释")]
    page = c.get("/flags").text
    assert sorted(flag_ids(page)) == [1, 2, 5]
    assert re.search(r'data-status="dismissed">已驳回 <span class="n">2</span>', page)
    assert [a for a in access_log(site) if a[1] == "review"] == [("qa-wang", "review", "10.0.0.1")] * 2
    r = c.post("/flags/bulk", data={"flag": ["1", "999"], "decision": "confirmed", "csrf": csrf(c)})
    assert r.status_code == 400  # all or none: flag 1 is not confirmed either
    with db.transaction(site.cfg.database_url) as s:
        assert s.get(Flag, 1).status == "new"  # type: ignore[union-attr]
    assert c.post("/flags/bulk", data={"decision": "confirmed", "csrf": csrf(c)}).status_code == 400
    r = c.post("/flags/bulk", data={"flag": "1", "decision": "confirmed", "back": "//evil.example", "csrf": csrf(c)})
    assert r.headers["location"] == "/flags"


def test_next_flag_goes_to_the_surest_unreviewed_flag_of_another_call(site: Site) -> None:
    c = signed_in(site)
    r = c.get("/flags/next?skip_call=1")
    assert r.status_code == 303 and r.headers["location"].startswith("/calls/2?flag=5")


# --- one call ------------------------------------------------------------------------------------

def test_call_page_transcript_flags_facts_and_masking(site: Site) -> None:
    c = signed_in(site)
    r = c.get("/calls/1?flag=1")
    page = r.text
    assert r.status_code == 200
    assert re.search(r'<mark class="forbidden"[^>]*>我们非常忙</mark>', page)
    assert re.search(r'<mark class="pii"[^>]*>\*{7}五六七八</mark>', page)
    assert "一三八一二三四" not in page and "13812345678" not in page and "*******5678" in page  # caller masked
    assert 'data-start="29.00"' in page  # the player starts at the flag
    assert '<div class="line caller" id="seg4" data-start="25.00" data-end="28.00">' in page
    assert re.search(r'<span class="who">来电者</span><span class="text">我的订单三天了还没到。', page)
    assert "我不能肯定，但我可以帮你想想办法" in page  # the suggested wording
    assert "001 slides 19–20" in page  # the seed source
    assert page.count("<textarea") == 2  # one note box per flag
    # the flags sit under their line, in time order
    assert page.index('id="seg5"') < page.index('id="flag1"') < page.index('id="flag2"') < page.index('id="seg6"')
    assert "main [0] → 已选择 support" in page and "4 s" in page  # menu path, ring time
    page2 = c.get("/calls/2").text
    assert '<dd id="hangup-by">坐席</dd>' in page2
    assert re.search(r'class="flag status-new event"[^>]*id="flag5"', page2)  # the hang-up: at its second
    assert "没有可播放的录音" in page2
    assert c.get("/calls/99").status_code == 404


def test_confirm_from_the_call_page(site: Site) -> None:
    c = signed_in(site, "qa-lin")
    token = form_token(c.get("/calls/1").text)
    r = c.post("/flags/1/review", data={"csrf": token, "decision": "confirmed", "note": "heard it"})
    assert r.status_code == 303 and r.headers["location"] == "/calls/1?flag=1#flag1"
    assert c.post("/flags/1/review", data={"csrf": token, "decision": "maybe"}).status_code == 400
    assert c.post("/flags/999/review", data={"csrf": token, "decision": "dismissed"}).status_code == 400
    with db.transaction(site.cfg.database_url) as s:
        flag = s.get(Flag, 1)
        assert flag is not None and flag.status == "confirmed"
        assert [(r.reviewer, r.decision, r.note) for r in s.scalars(select(Review))] == [
            ("qa-lin", "confirmed", "heard it")]
    page = c.get("/calls/1").text
    assert re.search(r"<li>\d{4}-\d\d-\d\d \d\d:\d\d qa-lin 已确认: heard it</li>", page)


# --- audio ---------------------------------------------------------------------------------------

def test_audio_is_served_with_ranges_and_every_access_is_logged(site: Site) -> None:
    c = signed_in(site, "qa-wang")
    data = redacted_path(site.wav).read_bytes()
    assert data != site.wav.read_bytes()
    r = c.get("/calls/1/audio")
    assert r.status_code == 200 and r.content == data and r.headers["content-type"] == "audio/wav"
    r = c.get("/calls/1/audio", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == data[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(data)}"
    r = c.get("/calls/1/audio", headers={"Range": "bytes=-50"})
    assert r.status_code == 206 and r.content == data[-50:]
    assert c.get("/calls/1/audio", headers={"Range": f"bytes={len(data) + 5}-"}).status_code == 416
    assert accesses(site) == [("qa-wang", "listen", "call 1 mix-r")] * 4
    assert c.get("/calls/7/audio").status_code == 404


def test_reviewers_never_get_the_original(site: Site) -> None:
    c = signed_in(site, "qa-wang")
    r = c.get("/calls/1/audio?original=1")
    assert r.status_code == 403 and r.content != site.wav.read_bytes()
    assert "无权收听原始录音" in r.text
    assert accesses(site) == []
    assert "original=1" not in c.get("/calls/1").text  # not even offered


def test_a_lead_hears_the_original_logged_as_such(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    c = signed_in(site, "lead-zhao")
    assert "original=1" in c.get("/calls/1").text
    with caplog.at_level("INFO", logger="web"):
        r = c.get("/calls/1/audio?original=1")
    assert r.status_code == 200 and r.content == site.wav.read_bytes()
    assert accesses(site) == [("lead-zhao", "listen-original", "call 1 mix")]
    assert any(r.levelname == "WARNING" and "ORIGINAL recording of call 1" in r.getMessage() for r in caplog.records)
    with db.transaction(site.cfg.database_url) as s:  # no redacted copy (not transcribed yet): no audio by default
        s.delete(s.scalars(select(Recording).where(Recording.kind == "mix-r")).one())
    r = c.get("/calls/1/audio")
    assert r.status_code == 404 and "尚无脱敏录音" in r.text
    assert accesses(site) == [("lead-zhao", "listen-original", "call 1 mix")]


def test_an_agent_hears_only_its_own_calls_and_sees_no_queue(site: Site) -> None:
    with db.transaction(site.cfg.database_url) as s:
        add_user(s, "agent-1001", "agent", PASSWORD, agent_id="SIP/agent1001")
    c = signed_in(site, "agent-1001")
    assert c.get("/calls/1/audio").status_code == 200  # its own call, redacted
    assert c.head("/calls/1/audio").status_code == 200
    assert c.get("/calls/2/audio").status_code == 403  # another agent's call
    assert c.get("/calls/1/audio?original=1").status_code == 403
    assert c.get("/flags").status_code == 403 and c.get("/calls/1").status_code == 403
    assert accesses(site) == [("agent-1001", "listen", "call 1 mix-r")] * 2


# --- users ---------------------------------------------------------------------------------------

def test_only_admins_manage_users_and_disabling_ends_sessions(site: Site) -> None:
    for name in ("qa-lin", "lead-zhao"):
        assert signed_in(site, name).get("/users").status_code == 403
    victim = signed_in(site, "qa-wang")
    admin = signed_in(site, "root-admin")
    page = admin.get("/users").text
    assert all(f'data-account="{n}"' in page for n in ACCOUNTS)
    r = admin.post("/users", data={"name": "qa-sun", "role": "reviewer", "password": "short", "csrf": csrf(admin)})
    assert r.status_code == 400 and "password too short" in r.text
    r = admin.post("/users", data={"name": "qa-sun", "role": "reviewer", "password": PASSWORD, "csrf": csrf(admin)})
    assert r.status_code == 303
    sign_in(client(site), "qa-sun")  # the new account signs in with its password
    assert admin.post("/users/qa-wang/disable", data={"csrf": csrf(admin)}).status_code == 303
    assert victim.get("/flags").status_code == 303  # signed out at once
    c = client(site)
    r = c.post("/login", data={"name": "qa-wang", "password": PASSWORD, "csrf": form_token(c.get("/login").text)})
    assert r.status_code == 403
    assert admin.post("/users/root-admin/disable", data={"csrf": csrf(admin)}).status_code == 400
    assert [(a, act) for a, act, _ in access_log(site) if act.startswith("user-")] == [
        ("root-admin", "user-add"), ("root-admin", "user-disable")]


# --- language and time ---------------------------------------------------------------------------

def test_chinese_first_english_on_request_times_in_the_configured_zone(site: Site) -> None:
    c = signed_in(site)
    page = c.get("/flags").text
    assert '<html lang="zh-CN">' in page and "质检队列" in page and "确认所选" in page
    page = c.get("/flags?lang=en").text
    assert '<html lang="en">' in page and "Confirm ticked" in page and "质检队列" not in page
    assert "English" not in page and "中文" in page  # the switch offers the other language
    assert "Confirm ticked" in c.get("/flags").text  # remembered in a cookie
    with db.transaction(site.cfg.database_url) as s:
        start = db.now().replace(microsecond=0)
    local = start.astimezone(site.app.state.tz).strftime("%Y-%m-%d %H:%M")
    assert local != start.strftime("%Y-%m-%d %H:%M")  # Asia/Shanghai is not UTC: the test can tell
    with db.transaction(site.cfg.database_url) as s:
        call = add_call(s, started=start)
    assert local in c.get(f"/calls/{call.id}").text


def test_every_message_has_a_chinese_translation() -> None:
    zh = translations("zh_CN")
    used: set[str] = set()
    for path in [*WEB.glob("templates/*.html"), *WEB.glob("*.py")]:
        used |= set(re.findall(r'\b(?:_|N_)\("((?:[^"\\]|\\.)*)"\)', path.read_text(encoding="utf-8")))
    assert used, "the pattern finds the messages"
    missing = sorted(m for m in used if zh.gettext(m) == m)
    assert missing == []
    assert (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").is_file()
    assert not list(LOCALE_DIR.rglob("*.mo"))  # the .po is the one copy


def test_the_command_refuses_to_start_with_no_account(tmp_path: Path) -> None:
    from cli import app

    cfg = config_file(tmp_path)
    result = CliRunner().invoke(app, ["qa", "web", "--port", "0", "-c", str(cfg)])
    assert result.exit_code != 0 and "hotline users add" in result.output
