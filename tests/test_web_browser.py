"""The review app in a real browser: Debian's Chromium driven by Playwright, the app served by
uvicorn on a free port, a real SQLite file and real WAV recordings.

A lead signs in, filters the queue, plays a call and seeks by clicking a transcript line,
confirms a flag with a note, bulk-dismisses two and works the queue with the keyboard; a
reviewer fails to reach the original audio and the users page. A screenshot of each page goes
to ``$HOTLINE_ARTIFACTS`` (else ``test-artifacts/``).
"""

from __future__ import annotations

import math
import os
import struct
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from qa_calls import IVR, POLITE, add_call, config_file, replace
from sqlalchemy import select
from web_server import running

import db
from accounts.users import add_user
from qa.scan import scan_call
from qa.tables import Flag, Review
from recordings.redacted import redacted_path, register, write_redacted
from recordings.tables import Recording
from settings import Config, load_config
from web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (dev.sh)")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("HOTLINE_ARTIFACTS") or ROOT / "test-artifacts") / "web"
PASSWORD = "correct-horse-battery"


def write_wav(path: Path, seconds: float = 60.0, rate: int = 8000) -> None:
    """A quiet 440 Hz tone: long enough to seek to any transcript line."""
    frames = b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / rate)))
                      for i in range(int(seconds * rate)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


@dataclass
class Served:
    base: str
    cfg: Config


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("browser")
    cfg = load_config(config_file(folder))
    with db.transaction(cfg.database_url) as s:
        add_user(s, "lead-zhao", "lead", PASSWORD)
        add_user(s, "qa-wang", "reviewer", PASSWORD)
        call = add_call(s, replace(IVR + POLITE, 4, "我们非常忙，你的电话一三八一二三四五六七八我记下了。"),
                        started=db.now() - timedelta(hours=1))
        wav = folder / "call-1.wav"
        write_wav(wav)
        s.add(Recording(call_id=call.id, kind="mix", path=str(wav), status="ready"))
        write_redacted(wav, redacted_path(wav), [(30.0, 33.0)])
        register(s, call.id, "mix-r", redacted_path(wav))
        scan_call(s, cfg, call.id)
        for day in (3, 4):  # two more calls, each with a refusal, a blame-shifting phrase and an agent hang-up
            other = add_call(s, replace(IVR + POLITE, 4, "这个我不知道，你找错部门了。"), agent="SIP/agent2002",
                             route_target="sales", hangup_by="agent", started=db.now() - timedelta(days=day))
            scan_call(s, cfg, other.id)
    with running(create_app(cfg)) as base:
        yield Served(base, cfg)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        try:
            yield b
        finally:
            b.close()


def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def sign_in(browser: object, served: Served, name: str) -> object:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(served.base + "/flags")  # not signed in: sent to the sign-in form, coming back after
    assert "/login?next=" in page.url
    shot(page, "01-sign-in")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.signin button")
    page.wait_for_url(served.base + "/flags")
    return page


def statuses(served: Served) -> dict[int, tuple[str, list[str | None]]]:
    with db.transaction(served.cfg.database_url) as s:
        return {f.id: (f.status, [r.note for r in s.scalars(select(Review).where(Review.flag_id == f.id))])
                for f in s.scalars(select(Flag))}


def test_a_lead_reviews_in_the_browser(browser: object, served: Served) -> None:
    page = sign_in(browser, served, "lead-zhao")
    assert page.inner_text("h1") == "质检队列"
    assert page.locator("tr.flagrow").count() == 8  # unreviewed by default: every flag is new
    shot(page, "02-queue")

    # filter: the queue shows the PII flag only
    page.select_option("select[name=category]", "pii")
    page.click("#filters button")
    page.wait_for_url("**category=pii**")
    assert page.locator("tr.flagrow").count() == 1
    assert "*******五六七八" in page.inner_text("#queue") and "一三八一二三四" not in page.content()
    shot(page, "03-queue-filtered")

    # the call: play, click a line, the audio is there and the line is lit
    page.click("tr.flagrow a")
    page.wait_for_url("**/calls/1?flag=2**")
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    page.click("#seg4")  # the caller's line at 25.0 s
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 25.0) < 0.5")
    page.wait_for_selector("#seg4.playing")
    page.click("#seg7")  # and later, at 40.0 s
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 40.0) < 1.0")
    page.keyboard.press(" ")  # space: pause
    page.wait_for_function("document.getElementById('player').paused")
    shot(page, "04-call")

    # confirm the forbidden phrase's flag with a note, in its one note box
    page.fill("#flag1 textarea[name=note]", "确实说了我们非常忙")
    page.click("#flag1 button[value=confirmed]")
    page.wait_for_url("**/calls/1?flag=1**")
    assert "确实说了我们非常忙" in page.inner_text("#flag1 .history")
    assert statuses(served)[1] == ("confirmed", ["确实说了我们非常忙"])

    # bulk: tick two flags of the second call, dismiss them with one note
    page.goto(served.base + "/flags?agent=agent2002&sort=oldest")
    boxes = page.locator("tr.flagrow input[name=flag]")
    ticked = [int(boxes.nth(i).get_attribute("value") or 0) for i in (0, 1)]
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.fill("#bulk input[name=note]", "客户要求转接，属正常")
    page.click("#bulk button[value=dismissed]")
    page.wait_for_load_state()
    got = statuses(served)
    assert [got[i] for i in ticked] == [("dismissed", ["客户要求转接，属正常"])] * 2

    # the keyboard: ? shows the shortcuts, j moves down, d dismisses the row it is on
    page.goto(served.base + "/flags?sort=oldest")
    rows = [int(page.locator("tr.flagrow").nth(i).get_attribute("data-flag") or 0) for i in range(2)]
    page.keyboard.press("?")
    assert page.is_visible("#help")
    shot(page, "05-shortcuts")
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    assert page.get_attribute("tr.flagrow.current", "data-flag") == str(rows[1])
    with page.expect_navigation():  # d submits the bulk form; the queue comes back without the row
        page.keyboard.press("d")
    # a locator, not wait_for_function: a string predicate evaluated while the page navigates was once
    # refused by the page's Content-Security-Policy (no 'unsafe-eval')
    page.locator(f'tr.flagrow[data-flag="{rows[1]}"]').wait_for(state="detached")
    assert statuses(served)[rows[1]][0] == "dismissed"
    page.keyboard.press("n")  # open the selected row's call
    page.wait_for_url("**/calls/**")
    page.keyboard.press("j")  # the call page: j moves over its flags and seeks the audio there
    assert page.locator("article.flag.current").count() == 1
    with page.expect_navigation():  # the verdict's redirect back to the call: the next goto must not abort it
        page.keyboard.press("c")
    assert "confirmed" in {s for s, _ in statuses(served).values()}

    page.goto(served.base + "/flags?lang=en")
    assert page.inner_text("h1") == "Queue"
    page.goto(served.base + "/flags?lang=zh-CN")
    page.context.close()


def test_a_reviewer_cannot_reach_the_original_or_the_users_page(browser: object, served: Served) -> None:
    page = sign_in(browser, served, "qa-wang")
    response = page.goto(served.base + "/calls/1/audio?original=1")
    assert response.status == 403 and "无权收听原始录音" in page.inner_text("main")
    shot(page, "06-original-refused")
    response = page.goto(served.base + "/users")
    assert response.status == 403
    page.goto(served.base + "/calls/1")
    assert page.locator("#track option").count() == 1  # the redacted track only; no original offered
    assert "/users" not in page.inner_html("header")
    page.context.close()


def test_an_admin_sees_the_users_page(browser: object, served: Served) -> None:
    with db.transaction(served.cfg.database_url) as s:
        add_user(s, "root-admin", "admin", PASSWORD)
    page = sign_in(browser, served, "root-admin")
    page.click("header a[href='/users']")
    page.wait_for_url("**/users")
    assert page.locator("#users tr[data-account]").count() == 3
    shot(page, "07-users")
    page.context.close()
