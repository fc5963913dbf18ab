"""A hit inside one of its rule's allowed wordings, which the ASR garbled, on real speech.

The policy's own apology 可能我没有说清楚 is allowed (vague.ambiguous ``allow``); a held-out polite
agent said it and the ASR wrote 可能我没有,我先住, so the text rules flagged 可能 and the audio
confirmed it: a sure false flag. The allowed wording, put over the stretch that sounds like it,
reads that audio about as well as the hit does, so the hit must be unsure; a 可能 said as a hedge
stays sure, and so does one next to a word that sounds like a one-syllable longer wording (师傅可能
written 是否可能 reads better as 不可能).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from audio_factory import agent_says

from settings import load_config
from transcribe.engine import AsrSegment, CallResult, Transcriber
from transcribe.spotting import allowed_wordings, spot_phrases

ROOT = Path(__file__).resolve().parent.parent
CFG = load_config(ROOT / "config.yaml")


def test_a_phrase_is_checked_against_the_allowed_wordings_of_its_rule_that_hold_it() -> None:
    wordings = allowed_wordings(CFG)
    assert "可能我没有说清楚" in wordings["可能"] and "不可能" in wordings["可能"]
    assert "帮您看看情况" not in wordings["可能"]  # allowed by the same rule, for 看情况
    assert "帮您看看情况" in wordings["看情况"]
    assert all(phrase in w and w != phrase for phrase, ws in wordings.items() for w in ws)


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
    wav, end = agent_says(tmp_path / "agent.wav", said, pad_s=1.0)
    result = CallResult(end, (AsrSegment(0.8, end - 0.8, written or said, "agent", -0.5, 0.1),), ())
    rows = [r for r in spot_phrases(Transcriber(), CFG, wav, result) if r.get("phrase") == "可能"]
    assert len(rows) == 1 and rows[0]["exact"], rows
    assert (rows[0]["rival"] is not None) is doubted, rows
    assert (rows[0]["confidence"] < 0.5) is doubted, rows
