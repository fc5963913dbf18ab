"""A hit inside one of its rule's allowed wordings, which the ASR garbled, on real speech.

The policy's own apology 可能我没有说清楚 is allowed (vague.ambiguous ``allow``); a held-out polite
agent said it and the ASR wrote 可能我没有,我先住, so the text rules flagged 可能 and the audio
confirmed it: a sure false flag. The allowed wording, put over the stretch that sounds like it,
reads that audio about as well as the hit does, so the hit must be unsure; a 可能 said as a hedge
stays sure, and so does one next to a word that only half sounds like the syllable a one-syllable
longer wording adds (师傅可能 written 是否可能 reads better as 不可能); a one-syllable-longer wording is
tried where the text nearly writes it (会见,可能 for 会尽可能: 见 is a near sound of 尽).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from spoken import CFG, phrase_rows

from transcribe.engine import AsrSegment, Word
from transcribe.sounds import Span
from transcribe.spotting import _opens_clause, _read_on, allowed_wordings, wording_spans
from transcribe.verdict import VerifyOptions
from transcribe.verify import join_segments


def test_a_phrase_is_checked_against_the_allowed_wordings_of_its_rule_that_hold_it() -> None:
    wordings = allowed_wordings(CFG)
    assert "可能我没有说清楚" in wordings["可能"] and "不可能" in wordings["可能"]
    assert "帮您看看情况" not in wordings["可能"]  # allowed by the same rule, for 看情况
    assert "帮您看看情况" in wordings["看情况"]
    assert all(phrase in w and w != phrase for phrase, ws in wordings.items() for w in ws)


def test_a_wording_one_syllable_longer_must_read_the_audio_more_closely_than_a_longer_one() -> None:
    # A one-syllable wording is a homophone's reach: on held-out recordings 不过检 read within 1.0 nats per token
    # of a yes-but 不过现在, and a bare 快点拔 of a rude 快点把. 我不能让您 over 我不能喊您 adds two syllables,
    # and two syllables the audio raises are more than a homophone.
    options = VerifyOptions()
    assert options.wording_margin(1) < options.wording_margin(2) == options.wording_margin(3)


@pytest.mark.parametrize(("word", "text", "tried"), [
    ("尽可能", "我们会见可能在今天之内", "见可能"),  # held out, a polite 会尽可能: 见 is a near sound of 尽
    ("不可能", "是否可能明天才能过去", None),  # a true 师傅可能: 否 only half sounds like 不
    ("可能我没有说清楚", "可能我没有我先住我才为您解释", "可能我没有我先住"),  # two or more syllables longer
    ("不可能", "可能明天才能过去", None),  # the text wrote nothing for the added syllable
])  # fmt: skip
def test_an_allowed_wording_one_syllable_longer_is_tried_only_where_the_text_nearly_writes_it(
    word: str, text: str, tried: str | None
) -> None:
    at = text.index("可能")
    spans = wording_spans(word, text, Span(0.0, at, at + 2), 2, VerifyOptions())
    assert [text[s.start : s.end] for s in spans][:1] == ([tried] if tried else [])


def test_the_syllables_a_wording_adds_must_sound_like_the_text_there() -> None:
    # A breach 材料费我不知道, written 太阳说我不知道: the whole of 如果你不知道 was within the
    # pre-filter's bound (2.5 edits of 3.0), its exact 不知道 paying for 阳说我 against 如果你.
    text = "官子的太阳说我不知道"
    at = text.index("不知道")
    assert wording_spans("如果你不知道", text, Span(0.0, at, at + 3), 3, VerifyOptions()) == []
    # what the text writes near the added words is still tried: 不知到您爱 for 不知道您还
    text = "您现处理傲补知到您爱有其他文字嘛"
    at = text.index("补知到")
    spans = wording_spans("不知道您还", text, Span(0.0, at, at + 3), 3, VerifyOptions())
    assert [text[s.start : s.end] for s in spans][:1] == ["补知到您爱"]


@pytest.mark.parametrize(("text", "opens"), [
    ("不知到您翻眼, 留个电话嘛", True),  # held out (set28): a polite 不知道您方便留个电话吗, the window's first words
    ("好的，不知到您翻眼", True),  # after punctuation
    ("我不知到您的钱去哪了", False),  # a breach: 我 before it in its clause
    ("不知到，你问快递去", False),  # a refusal, then the caller is sent away: not one breath
    ("不知到 您上别的窗口问问", False),  # the ASR heard a pause inside it
])  # fmt: skip
def test_a_wording_that_starts_its_clause_is_tried_only_at_a_clause_start_said_in_one_breath(
    text: str, opens: bool
) -> None:
    assert "。不知道您" in allowed_wordings(CFG)["不知道"]  # the mark stays for _allowed
    kept = [i for i, ch in enumerate(text) if ch not in " ,，"]
    local = "".join(text[i] for i in kept)
    at = local.index("不知到")
    assert _opens_clause(text, kept, Span(0.0, at, at + 4)) is opens


def test_a_wording_cut_by_the_hits_window_is_read_on_for_two_seconds_more() -> None:
    # One character a word, 0.3 s each from 10 s, in two segments (the ASR split the apology after
    # 我没有,); the hit's window ended after 我先 (10.0-12.1 s).
    text = "可能我没有,我先处,我才为您解释一下。"
    words = [Word(10 + 0.3 * k, 10.3 + 0.3 * k, ch, 0.9) for k, ch in enumerate(text)]
    segments = [AsrSegment(10.0, 11.8, text[:6], "agent", -0.3, 0.1, tuple(words[:6])),
                AsrSegment(11.8, 10 + 0.3 * len(text), text[6:], "agent", -0.3, 0.1, tuple(words[6:]))]
    (group,) = join_segments(segments, gap_s=1.0, pad_s=0.3)
    more, end = _read_on(group, "可能我没有,我先", 12.1)
    assert more == "处我才为您" and end == pytest.approx(14.1)  # up to 2 s on, without the commas
    assert _read_on(group, "你好", 12.1) == ("", 12.1)  # not this text
    assert _read_on(group, text, 15.0) == ("", 15.0)  # nothing after it
    (timeless,) = join_segments([AsrSegment(10.0, 15.7, text, "agent", -0.3, 0.1)], gap_s=1.0, pad_s=0.3)
    assert _read_on(timeless, "可能我没有,我先", 12.1) == ("", 12.1)  # no word times: where would its audio be?


@pytest.mark.slow
@pytest.mark.parametrize(("said", "written", "doubted"), [
    ("可能我没有说清楚，我再为您解释一下。", "可能我没有,我先住,我才为您解释一下。", True),  # the held-out call
    ("可能我没有说清楚，我再为您解释一下。", None, True),
    ("配件可能要等到周五才有。", None, False),
    ("可能我没有时间处理这个问题。", None, False),
    ("师傅可能明天才能过去。", "是否可能明天才能过去。", False),
])  # fmt: skip
def test_a_hit_the_allowed_wording_reads_as_well_is_unsure(
    tmp_path: Path, said: str, written: str | None, doubted: bool
) -> None:
    rows = phrase_rows(tmp_path, said, written or said, "可能")
    assert len(rows) == 1 and rows[0]["exact"], rows
    assert (rows[0]["rival"] is not None) is doubted, rows
    assert (rows[0]["confidence"] < 0.5) is doubted, rows


@pytest.mark.slow
@pytest.mark.parametrize(("said", "written", "rival"), [
    # held out, polite agents hurrying the technician, 催师傅 garbled past the homophones: 快点 said before someone's
    # way to the caller (快点过去, 快点上门) reads the audio as well as the hit, and the audio says the way
    ("我这就催师傅快点过去，下午两点前到您家。", "我这有致,苦快点,我去,下午两点天到年下。", "快点过去"),  # set66
    ("我现在就催师傅快点上门，一小时内回电。", "我现在又是复乎快点喊门,以小子内便宁。", "快点上门"),  # set58
])  # fmt: skip
def test_kuaidian_before_a_way_to_the_caller_is_unsure(tmp_path: Path, said: str, written: str, rival: str) -> None:
    rows = phrase_rows(tmp_path, said, written, "快点")
    assert len(rows) == 1 and rows[0]["rival"] == rival and rows[0]["confidence"] < 0.5, rows


@pytest.mark.slow
def test_a_fluent_allowed_wording_over_a_garbled_breach_is_not_enough(tmp_path: Path) -> None:
    # A held-out breach: 我不能帮您 written 我不能唤临. 我不能肯定 put there read the audio better than
    # that gibberish (+1.4 nats per token), but the audio does not say 肯定: the hit stays sure.
    said, written = "我不能帮您修改这个订单。", "我不能唤临晓太这个天。"
    rows = phrase_rows(tmp_path, said, written, "我不能")
    assert len(rows) == 1 and rows[0]["accepted"] and rows[0]["rival"] is None, rows


@pytest.mark.slow
@pytest.mark.parametrize(("said", "written", "rival"), [
    # held out (set52): a polite 尽快点击 written 离近快点 (here 近快点): the ASR chose among homophones before 快点
    ("请您尽快点击确认地址，今天就能发货。", "请您近快点，确认地址，今天就能发货。", "尽快点"),
    # held out (set62): a polite 催师傅快点 written 去世,复快点, where the audio raised 师傅 by 0.42 (under min_pmi).
    # Here the audio says no 师傅 at all (so the audio alone kept the hit sure, 0.98): the sounds written decide
    ("我这就去催，快点过去。", "我这就去世,复快点,过去。", "师傅快点"),
    # a breach: 把 sounds like the 拔 of the allowed 快点拔掉, and the text after it says which was meant
    ("快点把单号报给我。", "快点把单号报给我。", None),
    ("你快点把地址发过来。", "你快点把地址发过来。", None),
    # held out (set60, set65): a rude 快点把型号报一下 written 快点,趴点: a bare 快点拔 allowed read it as well (+0.39),
    # one syllable the audio cannot tell from 把; the audio does not say the 掉 of 快点拔掉
    ("您快点把型号报一下，我这儿还有别的电话。", "您快点,趴点,趴下,我这儿还有别的电话。", None),
])  # fmt: skip
def test_a_hit_after_an_allowed_wordings_words_the_asr_wrote_in_homophones_is_unsure(
    tmp_path: Path, said: str, written: str, rival: str | None
) -> None:
    # The audio cannot tell 近 from 尽, or 世复 from 师傅: which of them reads better is the language model's choice,
    # not the audio's, so a wording the text says in its very sounds before the phrase is taken as said.
    rows = phrase_rows(tmp_path, said, written, "快点")
    assert len(rows) == 1 and rows[0]["exact"], rows
    assert rows[0]["rival"] == rival and (rows[0]["confidence"] < 0.5) is (rival is not None), rows
