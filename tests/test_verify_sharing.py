"""One encoder pass per window of the agent's audio (PhraseScorer.sharing, issue 11's cost bar).

The opening and closing checks (transcribe/lines.py) encode their windows; phrase candidates
lying inside one are scored on a cut of that encoding instead of a second pass over the same audio.
"""

from __future__ import annotations

from pathlib import Path

import ctranslate2
import numpy as np
import pytest
from audio_factory import FORBIDDEN_PHRASES, agent_says

from transcribe.engine import AsrSegment, Transcriber, Word
from transcribe.verify import Encoded, PhraseScorer, resolve


def test_a_cut_of_an_encoding_reads_the_seconds_asked_for() -> None:
    # 100 encoder frames of 20 ms: two seconds of audio, each frame holding its own index.
    frames = np.arange(100, dtype=np.float32).reshape(1, 100, 1).repeat(4, axis=2)
    encoded = Encoded(ctranslate2.StorageView.from_array(frames), 200)
    cut = PhraseScorer.within(encoded, 0.5, 1.0)
    assert cut.frames == 50 and np.asarray(cut.output)[0, :, 0].tolist() == list(range(25, 50))
    assert np.asarray(PhraseScorer.within(encoded, 1.5, 9.0).output)[0, :, 0].tolist() == list(range(75, 100))
    # Past the end, one frame is left to read (the decoder needs audio to attend to).
    assert np.asarray(PhraseScorer.after(encoded, 5.0).output)[0, :, 0].tolist() == [99]


def _spread(text: str, start: float, end: float) -> AsrSegment:
    """A segment whose characters are spread evenly over start..end (word timestamps)."""
    step = (end - start) / len(text)
    words = tuple(Word(start + k * step, start + (k + 1) * step, c, 0.9) for k, c in enumerate(text))
    return AsrSegment(start, end, text, "agent", -0.5, 0.1, words)


@pytest.mark.slow
def test_a_window_the_lines_encode_is_not_encoded_again_for_phrases(tmp_path: Path) -> None:
    # The agent says a forbidden phrase that the free transcript garbled (as Whisper base wrote it
    # in bench/asr_accuracy.py), two seconds into a window the opening check encodes anyway.
    transcriber = Transcriber()
    wav, _ = agent_says(tmp_path / "agent.wav", "你找错部门了，发票要打财务的电话。", pad_s=2.0)
    audio = transcriber.load_audio(wav)
    whole = (0.0, audio.size / 16000)
    segments = [_spread("您早说不门了，发票要打财务的电话。", 2.0, whole[1] - 2.0)]

    alone = PhraseScorer(transcriber.whisper)
    found = alone.score_segments(audio, segments, FORBIDDEN_PHRASES)
    assert [s.phrase for s in resolve(found)] == ["你找错部门了"]
    alone.encode_window(audio, *whole)  # what the opening check encodes
    shared = PhraseScorer(transcriber.whisper)
    with shared.sharing([whole]):
        got = shared.score_segments(audio, segments, FORBIDDEN_PHRASES)
        passes = shared.encodes
        shared.encode_window(audio, *whole)
        assert shared.encodes == passes  # the opening check reuses the pass the phrases paid for
    # The same candidates, each scored on its own stretch cut from the shared encoding, not the whole window.
    assert [(s.phrase, s.start, s.end) for s in got] == [(s.phrase, s.start, s.end) for s in found]
    assert all(whole[0] < s.start and s.end < whole[1] for s in got)
    assert shared.encodes < alone.encodes
    # The cut frames heard their neighbours, so the scores move: on an AMD EPYC 0.89 vs 0.72 for 你找错部门了,
    # the verdict held; on an Intel Xeon this sentence flipped (我不能 over 说不门 accepted instead). On the 32
    # scripted calls sharing changed one row on the Xeon, and that one for the better (bench/verify_cost.py
    # --no-share: a false 不行 over 补下), so sharing stays; the verdicts are not asserted here.
    # Outside sharing() nothing is kept: another call's audio is encoded anew.
    before = shared.encodes
    shared.encode_window(audio, *whole)
    assert shared.encodes == before + 1


@pytest.mark.slow
def test_a_call_whose_lines_were_written_right_still_encodes_each_window_once() -> None:
    # No opening or closing window to share (the transcript held both lines, most real calls): the
    # sound-alike check and the second reading come back to a hit's window, which is not encoded again.
    scorer = PhraseScorer(Transcriber().whisper)
    audio = np.zeros(16000 * 4, np.float32)
    with scorer.sharing([]):
        scorer.encode_window(audio, 0.5, 3.0)
        scorer.encode_window(audio, 0.5, 3.0)
        assert scorer.encodes == 1
        scorer.encode_window(audio, 0.0, 3.0)
        assert scorer.encodes == 2
