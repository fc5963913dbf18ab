"""Text rules on single utterances: normalisation, phrase matching, PII."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from qa_calls import config

from qa.matcher import Matcher
from qa.scan import scan_text
from settings import PhraseRule
from transcribe.normalize import normalize
from transcribe.pii import find_pii, id_card_valid, luhn_valid, mask

CFG = config()


def hits(text: str, speaker: str = "agent") -> list[tuple[str, str]]:
    return [(h.rule, h.match) for h in scan_text(CFG, text, speaker)]


def test_normalize_folds_forms_and_maps_back_to_the_original() -> None:
    n = normalize("我 不 能！ＡＢＣ１２３，我們")
    assert n.text == "我不能abc123我们"
    assert n.source(0, 3) == "我 不 能"
    assert n.span(3, 6) == (6, 9) and n.source(3, 6) == 'ＡＢＣ'
    assert n.source(9, 11) == "我們"


def test_normalize_keeps_offsets_when_a_character_expands() -> None:
    n = normalize("㈠我不能")  # NFKC turns ㈠ into (一): three characters from one
    assert n.text == "一我不能"
    assert n.source(1, 4) == "我不能"


def test_the_characters_opencc_keeps_are_read_as_whisper_means_them() -> None:
    # OpenCC's t2s leaves 著, 妳 and 祇, each also written in Simplified text; Whisper means 着, 你, 只.
    assert normalize("您就等著吧，妳祇能這樣").text == "您就等着吧你只能这样"
    assert normalize("著名品牌，效果显著，一部名著").text == "著名品牌效果显著一部名著"
    assert [r for r, _ in hits("您就在家等著吧")] == ["forbidden.rude"]
    assert [r for r, _ in hits("妳不明白我说的")] == [r for r, _ in hits("你不明白我说的")] != []
    # it writes 帳戶 as 帐户: an account's 帐 is 账 (pii/s44c), a tent's stays
    assert normalize("請提供帳戶密碼和帐号，帐篷").text == "请提供账户密码和账号帐篷"
    assert [r for r, _ in hits("請您提供一下您的帳戶密碼。")] == ["pii.asks-secret"]


@pytest.mark.parametrize(("text", "rule"), [
    ("我 不 能", "forbidden.negative-language"),
    ("我們非常忙", "forbidden.bad-answers"),
    ("你找錯部門了", "forbidden.shifting-blame"),
    ("你、找、错、部、门、了。", "forbidden.shifting-blame"),
])
def test_the_issues_examples_match_their_rules(text: str, rule: str) -> None:
    assert [r for r, _ in hits(text)] == [rule]


def test_match_offsets_point_into_the_original_text() -> None:
    text = "好的，你 找 錯 部 門 了。"
    [h] = scan_text(CFG, text)
    assert text[h.start:h.end] == h.match == "你 找 錯 部 門 了"


def test_rules_apply_to_the_agent_only_by_default() -> None:
    assert hits("我不能登录", "caller") == []
    assert hits("我不能登录", "agent") == [("forbidden.negative-language", "我不能")]
    assert hits("我不能登录", "unknown") == [("forbidden.negative-language", "我不能")]


def test_a_caller_scoped_rule_applies_to_callers_only() -> None:
    m = Matcher([PhraseRule(id="caller.threat", category="forbidden", severity="low", speaker="caller",
                            phrases=["投诉你"], source="test")])
    assert [h.rule for h in m.find("我要投诉你", "caller")] == ["caller.threat"]
    assert m.find("我要投诉你", "agent") == []


def test_allow_phrases_suppress_the_polite_near_misses() -> None:
    assert hits("请您耐心等候，我马上为您查询。") == []
    assert hits("不知道您还有什么问题吗？") == []
    assert hits("最近师傅们忙不过来。") == []
    assert hits("不知道。") == [("forbidden.refusal", "不知道")]
    assert hits("不知道现在是否方便同您讲话？") == []  # the seeds' own courtesy question (001)
    assert hits("不知道您是否满意我们的服务？") == []


def test_words_holding_不过_are_not_the_conjunction_but_the_conjunction_before_such_words_is() -> None:
    for polite in ("优惠券永不过期，您放心用。", "您这个要求并不过分。", "过不过保修期都可以来修。"):
        assert hits(polite) == [], polite
    for but in ("不过期限只有七天。", "不过分期付款要手续费。", "不过问题是配件没货了。"):
        assert hits(but) == [("forbidden.but", "不过")], but


def test_an_offer_to_help_if_the_caller_does_not_know_or_understand_is_no_breach() -> None:
    assert hits("如果您不知道型号，我帮您查。") == []
    assert hits("要是你不知道密码，可以重置。") == []
    assert hits("如果你不明白的话，我再讲一遍。") == []
    assert hits("你不明白，这是规定。") == [("forbidden.doubting-caller", "你不明白")]
    assert hits("你不知道吗？早就说过了。") == [("forbidden.rude", "你不知道")]


def test_the_caller_not_knowing_is_no_bar_when_the_clause_concedes_it() -> None:
    # set62: a polite 您不知道密码也没关系, which the audio heard as 你不知道 (Whisper swaps 您 and 你)
    assert hits("你不知道密码也没关系，我给您发个验证码。") == []
    assert hits("你不知道型号也可以报修。") == []
    assert hits("你不知道吧，这个要先断电。") == [("forbidden.rude", "你不知道吧")]


def test_a_breach_the_asr_wrote_with_您_for_你_is_not_taken_for_a_polite_question() -> None:
    # 这个我真的不知道，你问别人吧, as Whisper wrote it on a scripted call
    assert hits("这个我真的不知道您文便人怕。") == [("forbidden.refusal", "不知道")]


def test_a_guess_offered_as_the_answer_is_vague_a_check_with_the_caller_is_not() -> None:
    # the shipped vague rule's hedged words (应该, 差不多): only in a clause ending in 吧 said as no question
    assert [r for r, _ in hits("退款应该是明天能到吧。")] == ["vague.ambiguous"]
    assert [r for r, _ in hits("师傅差不多下午三点到吧，您在家等一下。")] == ["vague.ambiguous"]
    assert hits("退款应该明天能到，到了会有短信。") == []
    assert hits("您应该已经收到短信了吧") == []  # checks a fact with the caller
    assert hits("退款应该明天能到吧？") == []
    assert hits("这是我应该做的吧，不用客气。") == []


def test_快点_after_the_agents_own_我_hurries_someone_for_the_caller() -> None:
    # the shipped rude rule's not_after_me: the ASR loses who is hurried (催仓库快点发货 as a set92 call wrote it)
    assert hits("我已天最长苦快点, 她我只嫁面前长无穷人送到。") == []
    assert hits("我这边快点帮您把单子提交上去。") == []
    assert [r for r, _ in hits("我说你快点把订单号报一下")] == ["forbidden.rude"]  # said to the caller
    assert [r for r, _ in hits("快点，我这边还有电话。")] == ["forbidden.rude"]  # another clause
    assert "forbidden.rude" in [r for r, _ in hits("我们这边正在查，你快一点。")]


def test_a_not_after_me_word_the_rule_never_matches_is_a_config_error() -> None:
    rule = {"id": "r", "category": "forbidden", "severity": "low", "phrases": ["快点"], "source": "test"}
    assert PhraseRule(**rule, not_after_me=["快点"]).not_after_me == ["快点"]
    with pytest.raises(ValidationError, match=r"not_after_me names \['快快'\]"):
        PhraseRule(**rule, not_after_me=["快快"])


def test_the_caller_not_knowing_is_rude_only_as_a_rhetorical_question() -> None:
    # the shipped rude rule's rhetorical words (您不知道): only in a clause ending in 吗
    assert [r for r, _ in hits("您不知道电饭煲不能干烧吗？")] == ["forbidden.rude"]
    assert [r for r, _ in hits("这个按钮在哪您都不知道吗")] == ["forbidden.rude"]  # the ASR left the mark out
    assert hits("您不知道怎么操作也没关系，我一步一步教您。") == []
    assert hits("您不知道型号的话，我帮您查。") == []
    assert hits("您不知道的话我帮您查一下好吗？") == []  # the 吗 asks the agent's offer


def test_the_agent_not_knowing_whether_is_no_polite_question() -> None:
    # 不知道您…X不X at a clause's start asks the caller; after the agent's own 我 it says what the agent does not know
    assert hits("不知道您明天方不方便") == []
    assert [r for r, _ in hits("我不知道您这个型号支不支持。")] == ["forbidden.refusal"]
    assert hits("我想问一下您，不知道您明天方不方便") == []
    assert hits("我不知道您明天方便吗？") == []  # asked outright


def test_a_vague_word_in_a_question_asked_outright_asks_the_caller_to_estimate() -> None:
    assert hits("当时冷冻室里大概放了些什么？") == []
    assert [r for r, _ in hits("大概放了些什么")] == ["vague.ambiguous"]  # no question asked: a hedge
    assert [r for r, _ in hits("师傅大概下午到，您在家吗？")] == ["vague.ambiguous"]  # the question is another clause


def test_the_seeds_preferred_hedge_with_its_offer_is_no_flag_and_without_it_a_low_one() -> None:
    assert scan_text(CFG, "我不能肯定，但我可以帮你想想办法。") == []
    assert hits("我不能肯定是哪个零件坏了，但我可以先安排师傅上门检测。") == []
    [h] = scan_text(CFG, "这个我不能肯定，我得问问网点。")
    assert (h.rule, h.severity) == ("forbidden.uncertain", "low")
    # the offer must come with the hedge: 但 in a later clause answers something else
    assert [r for r, _ in hits("我不能确定师傅几点到，您再等等，但我可以帮您催。")] == ["forbidden.uncertain"]


def test_a_limit_said_with_what_the_agent_does_at_once_is_no_negative_language() -> None:
    assert hits("我这边没办法直接改地址，但我可以马上帮您转给调度。") == []
    assert hits("这个我不能打包票，但我现在就去催仓库。") == []
    assert [r for r, _ in hits("我这边没办法直接改地址，您自己找快递吧。")] == ["forbidden.negative-language"]


def test_what_a_rule_suggests_saying_instead_is_not_flagged_itself() -> None:
    # A reviewer shows the agent the suggestion; it must pass the rules it is shown for.
    for rule in CFG.qa.phrases:
        assert scan_text(CFG, rule.suggestion or "") == [], (rule.id, rule.suggestion)
    assert hits("可能是明天。") == [("vague.ambiguous", "可能")]


def test_longer_phrase_of_the_same_category_subsumes_the_shorter() -> None:
    assert hits("我不知道你去问问其他部门吧") == [("forbidden.bad-answers", "我不知道你去问问其他部门吧")]
    assert hits("我不能给你他的手机号码") == [("forbidden.shifting-blame", "我不能给你他的手机号码")]


def test_categories_do_not_subsume_each_other() -> None:
    assert sorted(hits("可能要等一周，不过我们会尽量。")) == [("forbidden.but", "不过"), ("vague.ambiguous", "可能")]


def test_homophone_errors_of_the_asr_match_by_pinyin() -> None:
    assert hits("我门非常忙。") == [("forbidden.bad-answers", "我门非常忙")]
    assert hits("你找措部门了") == [("forbidden.shifting-blame", "你找措部门了")]
    [h] = scan_text(CFG, "这不是我的措")
    assert (h.rule, h.how) == ("forbidden.rude", "pinyin")


def test_two_character_phrases_are_not_matched_by_sound() -> None:
    assert hits("您可以步行到最近的服务站。") == []  # 步行 sounds like 不行


def test_matcher_without_pinyin_misses_homophones() -> None:
    m = Matcher(CFG.qa.phrases, pinyin=False)
    assert m.find("我门非常忙") == []
    assert [h.rule for h in m.find("我们非常忙")] == ["forbidden.bad-answers"]


def test_matcher_scales_to_a_thousand_phrases() -> None:
    rules = [PhraseRule(id=f"r{i}", category="forbidden", severity="low", phrases=[f"禁语{i:04d}号"], source="t")
             for i in range(1000)]
    m = Matcher(rules)
    assert [h.rule for h in m.find("他说了禁语0999号和禁语0007号")] == ["r999", "r7"]


def test_checksums() -> None:
    assert id_card_valid("110105199003071239")
    assert not id_card_valid("110105199003071238")  # wrong check digit
    assert id_card_valid("32010219781123456x")
    assert id_card_valid("110105900307123")  # legacy 15-digit
    assert luhn_valid("6222021234567894") and not luhn_valid("6222021234567895")


@pytest.mark.parametrize(("text", "kinds"), [
    ("我的电话是13812345678", ["phone"]),
    ("幺三八 一二三四 五六七八", ["phone"]),
    ("一八六两四六八一三五七", ["phone"]),
    ("洞幺三八", []),
    ("138-1234-5678", ["phone"]),
    ("+86 138 1234 5678", ["phone"]),
    ("１３８１２３４５６７８", ["phone"]),
    ("身份证110105199003071239", ["id_card"]),
    ("身份证幺幺零幺零五幺九九零零三零七幺二三九", ["id_card"]),
    ("三二零幺零二幺九七八幺幺二三四五六叉", ["id_card"]),
    ("身份证110105199003071238", ["id_card"]),  # bad check digit: after 身份证 still an ID (issue 13)
    # ... and without context where a province's code and a past birth date say so (a digit misheard)
    ("110105199003071238", ["id_card"]),
    ("990105199003071238", []),  # no province 99: without context only a valid check digit proves one
    ("卡号6222 0212 3456 7894", ["bank_card"]),
    ("卡号6222 0212 3456 7895", ["bank_card"]),  # fails Luhn: after 卡号 still a card (issue 13)
    # ... and without context, a UnionPay card's shape (62, 16-19 digits: blind PII sets s22-s32 label every such
    # number a card, a made-up or misread one failing Luhn); another number failing Luhn is none
    ("6222 0212 3456 7895", ["bank_card"]),
    ("5222 0212 3456 7895", []),
    ("13812345678和13987654321", ["phone", "phone"]),
    ("订单号20240315123456789012", []),
    ("快递单号SF1234567890123", []),
    ("客服电话400-820-8208", []),
    ("电话12345678901", ["phone"]),  # 12x is no mobile prefix, but after 电话 a one-digit slip
    ("12345678901", []),  # ... and without context no phone
])
def test_pii_kinds(text: str, kinds: list[str]) -> None:
    assert [m.kind for m in find_pii(text)] == kinds


def test_mask_keeps_the_last_four_digits_in_whatever_form() -> None:
    assert mask("电话13812345678。") == "电话*******5678。"
    assert mask("幺三八 一二三四 五六七八") == "*** **** 五六七八"
    assert mask("138-1234-5678") == "***-****-5678"
    assert mask("身份证32010219781123456X") == "身份证**************456X"
    assert mask("没有号码") == "没有号码"


def test_pii_is_flagged_for_the_agent_and_only_masked_for_the_caller() -> None:
    assert hits("您的手机号是一三九一二三四五六七八吗", "agent") == [("pii.spoken", "一三九一二三四五六七八")]
    assert hits("我的手机号是一三九一二三四五六七八", "caller") == []


def test_mainly_is_no_condition_and_the_agents_own_doubt_is_read() -> None:
    # 主要是 holds 要是 (a condition word) but sets no condition: the blame after it stands (blind set s41_10)
    assert [r for r, _ in hits("退款慢主要是财务那边拖着，我这边早就提交了。")] == ["forbidden.shifting-blame"]
    assert hits("要是财务那边拖着，我马上帮您催。") == []
    # every labelled line holding 是不是您自己 doubts the caller (48 of 48)
    assert [r for r, _ in hits("门把手断成这样，是不是您自己用力掰坏的？")] == ["forbidden.doubting-caller"]
