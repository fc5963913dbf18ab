"""The loop guard on text (no model): loops inside one segment, longer n-grams, and one
text repeated across consecutive segments (issue 11, part 4).

The guard must also leave real speech alone: every sentence this repo's scripted calls,
prompts and labelled QA set say is run through it, alone, doubled and tripled as
consecutive segments (people do say 好的 twice).

Decision on the copies across segments: the first of a run is kept. It passed the guard
alone and is what the decoder made of real audio before it began copying; the copies
add no words, and dropping them all would lose that utterance (a polite agent's line
is then missing, which the closing and opening rules read as a breach).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from audio_factory import all_sentences

from settings import load_config
from transcribe.normalize import canonical
from transcribe.options import AsrOptions
from transcribe.textguard import TextGuard, compression_ratio, repetition_span

ROOT = Path(__file__).resolve().parent.parent
GUARD = TextGuard(AsrOptions())
OLD_GUARD = TextGuard(AsrOptions(loop_long_repeats=99))  # the rule before: n-grams of up to 8, 4 repeats


def real_sentences() -> list[str]:
    """Every sentence the repo's synthetic calls, prompts and labelled utterances say."""
    cfg = load_config(ROOT / "config.yaml")
    out = list(all_sentences())
    out += [cfg.opening_line, cfg.prompts.invalid, cfg.prompts.timeout, cfg.prompts.goodbye, cfg.prompts.transfer]
    out += [m.prompt for m in cfg.menus.values()]
    for line in (ROOT / "tests" / "qa_labelled.tsv").read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if line.startswith("#") or len(cols) < 2:
            continue
        out.append(cols[1])
    return [s for s in dict.fromkeys(out) if canonical(s)]


def test_a_nine_character_clause_looping_is_caught() -> None:
    loop = "这么多年,我只能理解," * 4
    assert GUARD.reject_reason(loop) == "repetition"
    # a fixed 8-character bound missed it (the old rule)
    assert repetition_span(canonical(loop), 8, 4) is None
    # three times in a row is a loop too for a clause this long, and after real words
    assert GUARD.reject_reason("我明白您的意思。" + "这么多年,我只能理解," * 3) == "repetition"


def test_long_clauses_of_any_length_are_caught() -> None:
    clause = "您的订单已经在配送途中了请耐心等待"  # 17 characters
    assert GUARD.reject_reason(clause * 3) == "repetition"
    assert GUARD.reject_reason(clause * 2) is None  # saying a thing twice happens


