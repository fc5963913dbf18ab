"""QA's use of the PII detector: secret requests, numbers split across segments, masked
excerpts, fingerprints that hold no digits, and `qa scan --json`'s masked text."""

from __future__ import annotations

import json
from pathlib import Path

from qa_calls import IVR, add_call, config, config_file
from sqlalchemy import select
from typer.testing import CliRunner

import db
from app.evalcalls import rule_categories
from cli import app
from qa.evaluate import category_of
from qa.rules import CallContext, Utterance, call_findings
from qa.scan import fingerprint, matcher_for, scan_call, scan_text
from qa.tables import Flag, Review
from settings import load_config

CFG = config()
OPENING = ("agent", 20.5, 24.0, "您好，这里是海尔斯科技，请问有什么可以帮您？")
CLOSING = ("agent", 50.0, 52.0, "感谢您的来电，再见。")


def findings(segments: list[tuple[str, float, float, str]]) -> list[object]:
    utts = [Utterance(k, sp, a, b, t) for k, (sp, a, b, t) in enumerate(segments)]
    return call_findings(CFG, matcher_for(CFG), utts, CallContext(agent_answer_s=20.0, reached_agent=True))


def test_the_agent_asking_for_a_code_is_a_pii_flag_the_caller_saying_it_is_not() -> None:
    rule = CFG.qa.ask_secret.id
    hits = [h for h in scan_text(CFG, "请告诉我您的验证码", "agent") if h.rule == rule]
    assert [(h.category, h.match, h.how) for h in hits] == [("pii", "告诉我您的验证码", "asks-code")]
    assert [h for h in scan_text(CFG, "请告诉我您的验证码", "caller") if h.rule == rule] == []
    assert [h for h in scan_text(CFG, "请不要把验证码告诉任何人", "agent") if h.rule == rule] == []
    assert category_of(CFG, rule) == "pii" and rule_categories(CFG)[rule] == "pii"


def test_a_secret_asked_for_over_a_pause_is_one_flag_on_the_first_segment_it_touches() -> None:
    rule = CFG.qa.ask_secret.id
    got = [f for f in findings([OPENING, ("agent", 29.0, 30.0, "麻烦您把"), ("agent", 31.0, 32.5, "支付宝登录密码"),
                                ("agent", 33.0, 34.0, "发我一下"), CLOSING]) if f.rule == rule]
    assert [(f.utterance.seq, f.matched, f.extra["how"]) for f in got if f.utterance] == [
        (2, "登录密码发我", "asks-password")]
    assert got[0].offset_s is not None and 31.0 <= got[0].offset_s < 32.5
    # the caller speaking between the two halves ends the agent's run: nothing is joined over them
    assert not [f for f in findings([OPENING, ("agent", 29.0, 30.0, "麻烦您把支付宝登录密码"),
                                     ("caller", 30.5, 31.0, "啊？"), ("agent", 31.5, 32.0, "发我一下"), CLOSING])
                if f.rule == rule]


def test_a_number_read_out_over_two_agent_segments_is_one_masked_flag() -> None:
    got = [f for f in findings([OPENING, ("agent", 29.0, 31.0, "您的身份证号码是110101199003"),
                                ("agent", 31.2, 33.0, "077777对吗"), CLOSING])
           if f.rule == CFG.qa.pii.id]
    assert len(got) == 1
    f = got[0]
    assert f.utterance is not None and f.utterance.seq == 1 and f.offset_s is not None and f.offset_s >= 29.0
    assert f.matched == "************" + "**7777" and f.context == "您的身份证号码是************"
    assert f.key == "agent|1|8|id_card"  # the kind, never the digits


def test_the_caller_s_own_numbers_are_masked_in_excerpts_but_not_flagged() -> None:
    got = findings([OPENING, ("caller", 25.0, 27.0, "我的手机号是13912345678"),
                    ("agent", 28.0, 30.0, "好的我不能帮你，我叫李娜"), CLOSING])
    assert [f.rule for f in got if f.category == "pii"] == []
    forbidden = [f for f in got if f.category == "forbidden"]
    assert forbidden and forbidden[0].context == "好的我不能帮你，我叫李娜"  # the agent's own name stays


def test_excerpts_use_mask_kinds_addresses_too() -> None:
    got = findings([OPENING, ("agent", 28.0, 32.0, "给您寄到北京市朝阳区建国路88号，我不能保证时间"), CLOSING])
    (f,) = [f for f in got if f.category == "forbidden"]
    assert f.context is not None and "建国路" not in f.context and f.context.startswith("给您寄到北京市朝阳区**")
    assert "address" not in CFG.qa.pii.kinds  # masked, never flagged
    assert [f for f in got if f.category == "pii"] == []


def test_fingerprints_hold_no_digits_and_old_digit_keys_are_moved_with_their_reviews(tmp_path: Path) -> None:
    cfg = load_config(config_file(tmp_path))
    said = "您的卡号是6222021234567890123对吧"
    with db.transaction(cfg.database_url) as s:
        call = add_call(s, [*IVR, OPENING, ("agent", 30.0, 33.0, said), CLOSING])
        (flag,) = [f for f in scan_call(s, cfg, call.id) if f.rule_id == cfg.qa.pii.id]
        assert flag.fingerprint == fingerprint(call.id, cfg.qa.pii.id, "agent|3|5|bank_card")
        digits = fingerprint(call.id, cfg.qa.pii.id, "agent|3|5|6222021234567890123")
        assert flag.fingerprint != digits
        # a flag raised (and reviewed) before the change, keyed by its digits
        flag.fingerprint = digits
        s.add(Review(flag=flag, reviewer="qa-lin", decision="confirmed", at=db.now()))
        flag.status = "confirmed"
        flag_id, call_id = flag.id, call.id
    with db.transaction(cfg.database_url) as s:
        scan_call(s, cfg, call_id)
        rows = [f for f in s.scalars(select(Flag).where(Flag.call_id == call_id)) if f.rule_id == cfg.qa.pii.id]
        assert [(f.id, f.status, len(f.reviews)) for f in rows] == [(flag_id, "confirmed", 1)]
        assert rows[0].fingerprint == fingerprint(call_id, cfg.qa.pii.id, "agent|3|5|bank_card")


def test_qa_scan_json_gives_the_masked_line_and_masked_matches(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    lines = "您的卡号是6222021234567890123对吧\n请告诉我您的验证码"
    r = CliRunner().invoke(app, ["qa", "scan", "--json", "-c", str(path), lines])
    assert r.exit_code == 0, r.output
    first, second = (json.loads(line) for line in r.output.splitlines())
    assert first["masked"] == "您的卡号是***************0123对吧"
    assert [f["match"] for f in first["flags"]] == ["***************0123"]
    assert [f["rule"] for f in second["flags"]] == [CFG.qa.ask_secret.id]
    plain = CliRunner().invoke(app, ["qa", "scan", "-c", str(path), "您的卡号是6222021234567890123对吧"])
    assert "6222021234567890123" not in plain.output and "***************0123" in plain.output
