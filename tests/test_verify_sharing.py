"""One encoder pass per window of the agent's audio (PhraseScorer.sharing, issue 11's cost bar).

The opening and closing checks (transcribe/lines.py) encode their windows; phrase candidates
lying inside one are scored on that encoding instead of a second pass over the same audio.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from audio_factory import AGENT_VOICE, FORBIDDEN_PHRASES, mulaw_roundtrip

from recordings.audio import write_wav
from recordings.speech import synthesize_pcm
from transcribe.engine import Transcriber
from transcribe.verdict import PhraseScore
from transcribe.verify import PhraseScorer, Spotted, resolve


def _garble(text: str, start: int, end: int, evidence: float) -> Spotted:
    score = PhraseScore("不行", text, start, end, False, 2, 0.25, 0.0, 2.0, evidence, 0.8, True)
    return Spotted("不行", 0, 1.0, 6.0, score)


def test_garbles_of_two_texts_on_one_shared_window_are_both_kept() -> None:
    # Two stretches of speech scored on the same (shared) window are different texts: their
    # character spans do not overlap each other, whatever their offsets say.
    first, second = _garble("不现，我不能带。", 0, 2, 1.0), _garble("不见，超过七天。", 0, 2, 0.5)
    assert resolve([first, second]) == [first, second]
    # Within one text, of two overlapping garbles the one with more evidence stays.
    assert resolve([first, _garble("不现，我不能带。", 0, 2, 0.2)]) == [first]


@pytest.mark.slow
def test_a_window_the_lines_encode_is_not_encoded_again_for_phrases(tmp_path: Path) -> None:
    transcriber = Transcriber()
    pad = np.zeros(4000, np.int16)
    speech = mulaw_roundtrip(synthesize_pcm("您好，这里是海尔斯科技。你找错部门了，发票要打财务的电话。", AGENT_VOICE))
    wav = write_wav(tmp_path / "agent.wav", np.concatenate([pad, speech, pad]))
    audio = transcriber.load_audio(wav)
    segments = transcriber.transcribe_track(wav, "agent").segments
    whole = (0.0, audio.size / 16000)

    alone = PhraseScorer(transcriber.whisper)
    found = resolve(alone.score_segments(audio, segments, FORBIDDEN_PHRASES))
    alone.encode_window(audio, *whole)  # what the opening check encodes
    shared = PhraseScorer(transcriber.whisper)
    with shared.sharing([whole]):
        got = resolve(shared.score_segments(audio, segments, FORBIDDEN_PHRASES))
        passes = shared.encodes
        shared.encode_window(audio, *whole)
        assert shared.encodes == passes  # the opening check reuses the phrases' pass
    assert [s.phrase for s in found] == [s.phrase for s in got] == ["你找错部门了"]
    assert shared.encodes < alone.encodes
    assert abs(found[0].score.confidence - got[0].score.confidence) < 0.1
    # Outside sharing() nothing is kept: another call's audio is encoded anew.
    before = shared.encodes
    shared.encode_window(audio, *whole)
    assert shared.encodes == before + 1