def test_a_loop_garbled_a_little_each_time_round_is_caught() -> None:
    # held-out set70: over an agent's 25 s (the breach 您就等着吧 among them), Whisper wrote its garble of the
    # opening four times with a character or two between; zlib's ratio (2.25) and the runs in a row missed it
    loop = "您有此么是爱而死,可其此么是爱而死,可其此此么是爱而死,可其此之此么是爱而死,可其此巧。"
    assert compression_ratio(loop) < AsrOptions().compression_ratio_threshold
    assert repetition_span(canonical(loop), len(loop) // 3, 3, 6) is None
    assert GUARD.reject_reason(loop) == "repetition"
    # a clause said twice with words between is speech, and a list's items are not one n-gram
    assert GUARD.reject_reason("请您先关闭总阀，再开窗通风，请您先关闭总阀。") is None
    assert GUARD.reject_reason("请按一号键，请按二号键，请按三号键，请按四号键") is None


def test_short_words_said_three_times_are_speech() -> None:
    for text in ("不行不行不行", "好的好的好的", "对不起对不起对不起", "我知道了我知道了我知道了"):
        assert GUARD.reject_reason(text) is None, text


def test_one_text_repeated_across_segments_keeps_the_first_and_drops_the_copies() -> None:
    texts = ["您好，这里是海尔斯科技，请问有什么可以帮您？"] + ["我已不知"] * 8 + ["感谢您的来电，再见。"]
    assert GUARD.repeated_segments(texts) == list(range(2, 9))  # the first 我已不知 (index 1) stays


def test_a_long_text_three_times_across_segments_is_a_loop_a_short_one_is_not() -> None:
    assert GUARD.repeated_segments(["这么多年，我只能理解"] * 3) == [1, 2]
    assert GUARD.repeated_segments(["好的"] * 3) == []
    assert GUARD.repeated_segments(["好的"] * 4) == [1, 2, 3]
    # punctuation and script differences do not hide a copy
    assert GUARD.repeated_segments(["我已不知", "我已不知。", "我已不知，", "我已不知"]) == [1, 2, 3]
    # not consecutive: each stays
    assert GUARD.repeated_segments(["好的", "嗯", "好的", "嗯", "好的", "嗯", "好的"]) == []


def test_segments_saying_one_text_once_or_more_are_counted_together() -> None:
    """Measured (held-out set10): Whisper copied its garble of the opening's 这里是 over an agent's
    answer and closing, two segments of it twice and two of it once. Decoded apart, that audio came
    out as the agent's words (然后点子弹 for 电子版发到; 主令成徒如快, 财见 for 祝您生活愉快，再见)."""
    agent = ["您好,此理事, I 儿子可其,", "前文有神,可以般宁,", "此理事,此理事,", "此理事,此理事,", "此理事,", "此理事,"]
    assert GUARD.repeated_segments(agent) == [3, 4, 5]
    assert GUARD.repeated_segments(["好的好的", "好的"]) == []  # three in all: speech
    assert GUARD.repeated_segments(["谢谢。", "谢谢。"]) == []  # 谢谢 is a word, not 谢 four times


def test_a_sentence_written_again_later_is_a_copy_for_the_second_pass_to_check() -> None:
    opening = "您好,这里是爱尔斯科技, 前文有什么可以唤临?"
    # measured: the opening written again, a syllable short, over audio that asked for an order number
    texts = [opening, "我想才以善良", "好,这里是爱尔斯科技, 前文有什么可以唤临?", "感谢您的来电，再见。"]
    assert GUARD.copied_segments(texts) == [2]
    assert GUARD.copied_segments(["好的", "嗯", "好的"]) == []  # short words come back often: not judged
    assert GUARD.copied_segments(["您的订单已经发货了", "您的订单已经签收了"]) == []  # same frame, other news
    # a copy is judged whatever lies between, and the first stays
    assert GUARD.copied_segments([opening, "感谢您的来电，再见。", "我想问一下", opening]) == [3]


@pytest.mark.parametrize("copies", [1, 2])
def test_no_real_sentence_is_taken_for_a_loop(copies: int) -> None:
    sentences = real_sentences()
    assert len(sentences) > 200
    rejected = [s for s in sentences if GUARD.reject_reason(s * copies) is not None]
    # known, from the rule before this one: "谢谢。谢谢。" is 谢 four times (one-character loops)
    assert rejected == ([] if copies == 1 else ["谢谢。"])
    assert [s for s in rejected if OLD_GUARD.reject_reason(s * copies) is None] == []  # nothing new
    # the same sentence as two segments in a row is kept (three of a long one: only the first)
    assert [s for s in sentences if GUARD.repeated_segments([s] * 2)] == []


def test_measure_false_drops_and_catches(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the figures quoted in AsrOptions' docstring (run with -s to see them)."""
    sentences = real_sentences()
    old_guard = OLD_GUARD
    loops = ["这么多年,我只能理解," * 4, "这么多年,我只能理解," * 3, "您的订单已经在配送途中了" * 3,
             "请问" * 75, "我已不知" * 8]
    new_caught = sum(GUARD.reject_reason(t) == "repetition" for t in loops)
    old_caught = sum(old_guard.reject_reason(t) == "repetition" for t in loops)
    false_new = sum(GUARD.reject_reason(s) is not None for s in sentences)
    doubled_new = sum(GUARD.reject_reason(s * 2) is not None for s in sentences)
    doubled_old = sum(old_guard.reject_reason(s * 2) is not None for s in sentences)
    with capsys.disabled():
        print(f"\nloop guard: {len(sentences)} real sentences, false drops {false_new} (said twice in one "
              f"segment: {doubled_new}, fixed 8-gram rule: {doubled_old}); loops caught {new_caught}/{len(loops)} "
              f"(fixed 8-gram rule: {old_caught}/{len(loops)})")
    assert new_caught == len(loops) and false_new == 0 and doubled_new == doubled_old


def test_the_engine_drops_the_copies_and_counts_them() -> None:
    """The guard inside the engine's clean-up step (decoded segments in, kept and dropped out)."""
    from types import SimpleNamespace

    from transcribe.engine import Transcriber

    def seg(start: float, text: str) -> SimpleNamespace:
        return SimpleNamespace(start=start, end=start + 1.5, text=text, avg_logprob=-0.4, no_speech_prob=0.1,
                               words=None)

    raw = [seg(0.0, "您好，这里是海尔斯科技。")] + [seg(2.0 + 2 * i, "我已不知") for i in range(8)]
    raw += [seg(20.0, "这么多年,我只能理解," * 3), seg(25.0, "感谢您的来电，再见。")]
    engine = Transcriber("unused", AsrOptions(), _model=object())  # no model: only the text clean-up runs
    kept, dropped = engine._clean(raw, "agent")
    assert [s.text for s in kept] == ["您好，这里是海尔斯科技。", "我已不知", "感谢您的来电，再见。"]
    assert kept[1].start == 2.0  # the first of the run, with its own time
    assert [(d.start, d.reason) for d in dropped] == [(4.0 + 2 * i, "repetition") for i in range(7)] + [
        (20.0, "repetition")]
