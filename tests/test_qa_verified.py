"""Flags checked against the audio: the worker's phrase scores (Transcript.verified) in QA.

The scores are written here as the worker writes them (transcribe/spotting.py rows); the
decoder that makes them is tested on real speech in tests/test_verify.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from qa_calls import IVR, POLITE, add_call, config, replace
from sqlalchemy import select
from sqlalchemy.orm import Session

import db
from qa.scan import scan_call
from transcribe.tables import Transcript

CFG = config()


@pytest.fixture
def session(tmp_path: Path):  # type: ignore[no-untyped-def]
    with db.transaction(f"sqlite:///{tmp_path}/t.db") as s:
        yield s


def verified(session: Session, call_id: int, rows: list[dict[str, object]]) -> None:
    t = session.scalars(select(Transcript).where(Transcript.call_id == call_id)).one()
    t.verified = rows
    session.flush()


def row(phrase: str, start: float, end: float, confidence: float, *, exact: bool, heard: str = "") -> dict[str, object]:
    return {"phrase": phrase, "start": start, "end": end, "confidence": confidence, "accepted": confidence >= 0.5,
            "exact": exact, "heard": heard or phrase, "segment_start": start}


def test_a_phrase_the_transcript_garbled_is_found_from_the_audio(session: Session) -> None:
    # The agent said 你找错部门了; Whisper wrote 您早说不门了 (seen on the synthetic voice).
    call = add_call(session, replace(IVR + POLITE, 4, "您早说不门了，售后电话另外打。"))
    assert scan_call(session, CFG, call.id) == []  # the text alone misses it
    verified(session, call.id, [row("你找错部门了", 29.2, 31.5, 0.81, exact=False, heard="您早说不门了")])
    [flag] = scan_call(session, CFG, call.id)
    assert (flag.rule_id, flag.speaker) == ("forbidden.shifting-blame", "agent")
    assert 29.0 <= flag.offset_s <= 33.0 and "您早说不门了" in (flag.matched or "")
    assert flag.verify_confidence == pytest.approx(0.81) and not flag.needs_listening


@pytest.mark.parametrize("text", ["如果重启以后还是不见，您再打过来。", "不晓弹您家里有没有备用的？"])
def test_a_garble_is_judged_where_it_stands_as_a_text_hit_would_be(session: Session, text: str) -> None:
    # 不行 heard as 不见 inside a condition, 不知道 heard as 不晓弹 opening a polite question: the text
    # rules clear both where the transcript holds the phrase, so the audio's find is no flag either.
    heard, phrase = ("不见", "不行") if "不见" in text else ("不晓弹", "不知道")
    call = add_call(session, replace(IVR + POLITE, 4, text))
    verified(session, call.id, [row(phrase, 29.2, 31.5, 0.9, exact=False, heard=heard)])
    assert scan_call(session, CFG, call.id) == []
    blunt = add_call(session, replace(IVR + POLITE, 4, f"{heard}，这个单子我先记下了。"))  # said flat out
    verified(session, blunt.id, [row(phrase, 29.2, 31.5, 0.9, exact=False, heard=heard)])
    assert [f.rule_id for f in scan_call(session, CFG, blunt.id)] == ["forbidden.refusal"]


def test_a_phrase_the_asr_split_over_two_segments_is_flagged_from_the_audio(session: Session) -> None:
    # set34: 这个我还真不知道，系统里查不到 was written 这可我爱真不知, | 道其道离开不道, and the audio heard
    # 不知道 word for word over the two segments; neither segment holds it for the text rules
    split = [("agent", 29.0, 31.0, "这个我还真不知，"), ("agent", 31.2, 33.0, "道，系统里查不到。")]
    call = add_call(session, IVR + POLITE[:2] + split + POLITE[3:])
    assert scan_call(session, CFG, call.id) == []
    verified(session, call.id, [row("不知道", 29.0, 33.0, 0.99, exact=True, heard="不知，道")])
    [flag] = scan_call(session, CFG, call.id)
    assert flag.rule_id == "forbidden.refusal" and not flag.needs_listening
    # where the rules let it pass (a condition, a polite question), in two segments or one, it is no flag
    split = [("agent", 29.0, 31.0, "如果您不知，"), ("agent", 31.2, 33.0, "道怎么操作，我一步步教您。")]
    condition = add_call(session, IVR + POLITE[:2] + split + POLITE[3:], uniqueid="condition")
    verified(session, condition.id, [row("不知道", 29.0, 33.0, 0.99, exact=True, heard="不知，道")])
    assert scan_call(session, CFG, condition.id) == []
    polite = add_call(session, replace(IVR + POLITE, 4, "不知道您明天上午方便吗？"), uniqueid="polite")
    verified(session, polite.id, [row("不知道", 29.0, 31.0, 0.99, exact=True)])
    assert scan_call(session, CFG, polite.id) == []


def test_a_text_hit_the_audio_argues_against_asks_for_listening(session: Session) -> None:
    call = add_call(session, replace(IVR + POLITE, 4, "你找错部门了，售后电话另外打。"))
    [sure] = scan_call(session, CFG, call.id)
    assert sure.verify_confidence is None  # not checked yet: the ASR score alone
    verified(session, call.id, [row("你找错部门了", 29.0, 31.0, 0.2, exact=True)])
    [doubted] = scan_call(session, CFG, call.id)
    assert doubted.id == sure.id and doubted.verify_confidence == pytest.approx(0.2)
    assert doubted.needs_listening and doubted.confidence is not None and doubted.confidence < 0.5


def test_a_text_hit_a_sound_alike_word_reads_better_asks_for_listening_and_says_why(session: Session) -> None:
    # The agent said 您去找快递公司吧; Whisper wrote 快点 (seen on the scripted calls), and 快递 read the
    # audio better (config.yaml: forbidden.rude sounds_like 快点: [快递]).
    call = add_call(session, replace(IVR + POLITE, 4, "这个要找快点公司问一下。"))
    verified(session, call.id, [{**row("快点", 29.0, 31.0, 0.3, exact=True), "rival": "快递"}])
    [flag] = scan_call(session, CFG, call.id)
    assert flag.rule_id == "forbidden.rude" and flag.needs_listening
    assert "sounds like 快递" in (flag.matched or "")


def test_a_confirmed_text_hit_is_sure(session: Session) -> None:
    call = add_call(session, replace(IVR + POLITE, 4, "你找错部门了，售后电话另外打。"))
    verified(session, call.id, [row("你找错部门了", 29.0, 31.0, 0.95, exact=True)])
    [flag] = scan_call(session, CFG, call.id)
    assert flag.verify_confidence == pytest.approx(0.95) and not flag.needs_listening


def test_a_phrase_scored_in_an_ivr_prompt_or_the_callers_speech_is_no_flag(session: Session) -> None:
    call = add_call(session)  # polite: the IVR prompts play at 0.5-12 s on the agent track
    verified(session, call.id, [row("我不能", 5.0, 6.0, 0.9, exact=False, heard="我不"),
                                row("这不是我们的责任", 25.0, 28.0, 0.9, exact=False, heard="我的订单")])
    assert scan_call(session, CFG, call.id) == []


def test_a_company_name_the_asr_bent_by_a_syllable_still_counts(session: Session) -> None:
    bent = add_call(session, replace(IVR + POLITE, 2, "您好，这里是爱尔斯科技，请问有什么可以帮您？"))
    assert [f.rule_id for f in scan_call(session, CFG, bent.id)] == []  # ai er si ke ji ~ hai er si ke ji
    other = add_call(session, replace(IVR + POLITE, 2, "您好，这里是华为科技，请问有什么可以帮您？"), uniqueid="other")
    [flag] = scan_call(session, CFG, other.id)
    assert flag.rule_id == "opening.mandated" and "company name" in (flag.matched or "")


def line(check: str, part: str, pmi: float, start: float = 20.0, end: float = 30.0) -> dict[str, object]:
    """A row of transcribe/lines.py: one part of the opening or closing scored on the audio."""
    from transcribe.lines import BARS

    return {"check": check, "part": part, "phrase": part, "start": start, "end": end, "pmi": pmi,
            "confidence": BARS.confidence(pmi, check), "said": pmi >= BARS.said, "heard": ""}


GARBLED_OPENING = "天天傲多傲，前文有神。"  # what Whisper made of a polite opening on the synthetic voice


def test_an_opening_the_asr_garbled_is_no_flag_when_the_audio_heard_every_part(session: Session) -> None:
    call = add_call(session, replace(IVR + POLITE, 2, GARBLED_OPENING))
    [text_only] = scan_call(session, CFG, call.id)
    assert text_only.rule_id == "opening.mandated"
    verified(session, call.id, [line("opening", "company", 2.7), line("opening", "offer", 2.3)])
    assert scan_call(session, CFG, call.id) == []


def test_an_opening_part_the_audio_did_not_hear_is_a_sure_flag_naming_it(session: Session) -> None:
    call = add_call(session, replace(IVR + POLITE, 2, "您好，这里是中浪公司，请问有什么可以帮您？"))
    verified(session, call.id, [line("opening", "company", 0.1), line("opening", "offer", 2.1)])
    [flag] = scan_call(session, CFG, call.id)
    assert flag.rule_id == "opening.mandated" and "audio: company not heard" in (flag.matched or "")
    assert not flag.needs_listening and flag.confidence is not None and flag.confidence > 0.8


def test_an_opening_part_between_the_bars_asks_for_listening(session: Session) -> None:
    call = add_call(session, replace(IVR + POLITE, 2, GARBLED_OPENING))
    verified(session, call.id, [line("opening", "company", 0.7), line("opening", "offer", 2.0)])
    [flag] = scan_call(session, CFG, call.id)
    assert flag.rule_id == "opening.mandated" and flag.needs_listening


def test_a_closing_the_audio_heard_clears_the_text_flag_and_one_it_did_not_stands(session: Session) -> None:
    garbled = replace(IVR + POLITE, 7, "当天您的台点，台点。")
    call = add_call(session, garbled)
    [flag] = scan_call(session, CFG, call.id)
    assert flag.rule_id == "closing.courtesy"
    verified(session, call.id, [line("closing", "closing", 2.2, 44.0, 49.3)])
    assert scan_call(session, CFG, call.id) == []
    verified(session, call.id, [line("closing", "closing", -0.4, 44.0, 49.3)])
    [absent] = scan_call(session, CFG, call.id)
    assert absent.rule_id == "closing.courtesy" and not absent.needs_listening


def test_a_closing_the_audio_cannot_tell_from_a_bare_goodbye_asks_for_listening(session: Session) -> None:
    # 感谢您的耐心，再见 (再见 alone is a closing phrase) scored 0.30 on 感谢您的来电: a sure flag
    # would accuse a polite agent; an opening part scoring the same is a sure flag.
    call = add_call(session, replace(IVR + POLITE, 7, "如山沪，山天天，等爱天。"))
    verified(session, call.id, [line("closing", "closing", 0.3, 44.0, 49.3)])
    [flag] = scan_call(session, CFG, call.id)
    assert flag.rule_id == "closing.courtesy" and flag.needs_listening
    opening = add_call(session, replace(IVR + POLITE, 2, GARBLED_OPENING), uniqueid="opening")
    verified(session, opening.id, [line("opening", "company", 0.3), line("opening", "offer", 2.0)])
    [flag] = scan_call(session, CFG, opening.id)
    assert flag.rule_id == "opening.mandated" and not flag.needs_listening


def test_a_transcript_needing_review_is_judged_on_the_audio_when_it_was_checked(session: Session) -> None:
    lost = [u for u in IVR + POLITE if u[1] < 20.0 or u[0] == "caller"]  # the ASR lost all the agent said
    call = add_call(session, lost, needs_review=True, review_reason="agent: no text for 1 stretch(es)")
    assert [f.rule_id for f in scan_call(session, CFG, call.id)] == ["transcript.needs-review"]
    verified(session, call.id, [line("opening", "company", -0.5), line("opening", "offer", -0.9),
                                line("closing", "closing", 2.0, 44.0, 49.3)])
    rules = sorted(f.rule_id for f in scan_call(session, CFG, call.id))
    assert rules == ["opening.mandated", "transcript.needs-review"]


def test_a_text_hit_matched_by_sound_takes_the_score_of_the_garble_the_audio_accepted(session: Session) -> None:
    # Whisper wrote 不知到; the text rules match it to 不知道 by sound, the worker scored it as a garble
    call = add_call(session, replace(IVR + POLITE, 4, "不知到，仓库没有告诉我们。"))
    verified(session, call.id, [row("不知道", 28.7, 33.3, 0.97, exact=False, heard="不知到")])
    [flag] = scan_call(session, CFG, call.id)
    assert flag.rule_id == "forbidden.refusal" and flag.verify_confidence == pytest.approx(0.97)
    assert not flag.needs_listening


def test_a_longer_phrase_the_audio_surely_heard_over_a_text_hit_names_the_rule(session: Session) -> None:
    # The agent said 我不能确定什么时候能修好; Whisper wrote 我不能决定 (held-out set 8). The text rules
    # catch 我不能 (negative language); the audio found 我不能确定 (uncertain), which holds it.
    call = add_call(session, replace(IVR + POLITE, 4, "我不能决定什么时候能修好，要等配件。"))
    [text_only] = scan_call(session, CFG, call.id)
    assert text_only.rule_id == "forbidden.negative-language"
    hit = row("我不能", 28.5, 33.5, 0.84, exact=True)
    verified(session, call.id, [hit, row("我不能确定", 28.5, 33.5, 0.81, exact=False, heard="我不能决定")])
    [flag] = scan_call(session, CFG, call.id)
    assert flag.rule_id == "forbidden.uncertain" and "我不能决定" in (flag.matched or "")
    # Only a sure garble stands for the hit: one asking for listening leaves it, and comes beside it.
    unsure = {**row("我不能确定", 28.5, 33.5, 0.45, exact=False, heard="我不能决定"), "accepted": True}
    verified(session, call.id, [hit, unsure])
    flags = {f.rule_id: f.needs_listening for f in scan_call(session, CFG, call.id)}
    assert flags == {"forbidden.negative-language": False, "forbidden.uncertain": True}
