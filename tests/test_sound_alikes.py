"""Text hits a sound-alike everyday word reads better (config.yaml ``sounds_like``), on real speech.

The ASR wrote 快点 where the agent said 快递 (the scripted calls); the hit must then be unsure, while a
快点 the agent really said stays a sure one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from audio_factory import AGENT_VOICE, mulaw_roundtrip

from recordings.audio import write_wav
from recordings.speech import synthesize_pcm
from settings import ConfigError, load_config
from transcribe.engine import AsrSegment, CallResult, Transcriber
from transcribe.spotting import sound_alikes, spot_phrases

ROOT = Path(__file__).resolve().parent.parent
CFG = load_config(ROOT / "config.yaml")


def test_the_shipped_rules_name_the_delivery_word_for_hurry_up() -> None:
    assert sound_alikes(CFG) == {"快点": ["快递"]}


def test_a_sound_alike_for_a_phrase_the_rule_lacks_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text((ROOT / "config.yaml").read_text("utf-8").replace("{快点: [快递]}", "{快电: [快递]}"), "utf-8")
    with pytest.raises(ConfigError, match=r"sounds_like names \['快电'\], which are not among") as err:
        load_config(path)
    assert "\n" not in str(err.value) and str(err.value).startswith(f"{path}:")


@pytest.mark.slow
@pytest.mark.parametrize(("said", "doubted"), [("您去找快递公司吧。", True), ("您的快递明天到。", True),
                                               ("快点说，我很忙。", False), ("请快点处理。", False)])
def test_a_hit_is_doubted_only_where_the_sound_alike_word_reads_the_audio_better(tmp_path: Path, said: str,
                                                                                 doubted: bool) -> None:
    quiet = np.zeros(8000, np.int16)
    speech = mulaw_roundtrip(synthesize_pcm(said, AGENT_VOICE))
    wav = write_wav(tmp_path / "agent.wav", np.concatenate([quiet, speech, quiet]))
    end = (2 * quiet.size + speech.size) / 8000
    written = said.replace("快递", "快点")  # what the ASR wrote for the first one
    result = CallResult(end, (AsrSegment(0.8, end - 0.8, written, "agent", -0.5, 0.1),), ())
    rows = [r for r in spot_phrases(Transcriber(), CFG, wav, result) if r.get("phrase") == "快点"]
    assert rows and rows[0]["exact"]
    assert (rows[0]["rival"] == "快递") is doubted
    assert rows[0]["accepted"] is not doubted and (rows[0]["confidence"] < 0.5) is doubted
