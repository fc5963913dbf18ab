"""How decoder scores become a verdict (transcribe/verdict.py): the bars a garble must clear."""

from __future__ import annotations

from dataclasses import replace

import pytest

from settings import fillings
from transcribe.sounds import Gapped, Span, find_spans, gap_garbles, read_syllables
from transcribe.verdict import PhraseScore, VerifyOptions, judge


def garble(phrase: str, heard: str) -> PhraseScore:
    """A strong decoder score for ``phrase`` where the ASR wrote ``heard``, at their real sound cost."""
    syllables = len(read_syllables(phrase))
    span = find_spans(phrase, heard, 10.0, 1)[0]
    return PhraseScore(phrase=phrase, text=heard, start=span.start, end=span.end, exact=False, syllables=syllables,
                       cost=span.cost / syllables, delta=0.5, pmi=3.0, evidence=0.0, confidence=0.0, accepted=False)


@pytest.mark.parametrize(("phrase", "heard"), [
    ("大概", "带来"),  # polite agents on the scripted calls, twice (one over audio saying 答复)
    ("可能", "科技"),  # the company name
    ("快点", "来电"),  # the closing, even with no rival line to refuse it
    ("可能", "可以"),
])
def test_a_short_phrase_is_not_found_in_a_word_sharing_one_syllable_with_it(phrase: str, heard: str) -> None:
    verdict = judge(garble(phrase, heard), VerifyOptions())
    assert not verdict.accepted and verdict.confidence < 0.5


@pytest.mark.parametrize(("phrase", "heard"), [
    ("不行", "不限"), ("不行", "不见"), ("快点", "快的"), ("可能", "可怜"),  # both syllables sound alike
    ("你找错部门了", "您早说不门了"),  # a long phrase may differ by a syllable or two
])
def test_a_garble_that_sounds_like_every_syllable_is_found(phrase: str, heard: str) -> None:
    assert judge(garble(phrase, heard), VerifyOptions()).accepted


@pytest.mark.parametrize(("phrase", "heard"), [
    ("不行", "不见"),  # a held-out polite agent said 步行 there
    ("不过", "不够"),  # polite agents said 不够 and 重复扣款 there
])
def test_a_two_syllable_garble_found_asks_for_listening_rather_than_accusing(phrase: str, heard: str) -> None:
    verdict = judge(garble(phrase, heard), VerifyOptions())
    assert verdict.accepted and verdict.confidence < 0.5  # shown, as a flag to listen to


@pytest.mark.parametrize(("phrase", "heard"), [
    ("不知道", "不知到"), ("我们很忙", "我们曾慢"), ("你找错部门了", "您早说不门了"),
])
def test_a_longer_garble_with_strong_audio_is_sure(phrase: str, heard: str) -> None:
    assert judge(garble(phrase, heard), VerifyOptions()).confidence >= 0.5


@pytest.mark.parametrize(("pmi", "disputed"), [(0.76, 0.76), (2.2, 0.7)])
def test_a_garble_the_audio_barely_supports_asks_for_listening(pmi: float, disputed: float) -> None:
    # 我不会做 over a polite 您的积分不会过期 (held-out set8), written 您不会说: accepted, pmi 0.76.
    thin = replace(garble("我不会做", "您不会说"), delta=0.57, pmi=pmi, disputed_pmi=disputed)
    verdict = judge(thin, VerifyOptions())
    assert verdict.accepted and verdict.confidence < 0.5
    assert judge(replace(thin, pmi=3.0, disputed_pmi=1.2), VerifyOptions()).confidence >= 0.5


def test_a_garble_on_the_pre_filters_bound_asks_for_listening_however_strong_the_audio() -> None:
    # 不知道 over a polite 不锈钢的 (held-out set10), written 不晓弹: 1.5 sound edits of 3 syllables,
    # delta 1.87 and pmi 1.06 on the audio. Half its syllables off: accepted, not an accusation.
    edge = replace(garble("不知道", "不晓弹"), delta=1.87, pmi=3.0, disputed_pmi=3.0)
    assert edge.cost == pytest.approx(VerifyOptions().max_cost(3))
    verdict = judge(edge, VerifyOptions())
    assert verdict.accepted and verdict.confidence < 0.5
    # a syllable nearer (不晓到: 1.0 edits) the same audio accuses
    nearer = replace(garble("不知道", "不晓到"), delta=1.87, pmi=3.0, disputed_pmi=3.0)
    assert judge(nearer, VerifyOptions()).confidence >= 0.5


@pytest.mark.parametrize("phrase", ["不行", "快点", "不知道"])
def test_a_text_hit_with_strong_audio_is_sure_however_short(phrase: str) -> None:
    hit = replace(garble(phrase, phrase), exact=True)
    assert judge(hit, VerifyOptions()).confidence >= 0.5


def test_a_garble_whose_disputed_words_the_audio_does_not_say_is_refused() -> None:
    # A held-out polite 我们会在三天内 written 我们会催,催: 我们非常忙 read 2.2 on all its tokens (its
    # 我们 was said) and -0.28 on 非常忙, the part the ASR wrote otherwise.
    strong = garble("我们非常忙", "我们会催催")
    assert judge(strong, VerifyOptions()).accepted  # all tokens read alone: a sure find
    assert not judge(replace(strong, disputed_pmi=-0.28), VerifyOptions()).accepted
    assert judge(replace(strong, disputed_pmi=1.6), VerifyOptions()).accepted  # 我们很忙 said, written 我们曾慢


GAP_WORDS = ("真的", "真", "还", "也", "都", "这边", "实在")


@pytest.mark.parametrize(("heard", "wording", "said"), [
    ("这个我爱真不清楚，没听过", "我还真不清楚", "我爱真不清楚"),  # 还 heard as 爱
    ("这个我也道不清楚，之前没遇到", "我也都不清楚", "我也道不清楚"),  # the gap's second syllable a near sound off
    ("我这边爱不青楚", "我这边还不清楚", "我这边爱不青楚"),  # three syllables of gap, the tail misspelt
])
def test_a_phrase_with_a_gap_is_found_where_the_gap_was_garbled(heard: str, wording: str, said: str) -> None:
    found = gap_garbles(Gapped("我", "不清楚", fillings(GAP_WORDS)), heard, 0.5)
    assert [(w, heard[s.start:s.end]) for w, s in found] == [(wording, said)]


@pytest.mark.parametrize("heard", [
    "我也不清楚",  # said as written: a text hit, not a garble
    "我怕您不清楚的话可以再问我",  # 怕您 sounds like no gap word
    "我们不清楚",  # 们 is no gap word
    "我也知道",  # no negation
    "如我爱不见, 您随此来点",  # 您 for 楚: a syllable of the words after the gap wholly unlike
])
def test_a_gap_garble_needs_the_gap_to_sound_like_gap_words(heard: str) -> None:
    assert gap_garbles(Gapped("我", "不清楚", fillings(GAP_WORDS)), heard, 0.5) == []


def test_a_two_syllable_tail_of_a_gap_garble_must_sound_like_both_syllables() -> None:
    """A polite 如果还不行 written 如我爱不见: 不见 is a syllable off 不能, too far for a tail that short."""
    short, gap = VerifyOptions().max_cost(2), Gapped("我", "不能", fillings(GAP_WORDS))
    assert gap_garbles(gap, "如我爱不见，您随时来电", short) == []
    assert gap_garbles(gap, "我爱不能帮您改", short) == [("我还不能", Span(0.25, 0, 4))]
