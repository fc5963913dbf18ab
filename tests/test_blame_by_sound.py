"""Blame in few words (不归我们管) found on the agent's audio where the ASR garbled it.

Held-out agents said 这不归我们管 and 出了问题不归我们管; Whisper base wrote 这部徽王门关 (set64, twice) and
不对我们观念 (set69). As a text-only wording it was missed each time; searched by sound (forbidden.shifting-blame's
phrases) the audio found all three (0.97, 0.99, 0.76 on the calls' recordings), and a polite 这个归我们管 does not
read as it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from spoken import CFG, phrase_rows

from transcribe.spotting import searched_phrases


def test_the_short_blame_is_searched_by_sound() -> None:
    assert "不归我们管" in searched_phrases(CFG)


@pytest.mark.slow
@pytest.mark.parametrize(("said", "written", "found"), [  # the first as Whisper wrote set64's
    ("水管是安装公司接的，这不归我们管，您找他们去吧。", "水管是安装公司接的,这部徽王门关,您朝他们去吧。", True),
    ("您放心，这个归我们管，我马上给您安排。", "您放心,这个对我们观,我马上给您安排。", False),
])  # fmt: skip
def test_a_garbled_short_blame_is_found_on_the_audio(tmp_path: Path, said: str, written: str, found: bool) -> None:
    rows = phrase_rows(tmp_path, said, written, "不归我们管")
    assert any(r["accepted"] and r["confidence"] >= 0.5 for r in rows) is found, rows
