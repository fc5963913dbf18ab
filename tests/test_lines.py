"""The opening and closing lines checked against the agent's audio (transcribe/lines.py).

Fast: which parts of the configured lines are scored, and where. Slow: the real Whisper base
model on synthesized phone speech, one polite agent and one who neither opens nor closes as
the policy says; the decision must come from the audio, whatever the free transcript wrote.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from audio_factory import build_call
from qa_calls import config

from transcribe.engine import AsrSegment, CallResult, TrackPlan, TrackResult, Transcriber
from transcribe.lines import (
    CLOSING_S,
    check_lines,
    closing_phrases,
    closing_window,
    expected_lines,
    opening_parts,
    opening_window,
    shared_windows,
)
from transcribe.verify import PhraseScorer

CFG = config()


def test_the_opening_is_scored_as_its_company_and_its_offer_of_help() -> None:
    parts = opening_parts(CFG)
    assert set(parts) == {"company", "offer"}
    assert parts["company"] == ["海尔斯科技"]  # the name: 这里是 comes before any firm's name
    assert {"有什么可以帮您", "请问有什么可以帮您"} <= set(parts["offer"])
    # 再见 alone is two syllables: it scored high in the middle of calls too (and is curt alone)
    assert "再见" not in closing_phrases(CFG) and "感谢您的来电" in closing_phrases(CFG)
    # courteous ends counted only where written: 有事随时 would be "heard" in a curt 有事再打过来
    assert {"有事随时", "不打扰您了"} <= set(CFG.qa.closing.written) and "有事随时" not in closing_phrases(CFG)


def test_the_opening_line_is_expected_as_its_greeting_with_the_company_and_its_offer() -> None:
    # Garbles inside either stretch are the line's own words (PhraseScorer.score_segments' lines);
    # 您好 alone would be too short to say so.
    assert expected_lines(CFG) == ["您好这里是海尔斯科技", "请问有什么可以帮您"]
    line = "您好，欢迎致电东山电梯，我是客服，请问您遇到了什么问题？"
    other = CFG.model_copy(update={"opening_line": line, "company": "东山电梯"})
    assert expected_lines(other) == ["您好欢迎致电东山电梯", "我是客服请问您遇到了什么问题"]


def _result(agent_speech: tuple[tuple[float, float], ...], caller_starts: list[float]) -> CallResult:
    callers = tuple(AsrSegment(s, s + 2.0, "嗯", "caller", -0.3, 0.0) for s in caller_starts)
    tracks = (TrackResult("agent", "a.wav", 90.0, 10.0, (), (), False, None, 0.1, speech=agent_speech),
              TrackResult("caller", "c.wav", 90.0, 4.0, callers, (), False, None, 0.1))
    return CallResult(90.0, callers, tracks)


def test_the_first_turn_runs_from_pickup_until_the_caller_answers_the_agent() -> None:
    plan = TrackPlan(decode=((20.0, 80.0),))
    # the caller's "喂" over the pickup does not end the agent's turn; the reply after it does
    result = _result(((20.5, 29.0), (40.0, 45.0), (60.0, 66.0)), [20.2, 31.0])
    assert opening_window(CFG, result, plan) == (20.0, 31.0)
    assert closing_window(result, plan) == (58.0, 66.3)
    # without a timeline the closing is not checked: the last speech may be the IVR's goodbye
    assert closing_window(result, None) is None


def test_a_caller_talking_over_the_opening_does_not_cut_it_short() -> None:
    # the demo's polite call: the caller says 你好，我的订单还没有收到 while the agent still greets
    plan = TrackPlan(decode=((20.0, 80.0),))
    result = _result(((20.5, 29.0), (40.0, 45.0)), [25.0, 33.0])
    assert opening_window(CFG, result, plan) == (20.0, 29.3)


def test_an_agent_silent_past_the_limit_is_scored_on_the_silence_it_left() -> None:
    plan = TrackPlan(decode=((20.0, 80.0),))
    result = _result(((40.0, 45.0),), [])
    assert opening_window(CFG, result, plan) == (20.0, 20.0 + CFG.qa.opening.within_s)


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    return Transcriber()


def _rows(transcriber: Transcriber, tmp_path: Path, agent_lines: list[str], *, lose_last: bool = False,
          opening_written: str | None = None, written_last_s: float | None = None
          ) -> dict[tuple[str, str], dict[str, Any]]:
    """The line check's rows for an agent saying ``agent_lines`` (a caller speaks after the first).
    ``lose_last``: the ASR's text of the closing window is dropped, as when Whisper loops there.
    ``opening_written``: what the ASR is taken to have written for the agent's first turn, over its
    last ``written_last_s`` seconds only if given (the ASR dropped the rest)."""
    script = [("agent", None, agent_lines[0]), ("caller", None, "我想查一下我的订单。"),
              *(("agent", None, line) for line in agent_lines[1:])]
    call = build_call(script, tmp_path, "call", mulaw=True, tail=1.5)
    plan = TrackPlan(decode=((0.0, call.duration),))
    result = transcriber.transcribe_call(call.caller, call.agent, plan)
    if lose_last:
        lost = call.turns[-1].end - CLOSING_S - 0.5
        result = replace(result, segments=tuple(s for s in result.segments if s.speaker != "agent" or s.end < lost))
    if opening_written is not None:
        first = [s for s in result.segments if s.speaker == "agent" and s.end <= call.turns[1].start]
        start = first[0].start if written_last_s is None else first[-1].end - written_last_s
        written = replace(first[0], start=start, end=first[-1].end, text=opening_written, words=None)
        result = replace(result, segments=(written, *(s for s in result.segments if s not in first)))
    rows = check_lines(PhraseScorer(transcriber.whisper), CFG, transcriber.load_audio(call.agent), result, plan)
    return {(r["check"], r["part"]): r for r in rows}


def _checked(transcriber: Transcriber, tmp_path: Path, agent_lines: list[str], *, lose_last: bool = False
             ) -> dict[tuple[str, str], bool]:
    """What the line check heard of an agent saying ``agent_lines``."""
    return {k: r["said"] for k, r in _rows(transcriber, tmp_path, agent_lines, lose_last=lose_last).items()}


@pytest.mark.slow
def test_a_polite_agent_is_heard_opening_and_closing(transcriber: Transcriber, tmp_path: Path) -> None:
    said = _checked(transcriber, tmp_path, ["您好，这里是海尔斯科技，请问有什么可以帮您？",
                                            "好的，包裹明天上午就会送到。", "感谢您的来电，再见。"])
    assert said == {("opening", "company"): True, ("opening", "offer"): True, ("closing", "closing"): True}


@pytest.mark.slow
def test_a_curt_agent_is_heard_missing_both(transcriber: Transcriber, tmp_path: Path) -> None:
    said = _checked(transcriber, tmp_path, ["喂，什么事？", "好的，包裹明天上午就会送到。", "好了，就这样吧。"])
    assert said == {("opening", "company"): False, ("opening", "offer"): False, ("closing", "closing"): False}


@pytest.mark.slow
def test_another_firms_name_is_a_sure_miss_of_the_company(transcriber: Transcriber, tmp_path: Path) -> None:
    # 这里是 is said before any firm's name: scored with it, 这里是东方电器 was only unsure.
    rows = _rows(transcriber, tmp_path, ["您好，这里是东方电器，请问有什么可以帮您？",
                                         "好的，包裹明天上午就会送到。", "感谢您的来电，再见。"])
    company = rows["opening", "company"]
    assert not company["said"] and company["confidence"] < 0.5, company
    assert rows["opening", "offer"]["said"]


@pytest.mark.slow
def test_a_company_name_the_asr_wrote_in_latin_letters_is_heard_there(transcriber: Transcriber,
                                                                      tmp_path: Path) -> None:  # fmt: skip
    # Whisper writes a name it cannot spell in characters in Latin letters ("IrSkirkey"), which the
    # sound-alike search cannot read; scored at a later stretch sounding like it, the name was unheard.
    rows = _rows(transcriber, tmp_path, ["您好，这里是海尔斯科技，请问有什么可以帮您？",
                                         "好的，包裹明天上午就会送到。", "感谢您的来电，再见。"],
                 opening_written="您好, 这里是IrSkirkey前文也有神马克尔帕宁其")
    company = rows["opening", "company"]
    assert company["said"] and company["heard"].startswith("IrSkirkey"), company


@pytest.mark.slow
def test_a_closing_the_asr_wrote_nothing_for_is_found_after_other_words(transcriber: Transcriber,
                                                                         tmp_path: Path) -> None:  # fmt: skip
    lines = ["您好，这里是海尔斯科技，请问有什么可以帮您？", "好的，包裹明天上午就会送到。"]
    said = _checked(transcriber, tmp_path, [*lines, "给您添麻烦了，感谢您的来电，再见。"], lose_last=True)
    assert said[("closing", "closing")]
    unsaid = _checked(transcriber, tmp_path / "curt", [*lines, "好了，就这样吧，别的没办法。"], lose_last=True)
    assert not unsaid[("closing", "closing")]


@pytest.mark.slow
def test_a_closing_with_the_positive_ending_alone_is_heard(transcriber: Transcriber, tmp_path: Path) -> None:
    # The rulebook asks for a positive ending (以积极的语言结束); an agent closing with 祝您生活愉快，再见
    # and no thanks closed politely, and 再见 alone is too short to hear (held-out set10: written 此理事).
    lines = ["您好，这里是海尔斯科技，请问有什么可以帮您？", "好的，包裹明天上午就会送到。", "祝您生活愉快，再见。"]
    closing = _rows(transcriber, tmp_path, lines, lose_last=True)["closing", "closing"]
    assert closing["said"] and closing["phrase"] == "祝您生活愉快", closing


class _NoAudio:
    """A scorer that must not be asked: every part is in the transcript."""

    def encode(self, audio: object) -> object:
        raise AssertionError("a part the transcript holds was scored against the audio")


@pytest.mark.parametrize(("opening", "closing"), [
    ("您好，这里是海尔斯科技，请问有什么可以帮您？", "感谢您的来电，再见。"),  # word for word
    # as the text rules read them (qa/rules.py): a syllable off (爱 for 海, 办 for 帮), and a courteous end
    # written only (不打扰您了)
    ("您好,这里是爱尔斯科技,前文有什么可以办您?", "好的，那就不打扰您了，再见。"),
])
def test_parts_the_transcript_holds_as_the_text_rules_read_them_are_not_scored(opening: str, closing: str) -> None:
    plan = TrackPlan(decode=((20.0, 80.0),))
    said = (AsrSegment(20.5, 24.0, opening, "agent", -0.2, 0.0), AsrSegment(60.0, 63.0, closing, "agent", -0.2, 0.0))
    tracks = (TrackResult("agent", "a.wav", 90.0, 10.0, said, (), False, None, 0.1,
                          speech=((20.5, 24.0), (60.0, 63.0))),)
    result = CallResult(90.0, said, tracks)
    rows = check_lines(_NoAudio(), CFG, None, result, plan)  # type: ignore[arg-type]
    assert {(r["check"], r["part"], r["said"], r["pmi"]) for r in rows} == {
        ("opening", "company", True, None), ("opening", "offer", True, None), ("closing", "closing", True, None)}
    assert shared_windows(CFG, result, plan) == []  # nothing to encode for phrase candidates to share


@pytest.mark.slow
def test_an_offer_after_the_company_is_heard_where_the_asr_wrote_nothing(transcriber: Transcriber,
                                                                         tmp_path: Path) -> None:  # fmt: skip
    # held-out set22: the ASR dropped an opening whose offer came after a greeting and the company; scored
    # from pickup alone, 为您服务 was unheard and a polite agent was flagged
    lines = ["好的，包裹明天上午就会送到。", "感谢您的来电，再见。"]
    rows = _rows(transcriber, tmp_path, ["您好，海尔斯科技客服中心，很高兴为您服务，请问有什么需要？", *lines],
                 opening_written="")
    assert rows["opening", "company"]["said"] and rows["opening", "offer"]["said"], rows
    rows = _rows(transcriber, tmp_path / "no-offer", ["您好，海尔斯科技客服中心，您说吧，我听着。", *lines],
                 opening_written="")
    assert not rows["opening", "offer"]["said"], rows


@pytest.mark.slow
def test_an_opening_the_asr_wrote_only_the_end_of_is_heard_where_it_began(transcriber: Transcriber,
                                                                          tmp_path: Path) -> None:  # fmt: skip
    # held-out set69: the ASR wrote only 您有什么关注, 10 s after pickup, for a greeting with the company and an
    # offer; scored from pickup alone the offer read 0.36, and a polite agent drew a sure opening flag
    opening = "您好，海尔斯科技售后服务，很高兴为您服务，请问您需要什么帮助？"
    lines = ["好的，包裹明天上午就会送到。", "感谢您的来电，再见。"]
    rows = _rows(transcriber, tmp_path, [opening, *lines], opening_written="您有什么关注", written_last_s=2.5)
    assert rows["opening", "company"]["said"] and rows["opening", "offer"]["said"], rows
    rows = _rows(transcriber, tmp_path / "no-offer", ["您好，海尔斯科技售后服务，您说吧，我听着。", *lines],
                 opening_written="我听着", written_last_s=1.5)
    assert not rows["opening", "offer"]["said"], rows
