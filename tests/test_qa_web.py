"""The review web page over real HTTP: sign-in, flag list, call view, audio, reviews."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from qa_calls import IVR, POLITE, add_call, config_file, replace
from sqlalchemy import select

import db
from qa.scan import scan_call
from qa.tables import Flag, RecordingAccess, Review
from qa.web import WebError, make_server
from recordings.redacted import redacted_path, register, write_redacted
from recordings.tables import Recording
from settings import Config, load_config

PASSWORD = "correct-horse-battery"


@dataclass
class Site:
    base: str
    cfg: Config
    wav: Path


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    cfg = load_config(config_file(tmp_path))
    wav = tmp_path / "call-1.wav"
    with wave.open(str(wav), "wb") as w:  # two seconds of a ramp: bytes a Range request can check
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(i % 251 for i in range(32000)))
    with db.transaction(cfg.database_url) as s:
        call = add_call(s, replace(IVR + POLITE, 4, "我们非常忙，你的电话一三八一二三四五六七八我记下了。"),
                        started=db.now() - timedelta(hours=1))
        s.add(Recording(call_id=call.id, kind="mix", path=str(wav), status="ready"))
        write_redacted(wav, redacted_path(wav), [(0.5, 1.0)])  # what reviewers hear by default
        register(s, call.id, "mix-r", redacted_path(wav))
        scan_call(s, cfg, call.id)
    server = make_server(cfg, port=0, password=PASSWORD)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_address[1]}", cfg, wav)
    finally:
        server.shutdown()
        server.server_close()


def browser() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def get(opener: urllib.request.OpenerDirector, url: str, headers: dict[str, str] | None = None
        ) -> tuple[int, str, bytes, dict[str, str]]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, r.url, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, url, e.read(), dict(e.headers)


def post(opener: urllib.request.OpenerDirector, url: str, form: dict[str, str]) -> tuple[int, str, bytes]:
    data = urllib.parse.urlencode(form).encode()
    try:
        with opener.open(urllib.request.Request(url, data=data, method="POST"), timeout=10) as r:
            return r.status, r.url, r.read()
    except urllib.error.HTTPError as e:
        return e.code, url, e.read()


def signed_in(site: Site, name: str = "qa-lin") -> urllib.request.OpenerDirector:
    b = browser()
    status, url, _ = post(b, site.base + "/login", {"reviewer": name, "password": PASSWORD, "next": "/flags"})
    assert status == 200 and url.endswith("/flags")
    return b


def accesses(site: Site) -> list[tuple[str, str | None]]:
    with db.transaction(site.cfg.database_url) as s:
        return [(a.reviewer, a.kind) for a in s.scalars(select(RecordingAccess))]


def test_nothing_without_signing_in(site: Site) -> None:
    b = browser()
    for path in ("/flags", "/calls/1", "/calls/1/audio"):
        status, url, body, _ = get(b, site.base + path)
        assert status == 200 and "/login" in url and b"password" in body
    assert accesses(site) == []
    status, _, _ = post(b, site.base + "/login", {"reviewer": "lin", "password": "wrong"})
    assert status == 403
    status, _, _ = post(b, site.base + "/flags/1/review", {"decision": "confirmed"})
    assert status == 403


def test_flag_list_and_filters(site: Site) -> None:
    b = signed_in(site)
    status, _, body, _ = get(b, site.base + "/flags")
    page = body.decode()
    assert status == 200 and "2 flag(s)" in page and "forbidden.bad-answers" in page and "pii.spoken" in page
    _, _, body, _ = get(b, site.base + "/flags?category=pii&status=new")
    page = body.decode()
    assert "1 flag(s)" in page and "pii.spoken" in page and "forbidden.bad-answers" not in page
    assert "一三八一二三四" not in page


def test_call_page_highlights_masks_and_starts_the_audio_at_the_flag(site: Site) -> None:
    b = signed_in(site)
    status, _, body, _ = get(b, site.base + "/calls/1?flag=1&t=29.0")
    page = body.decode()
    assert status == 200
    assert re.search(r'<mark class="forbidden"[^>]*>我们非常忙</mark>', page)
    assert re.search(r'<mark class="pii"[^>]*>\*{7}五六七八</mark>', page)
    assert "一三八一二三四" not in page and "13812345678" not in page  # caller id masked too
    assert "/calls/1/audio#t=29.0" in page and "p.currentTime=29.0" in page
    assert "我不能肯定，但我可以帮你想想办法" in page  # the suggested wording
    assert "001 slides 19–20" in page  # the seed source


def test_audio_is_served_with_ranges_and_every_access_is_logged(site: Site) -> None:
    b = signed_in(site, "qa-wang")
    data = redacted_path(site.wav).read_bytes()
    assert data != site.wav.read_bytes()
    status, _, body, headers = get(b, site.base + "/calls/1/audio")
    assert status == 200 and body == data and headers["Content-Type"] == "audio/wav"
    status, _, body, headers = get(b, site.base + "/calls/1/audio", {"Range": "bytes=100-199"})
    assert status == 206 and body == data[100:200] and headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    status, _, _, _ = get(b, site.base + "/calls/1/audio", {"Range": f"bytes={len(data) + 5}-"})
    assert status == 416
    assert accesses(site) == [("qa-wang", "mix-r")] * 3
    status, _, _, _ = get(b, site.base + "/calls/7/audio")
    assert status == 404


def test_the_original_only_on_request_and_logged_as_such(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    b = signed_in(site, "qa-wang")
    with caplog.at_level("INFO", logger="qa.web"):
        status, _, body, _ = get(b, site.base + "/calls/1/audio?original=1")
    assert status == 200 and body == site.wav.read_bytes()
    assert accesses(site) == [("qa-wang", "mix")]
    assert any(r.levelname == "WARNING" and "ORIGINAL recording of call 1" in r.getMessage() for r in caplog.records)
    with db.transaction(site.cfg.database_url) as s:  # no redacted copy (not transcribed yet): no audio by default
        s.delete(s.scalars(select(Recording).where(Recording.kind == "mix-r")).one())
    status, _, body, _ = get(b, site.base + "/calls/1/audio")
    assert status == 404 and b"no redacted copy yet" in body
    assert accesses(site) == [("qa-wang", "mix")]


def test_confirm_and_dismiss_from_the_page(site: Site) -> None:
    b = signed_in(site, "qa-lin")
    _, _, body, _ = get(b, site.base + "/calls/1")
    csrf = re.search(r"name=csrf value='([^']+)'", body.decode())
    assert csrf
    status, url, _ = post(b, site.base + "/flags/1/review", {"csrf": csrf.group(1), "decision": "confirmed",
                                                              "note": "heard it"})
    assert status == 200 and "/calls/1" in url
    status, _, _ = post(b, site.base + "/flags/1/review", {"csrf": "forged", "decision": "dismissed"})
    assert status == 403
    status, _, _ = post(b, site.base + "/flags/1/review", {"csrf": csrf.group(1), "decision": "maybe"})
    assert status == 400
    with db.transaction(site.cfg.database_url) as s:
        flag = s.get(Flag, 1)
        assert flag is not None and flag.status == "confirmed"
        assert [(r.reviewer, r.decision, r.note) for r in s.scalars(select(Review))] == [
            ("qa-lin", "confirmed", "heard it")]
    _, _, body, _ = get(b, site.base + "/calls/1")
    assert "confirmed by qa-lin" in body.decode()


def test_sign_out_ends_the_session(site: Site) -> None:
    b = signed_in(site)
    _, _, body, _ = get(b, site.base + "/flags")
    csrf = re.search(r'name="csrf" value="([^"]+)"', body.decode())
    assert csrf
    post(b, site.base + "/logout", {"csrf": csrf.group(1)})
    status, url, _, _ = get(b, site.base + "/flags")
    assert status == 200 and "/login" in url


def test_no_password_no_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_QA_PASSWORD", raising=False)
    with pytest.raises(WebError, match="HOTLINE_QA_PASSWORD"):
        make_server(load_config(config_file(tmp_path)), port=0)
