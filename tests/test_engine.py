"""The ASR engine. Fast tests: text guards and merging. Slow tests: the real Whisper base
model on synthesized 8 kHz Mandarin (espeak-ng via pinyin, G.711 round trip).

Synthetic speech is hard for Whisper base (CER ~0.6, see bench/asr_accuracy.py), so the
slow tests use sentences it does hear and check behaviour, not accuracy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import pytest
from audio_factory import (
    AGENT_VOICE,
    FLAGGED_CALLS,
    agent_says,
    build_call,
    long_call,
    mulaw_roundtrip,
    write_corrupt,
    write_empty,
    write_header_only,
    write_noise,
    write_silence,
    write_tone,
    write_truncated,
)

from recordings.audio import AudioError, read_pcm16, write_wav
from recordings.speech import synthesize_pcm
from transcribe.engine import (
    AsrSegment,
    TrackResult,
    Transcriber,
    Word,
    _lost_stretches,
    _too_fast,
    merge,
)
from transcribe.normalize import canonical, to_simplified
from transcribe.options import AsrOptions
from transcribe.textguard import TextGuard, repetition_span

# -- fast: text handling -----------------------------------------------------------------


def test_simplified_and_normalised() -> None:
    assert to_simplified("這不是我們的責任") == "这不是我们的责任"
    assert canonical("這不是，我們的 責任！") == "这不是我们的责任"
    assert canonical("ＡＢＣ１２３") == "abc123"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("请问" * 75, "repetition"),  # FINDINGS: the batched pipeline's 75x loop
        ("您好" + "谢谢您" * 6, "repetition"),
        ("字幕由Amara.org社群提供", "hallucination"),
        ("請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目", "hallucination"),  # Traditional form too
        ("谢谢观看", "hallucination"),
        ("更多内容请访问 www.example.com", "hallucination"),
        # Whisper spelling letters over the rest of a window after writing 海尔斯 as letters
        ("您好, 这里是I.R.C.K.K.K.K.W.N.Y.O.C.M.K.E.PANNIN。", "hallucination"),
        ("您是要当天, 说可以因当W.W.N.Y.PANNIN。", "hallucination"),
        ("您好,这里是I-20个纪,", None),  # the name misheard, but heard
        ("空调型号是KFR-35GW，我在U.S.A.买的。", None),  # codes and short abbreviations are speech
        ("谢谢", None),  # a caller's real thanks
        ("我的邮箱是abc@qq.com", None),  # an e-mail address is speech, not a credit line
        ("谢谢观看这个产品的说明书以后再打给我们", None),  # a sign-off only counts alone
        ("不行不行不行", None),  # people do say it three times
        ("我不能给您办理退货。", None),
        ("。", None),
    ],
)
def test_text_guard(text: str, reason: str | None) -> None:
    assert TextGuard(AsrOptions()).reject_reason(text) == reason


def test_repetition_span_finds_the_longest_run() -> None:
    assert repetition_span("好的好的好的好的请问", 8, 4) == ("好的", 8)
    assert repetition_span("好的好的好的请问", 8, 4) is None


def test_options_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="vad_threshold must be between 0 and 1"):
        AsrOptions(vad_threshold=1.5)
    with pytest.raises(ValueError, match="beam_size must be >= 1"):
        AsrOptions(beam_size=0)
    with pytest.raises(ValueError, match="window_pad_s must be >= 0 or None"):
        AsrOptions(window_pad_s=-1.0)
    with pytest.raises(ValueError, match="parallel_tracks must be 1 or 2"):
        AsrOptions(parallel_tracks=3)
    assert AsrOptions().with_(beam_size=1).beam_size == 1
    assert AsrOptions().hotwords is None and AsrOptions().no_speech_threshold is None


def _track(speaker: str, *spans: tuple[float, float, str]) -> TrackResult:
    segs = tuple(AsrSegment(a, b, t, speaker, -0.5, 0.1) for a, b, t in spans)
    return TrackResult(speaker, f"{speaker}.wav", 30.0, 10.0, segs, (), False, None, 0.1)


def test_merge_orders_both_tracks_by_time() -> None:
    caller = _track("caller", (3.0, 4.0, "c1"), (9.0, 10.0, "c2"))
    agent = _track("agent", (0.5, 2.0, "a1"), (5.0, 8.0, "a2"))
    t = merge([caller, agent])
    order = [(s.speaker, s.text) for s in t.segments]
    assert order == [("agent", "a1"), ("caller", "c1"), ("agent", "a2"), ("caller", "c2")]
    assert t.text_of("agent") == "a1a2" and t.duration == 30.0 and not t.needs_review
    d = t.to_dict()
    assert set(d) >= {"duration", "segments"}
    assert set(d["segments"][0]) >= {"speaker", "start", "end", "text", "avg_logprob", "no_speech_prob"}


# -- slow: the real model ----------------------------------------------------------------


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    return Transcriber()  # the shipped options, the model assembled from the PyPI parts


@pytest.mark.slow
def test_short_sentence_comes_out_simplified(transcriber: Transcriber, tmp_path: Path) -> None:
    result = transcriber.transcribe_track(agent_says(tmp_path / "s.wav", "这不是我们的责任。")[0], "agent")
    text = canonical(result.text)
    # Whisper base misreads a word of the robot voice's sentence, and which one depends on the
    # options (责任 as 曾恩 with 30 s windows, 是 as 必 with trimmed ones): the sentence is what
    # this test needs, in Simplified characters (們 -> 们).
    assert "我们的" in text and text.startswith("这不"), result.text
    assert to_simplified(result.text) == result.text  # no Traditional characters left
    assert not result.needs_review and result.speech_detected_s > 1.0
    seg = result.segments[0]
    assert seg.speaker == "agent" and 0.0 <= seg.start < seg.end <= result.duration + 0.01
    assert seg.words and all(w.start <= w.end for w in seg.words)  # word timestamps on by default


@pytest.mark.slow
def test_two_track_call(transcriber: Transcriber, tmp_path: Path) -> None:
    script = FLAGGED_CALLS[2]  # opening line, caller complains, agent: 这不是我们的责任…
    call = build_call(script, tmp_path, "call", mulaw=True)
    t = transcriber.transcribe_call(call.caller, call.agent)
    assert t.duration == pytest.approx(call.duration, abs=0.01)
    # Runs of consecutive segments by speaker follow the script's turns.
    runs = [s.speaker for i, s in enumerate(t.segments) if i == 0 or t.segments[i - 1].speaker != s.speaker]
    assert runs == [turn.speaker for turn in call.turns]
    for seg in t.segments:  # each segment lies inside (or at the VAD-padded edge of) a turn of its speaker
        assert any(
            turn.speaker == seg.speaker and turn.start - 1.0 <= seg.start and seg.end <= turn.end + 1.0
            for turn in call.turns
        ), seg
    assert "这不是我们的责任" in canonical(t.text_of("agent"))
    assert "这不是我们的责任" not in canonical(t.text_of("caller"))
    assert not t.needs_review
    payload = json.loads(json.dumps(t.to_dict(), ensure_ascii=False))
    assert payload["segments"][0]["speaker"] == "agent"


@pytest.mark.slow
def test_a_calls_two_tracks_decode_at_once_and_read_as_one_after_the_other(transcriber: Transcriber,
                                                                           tmp_path: Path) -> None:
    call = build_call(FLAGGED_CALLS[2], tmp_path, "call", mulaw=True)
    spans: dict[str, tuple[float, float]] = {}

    class Timed(Transcriber):
        def transcribe_track(self, path, speaker="unknown", plan=None):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return super().transcribe_track(path, speaker, plan)
            finally:
                spans[speaker] = (started, time.perf_counter())

    at_once = Timed(transcriber.model_dir, transcriber.options, _model=transcriber.whisper)
    assert at_once.options.parallel_tracks == 2  # shipped
    both = at_once.transcribe_call(call.caller, call.agent)
    (c0, c1), (a0, a1) = spans["caller"], spans["agent"]
    assert c0 < a1 and a0 < c1, spans  # the tracks' decoding overlapped in time
    one_by_one = at_once.with_options(transcriber.options.with_(parallel_tracks=1)).transcribe_call(
        call.caller, call.agent)
    assert [(s.speaker, s.start, s.end, s.text) for s in both.segments] == \
        [(s.speaker, s.start, s.end, s.text) for s in one_by_one.segments]


@pytest.mark.slow
def test_mono_recording_is_speaker_unknown(transcriber: Transcriber, tmp_path: Path) -> None:
    call = build_call(FLAGGED_CALLS[1], tmp_path, "m", mulaw=True)
    mixed = read_pcm16(call.caller).astype(np.int32) + read_pcm16(call.agent)
    t = transcriber.transcribe_file(write_wav(tmp_path / "mono.wav", np.clip(mixed, -32768, 32767)))
    assert t.segments and {s.speaker for s in t.segments} == {"unknown"}
    assert "我不知道" in canonical(t.text_of("unknown"))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["silence", "noise", "tone"])
def test_no_text_from_non_speech(transcriber: Transcriber, tmp_path: Path, kind: str) -> None:
    make = {"silence": write_silence, "noise": write_noise, "tone": write_tone}[kind]
    result = transcriber.transcribe_track(make(tmp_path / f"{kind}.wav", 20.0), "agent")
    assert result.duration == pytest.approx(20.0)
    assert result.segments == () and result.text == ""
    assert not result.needs_review


@pytest.mark.slow
@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: write_corrupt(d / "c.wav"), "not a RIFF/WAVE file"),
        (lambda d: write_empty(d / "e.wav"), "empty file"),
        (lambda d: write_truncated(d / "t.wav"), "truncated data chunk"),
        (lambda d: write_header_only(d / "z.wav"), "no audio samples"),
        (lambda d: d / "missing.wav", "file not found"),
    ],
)
def test_bad_recordings_raise_audio_error(transcriber: Transcriber, tmp_path: Path, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AudioError, match=reason):
        transcriber.transcribe_track(make(tmp_path), "agent")
    good = agent_says(tmp_path / "ok.wav", "您好。")[0]  # the same Transcriber still works
    assert transcriber.transcribe_track(good, "agent").speech_detected_s > 0


@pytest.mark.slow
def test_speech_with_no_usable_text_needs_review(transcriber: Transcriber, tmp_path: Path) -> None:
    wav = agent_says(tmp_path / "s.wav", "这不是我们的责任。")[0]
    # faster-whisper's no-speech gate made strict enough to fire, as it did on a real track
    # in FINDINGS: the window is skipped, the text is empty, and the track must not pass.
    gated = transcriber.with_options(AsrOptions(no_speech_threshold=0.0, log_prob_threshold=0.0))
    result = gated.transcribe_track(wav, "agent")
    assert result.segments == ()
    assert result.needs_review and "no usable text" in (result.review_reason or "")
    # Everything dropped by the guards is the same case, and the reason says so.
    said = canonical(transcriber.transcribe_track(wav, "agent").text)
    guarded = transcriber.with_options(AsrOptions(hallucinations=(said[:3],)))
    result = guarded.transcribe_track(wav, "agent")
    assert result.hallucinations_dropped >= 1 and result.needs_review
    assert "dropped" in (result.review_reason or "")
    call = merge([result])
    assert call.needs_review and call.review_reasons[0].startswith("agent: ")


@pytest.mark.slow
def test_one_lost_sentence_is_enough_for_review(transcriber: Transcriber, tmp_path: Path) -> None:
    # Measured with the no-speech gate on: one agent answer vanished while the rest of the
    # track had text. Reproduced here by dropping the second sentence with the guard.
    quiet = np.zeros(4 * 8000, np.int16)
    first = mulaw_roundtrip(synthesize_pcm("这不是我们的责任。", AGENT_VOICE))
    second = mulaw_roundtrip(synthesize_pcm("明天上午十点之前。", AGENT_VOICE))
    wav = write_wav(tmp_path / "two.wav", np.concatenate([quiet[:4000], first, quiet, second, quiet[:4000]]))
    assert not transcriber.transcribe_track(wav, "agent").needs_review
    result = transcriber.with_options(AsrOptions(hallucinations=("明天",))).transcribe_track(wav, "agent")
    assert "这不是我们的责任" in canonical(result.text)
    assert result.needs_review and "no text for 1 stretch(es) of VAD speech" in (result.review_reason or "")
    second_start = (4000 + first.size + quiet.size) / 8000
    said_start = float((result.review_reason or "").split("first at ")[1].split("-")[0])
    assert abs(said_start - second_start) < 1.0  # where the lost sentence is, give or take VAD padding


@pytest.mark.slow
def test_a_stretch_the_first_pass_left_without_text_is_decoded_again_apart(transcriber: Transcriber,
                                                                         tmp_path: Path) -> None:
    # On the scripted calls Whisper's first pass skipped whole sentences, most often the closing.
    # It does here too (measured: the closing after the offer of help came out as nothing).
    quiet = np.zeros(3 * 8000, np.int16)
    first = mulaw_roundtrip(synthesize_pcm("请问有什么可以帮您？", AGENT_VOICE))
    second = mulaw_roundtrip(synthesize_pcm("感谢您的来电，再见。", AGENT_VOICE))
    wav = write_wav(tmp_path / "two.wav", np.concatenate([quiet, first, quiet, second, quiet]))
    audio = transcriber.load_audio(wav)
    chunks = transcriber._speech_chunks(audio)
    assert len(chunks) == 2  # one VAD stretch per sentence
    second_start = chunks[1]["start"] / 16000

    def closing(segments: Sequence[AsrSegment]) -> str:  # by word times: one segment may hold both sentences
        return canonical("".join(w.word for s in segments for w in s.words if w.start >= second_start - 0.1))

    off = transcriber.with_options(transcriber.options.with_(refill_gaps=False)).transcribe_track(wav, "agent")
    on = transcriber.transcribe_track(wav, "agent")
    assert closing(on.segments) and not on.needs_review  # text (Whisper base writes it 看见您的台电)
    if not closing(off.segments):  # the first pass lost it: the review reason said so, the refill found it
        assert "no text for 1 stretch(es)" in (off.review_reason or "") and on.refilled == 1
    # Lost on purpose (only the first stretch decoded): decoded again, at its own time.
    kept = transcriber._clean(transcriber._decode(audio, chunks[:1]), "agent")[0]
    assert kept and not closing(kept)
    kept, _dropped, refilled = transcriber._refill(audio, chunks, kept, [], "agent")
    assert refilled == 1 and closing(kept)
    # All of it lost (measured: a whole agent track came out as one dropped loop): glued again it
    # would decode the same, so each stretch is decoded alone.
    kept, _dropped, refilled = transcriber._refill(audio, chunks, [], [], "agent")
    assert refilled == 2 and closing(kept) and any(s.end <= second_start for s in kept)
    # A track of one stretch, lost whole: alone is how the first pass decoded it, so not again.
    assert transcriber._refill(audio, chunks[1:], [], [], "agent")[2] == 0


@pytest.mark.slow
def test_a_decoding_loop_stops_within_a_few_repeats(transcriber: Transcriber, tmp_path: Path) -> None:
    # bench/asr.py's minute-long call: the opening said again at 38 s sent greedy decoding into
    # 此此此… to the window's token limit, which cost more CPU than the rest of the track. Whether
    # a call loops depends on the CPU's int8 arithmetic (an AMD EPYC did, an Intel Xeon did not), so
    # the loop is provoked here on any CPU: 此 repeated, read as the text before the window.
    call = build_call(long_call(60.0, FLAGGED_CALLS), tmp_path, "loop", mulaw=True, min_duration=60.0)
    full = transcriber.options.with_(refill_gaps=False, window_pad_s=None)
    looping = full.with_(initial_prompt="此" * 40, condition_on_previous_text=True)
    before = transcriber.with_options(looping.with_(no_repeat_ngram_size=0)).transcribe_track(call.agent, "agent")
    after = transcriber.with_options(looping).transcribe_track(call.agent, "agent")
    assert max((len(d.text) for d in before.dropped if d.reason == "repetition"), default=0) > 150
    assert max((len(d.text) for d in after.dropped), default=0) < 60
    # Unprovoked, the bound changes nothing of what the call says.
    free = transcriber.with_options(full.with_(no_repeat_ngram_size=0)).transcribe_track(call.agent, "agent")
    bounded = transcriber.with_options(full).transcribe_track(call.agent, "agent")
    assert canonical(bounded.text).startswith(canonical(free.text)[:10]) and len(canonical(free.text)) >= 10


@pytest.mark.slow
def test_a_sentence_said_twice_keeps_both_though_the_second_looks_like_a_copy(transcriber: Transcriber,
                                                                             tmp_path: Path) -> None:
    # Agents repeat a question the caller did not answer. Whisper's first pass skips such a repeat
    # (measured here: no text after 10.8 s) or writes a copy the copy rule drops; either way the
    # second pass over its audio must bring it back.
    quiet = np.zeros(3 * 8000, np.int16)
    ask = mulaw_roundtrip(synthesize_pcm("请问您的订单号是多少？", AGENT_VOICE))
    wav = write_wav(tmp_path / "twice.wav", np.concatenate([quiet, ask, quiet, ask, quiet]))
    result = transcriber.transcribe_track(wav, "agent")
    second = (2 * quiet.size + ask.size) / 8000
    before = canonical("".join(s.text for s in result.segments if s.end <= second))
    after = canonical("".join(s.text for s in result.segments if s.start >= second - 0.5))
    assert before and after and not result.needs_review
    assert SequenceMatcher(None, before, after).ratio() >= 0.5  # the same sentence, however Whisper wrote it
    if any(d.reason == "repetition" for d in result.dropped):
        assert result.refilled >= 1


@pytest.mark.slow
def test_the_encoder_sees_the_speech_and_a_little_padding_not_30_s(transcriber: Transcriber, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # faster-whisper pads each window to 30 s and encodes it all; a sentence of a few seconds costs
    # far less encoded at its own length, and must read the same.
    quiet = np.zeros(3 * 8000, np.int16)
    said = mulaw_roundtrip(synthesize_pcm("这不是我们的责任。", AGENT_VOICE))
    wav = write_wav(tmp_path / "one.wav", np.concatenate([quiet, said, quiet]))
    model = transcriber.whisper
    encoded: list[int] = []  # encoder output positions, 20 ms each

    def spy(features: np.ndarray) -> object:
        out = type(model).encode(model, features)
        encoded.append(out.shape[1])
        return out

    monkeypatch.setattr(model, "encode", spy)
    trimmed = transcriber.transcribe_track(wav, "agent")
    (a, b), = trimmed.speech
    assert encoded == [pytest.approx((b - a + transcriber.options.window_pad_s) * 50, abs=50)]  # rounded up to 1 s
    encoded.clear()
    full = transcriber.with_options(transcriber.options.with_(window_pad_s=None)).transcribe_track(wav, "agent")
    assert encoded == [1500]  # faster-whisper's way: 30 s
    for text in (canonical(trimmed.text), canonical(full.text)):  # a word of it misread, by CPU and window
        assert "我们的" in text and text.startswith("这不"), text


def test_text_said_in_an_instant_is_no_ones_and_a_blank_word_covers_nothing() -> None:
    # Seen on a scripted call: at a window's end Whisper wrote a fluent question in 0.08 s, where the
    # agent had said a closing it lost; the segment before it stretched to that time on a blank word.
    instant = (Word(62.64, 62.64, "这次是", 0.03), Word(62.64, 62.72, "什么时候发生的事?", 0.1))
    assert _too_fast("这次是什么时候发生的事?", instant, 25.0)
    quick = (Word(0.0, 0.4, "好的", 0.9), Word(0.4, 1.1, "好的好的", 0.9))  # people do say this fast
    assert not _too_fast("好的好的好的", quick, 25.0)
    assert not _too_fast("好的", (Word(3.0, 3.0, "好的", 0.5),), 25.0)  # too short to judge
    words = (Word(51.04, 51.32, "小", 0.1), Word(51.6, 51.94, "道乐,", 0.1), Word(62.64, 62.64, "   ", 1.0))
    stretched = AsrSegment(51.0, 62.6, "小道乐,", "agent", -1.2, 0.1, words)
    sr = 16000
    stretch = [{"start": int(50.5 * sr), "end": 63 * sr}]
    assert _lost_stretches(stretch, [stretched], 1.5, 3.0) == [(int(51.94 * sr), 63 * sr)]
    assert _lost_stretches(stretch, [AsrSegment(51.0, 62.6, "小道乐", "agent", -1.2, 0.1)], 1.5, 3.0) == []  # its span


def test_lost_speech_is_a_whole_stretch_without_words_or_a_long_part_of_one() -> None:
    sr = 16000

    def said(*spans: tuple[float, float]) -> AsrSegment:
        return AsrSegment(spans[0][0], spans[-1][1], "话" * len(spans), "agent", -0.5, 0.1,
                          tuple(Word(a, b, "话", 0.8) for a, b in spans))

    chunks = [{"start": 0, "end": 10 * sr}, {"start": 12 * sr, "end": 13 * sr}, {"start": 20 * sr, "end": 22 * sr}]
    # first stretch: words 0.3-3 and 4.8-6 (a 1.8 s pause between sentences is not lost), nothing after 6 s
    kept = [said((0.3, 1.0), (1.0, 3.0)), said((4.8, 6.0))]
    assert _lost_stretches(chunks, kept, 1.5, 3.0) == [(6 * sr, 10 * sr), (20 * sr, 22 * sr)]  # 12-13 s: a cough
    assert _lost_stretches(chunks, [said((7.2, 9.5))], 1.5, 3.0) == [(0, int(7.2 * sr)), (20 * sr, 22 * sr)]
