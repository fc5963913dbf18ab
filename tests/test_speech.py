"""Speech synthesis with the real espeak-ng and sox, and the call factory built on it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from audio_factory import AGENT_VOICE, CLEAN_CALLS, FORBIDDEN_PHRASES, build_call, mulaw_roundtrip

from recordings import speech
from recordings.audio import probe_wav, read_pcm16, rms_dbfs
from recordings.speech import SpeechError, Voice, silence, synthesize, synthesize_pcm, to_pinyin


def test_pinyin_with_tones_and_pauses() -> None:
    assert to_pinyin("你好，请问！") == "ni2 hao3, qing3 wen4."
    assert to_pinyin("我不去", tone_sandhi=False) == "wo3 bu4 qu4"
    assert to_pinyin("这不是我们的责任。") == "zhe4 bu2 shi4 wo3 men5 de5 ze2 ren4."  # 不 before 4th tone
    assert to_pinyin("号码是110") == "hao4 ma3 shi4 yi1 yi1 ling2"  # digits read one by one
    assert to_pinyin("「」") == ""


def test_synthesize_writes_phone_format_wav(tmp_path: Path) -> None:
    out = synthesize("您好，请问有什么可以帮您？", tmp_path / "hello.wav")
    info = probe_wav(out)
    assert (info.rate, info.channels, info.width) == (8000, 1, 2)
    assert 2.0 < info.duration < 15.0
    pcm = read_pcm16(out)
    peak_db = 20 * np.log10(np.abs(pcm.astype(np.int32)).max() / 32768)
    assert peak_db == pytest.approx(-3.0, abs=0.5)  # sox gain -n -3: loud, never clipped


def test_punctuation_becomes_a_pause() -> None:
    joined = synthesize_pcm("你好我不知道")
    paused = synthesize_pcm("你好。我不知道")
    commas = synthesize_pcm("你好，我不知道")
    assert paused.size > commas.size + 0.2 * 8000 > joined.size + 0.4 * 8000
    # the pause is (near) silent: some 50 ms window inside is quiet
    frames = paused[: paused.size // 400 * 400].reshape(-1, 400)
    assert min(rms_dbfs(f) for f in frames[2:-2]) < -45


def test_same_sentence_is_synthesized_once(tmp_path: Path) -> None:
    voice = Voice(pitch=51)  # a key no other test uses
    first = synthesize_pcm("缓存测试一次", voice, cache_dir=tmp_path)
    files = list(tmp_path.glob("tts-*.wav"))
    assert len(files) == 1
    t = time.perf_counter()
    again = synthesize_pcm("缓存测试一次", voice, cache_dir=tmp_path)
    assert time.perf_counter() - t < 0.01
    assert np.array_equal(first, again)
    speech._memory.clear()  # a new process: served from the directory, no espeak run
    from_disk = synthesize_pcm("缓存测试一次", voice, cache_dir=tmp_path)
    assert np.array_equal(first, from_disk)
    assert not np.array_equal(first, synthesize_pcm("缓存测试一次", Voice(pitch=52)))


def test_synthesis_is_repeatable() -> None:
    # sox dithers with fresh noise by default; Whisper's output changed with it.
    text = "重复合成应该完全一样"
    first = synthesize_pcm(text, Voice(pitch=53))
    speech._memory.clear()
    assert np.array_equal(first, synthesize_pcm(text, Voice(pitch=53)))


def test_silence_is_digital_zero() -> None:
    s = silence(0.5)
    assert s.dtype == np.int16 and s.size == 4000 and not s.any()
    with pytest.raises(ValueError):
        silence(-1)


def test_missing_tools_give_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SpeechError, match=r"espeak-ng and sox not found: run ./dev.sh setup"):
        synthesize_pcm("这句话从来没有合成过", Voice(pitch=3))


def test_two_track_call_is_aligned_like_mixmonitor(tmp_path: Path) -> None:
    call = build_call(CLEAN_CALLS[0][:3], tmp_path, "c", mulaw=True)
    caller, agent = read_pcm16(call.caller), read_pcm16(call.agent)
    assert caller.size == agent.size == round(call.duration * 8000)
    for turn in call.turns:
        a, b = round(turn.start * 8000), round(turn.end * 8000)
        own, other = (caller, agent) if turn.speaker == "caller" else (agent, caller)
        assert np.abs(own[a:b]).max() > 1000
        assert not other[a:b].any()  # the other side is digital zero while this one talks
    assert [t.speaker for t in call.turns] == ["agent", "caller", "agent"]
    assert call.text_of("agent").startswith("您好")


def test_mulaw_round_trip_is_close_and_keeps_zero() -> None:
    pcm = synthesize_pcm("不客气", AGENT_VOICE)
    back = mulaw_roundtrip(pcm)
    err = np.abs(back.astype(np.int32) - pcm).max()
    assert 0 < err <= 1024  # G.711 quantisation, nothing more
    assert not mulaw_roundtrip(np.zeros(10, np.int16)).any()


def test_clean_scripts_never_have_the_agent_say_a_forbidden_phrase() -> None:
    for script in CLEAN_CALLS:
        agent = "".join(text for speaker, _, text in script if speaker == "agent")
        assert not [p for p in FORBIDDEN_PHRASES if p in agent], agent
