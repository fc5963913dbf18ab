"""Who the caller heard when (issue 11, part 1): the IVR's timeline of the agent track.

Fast: the timeline built from events; then real calls through the Asterisk simulator and
the real service (a queue, a Dial with ringback, the transfer prompt, a caller who types
ahead during the greeting) checked against the audio MixMonitor wrote, and QA on those
calls with agent-track text placed in the prompt stretches. Slow: the real Whisper model
decoding only the agent's stretches of a recorded call, with the time it saved.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ivr_env import call_row, rendered_sounds, run_env
from qa_calls import add_call
from qa_calls import config as qa_config
from sqlalchemy import select

import db
from app.demo import DemoEnv, prompt_seconds
from ivr.tables import (
    AGENT_ANSWERED,
    HOLD_END,
    HOLD_START,
    PROMPT_END,
    PROMPT_START,
    TRANSFER_END,
    TRANSFER_START,
    Call,
)
from ivr.timeline import Timeline, build, call_timeline
from pbx.simulator import Agent, CallScript, Press, Say
from qa.scan import scan_call
from recordings.audio import PHONE_RATE, read_pcm16
from recordings.store import recording_file
from settings import Config
from transcribe.engine import SAMPLE_RATE, silence_outside
from transcribe.runner import plan_from
from transcribe.store import save_transcript

SPEED = 5.0  # slower than the other scenario tests: event times carry the loop's latency x SPEED
TOL = 0.35  # seconds: how far a stretch edge may sit from the audio MixMonitor wrote

OPENING = "您好，这里是海尔斯科技，请问有什么可以帮您？"


# -- fast: the timeline from events ---------------------------------------------------------

def _events() -> list[tuple[str, float, dict[str, Any]]]:
    return [
        (PROMPT_START, 0.1, {"name": "greeting", "text": OPENING}),
        (PROMPT_END, 9.9, {"name": "greeting"}),
        (PROMPT_START, 10.0, {"name": "transfer", "text": "正在为您转接，请稍候。"}),
        (PROMPT_END, 12.5, {"name": "transfer"}),
        (TRANSFER_START, 12.6, {"app": "Queue"}),
        (AGENT_ANSWERED, 18.0, {}),
        (HOLD_START, 30.0, {}),
        (HOLD_END, 40.0, {}),
        ("hangup_request", 50.0, {"leg": "agent"}),
        (TRANSFER_END, 50.2, {"app": "Queue"}),
        (PROMPT_START, 50.3, {"name": "goodbye", "text": "感谢您的来电，再见。"}),
        (PROMPT_END, 53.0, {"name": "goodbye"}),
    ]


def test_timeline_from_events_labels_every_stretch() -> None:
    tl = build(_events(), end=53.5)
    assert tl is not None
    got = [(s.kind, s.start, s.end, s.name) for s in tl.stretches]
    assert got == [
        ("ivr", 0.1, 9.9, "greeting"), ("ivr", 10.0, 12.5, "transfer"), ("ringback", 12.6, 18.0, None),
        ("agent", 18.0, 30.0, None), ("hold", 30.0, 40.0, None), ("agent", 40.0, 50.0, None),
        ("ivr", 50.3, 53.0, "goodbye"),
    ]
    # the agent can be heard in the agent stretches, widened a little, never into a prompt
    assert tl.agent_spans(pad=0.3) == [(17.7, 30.3), (39.7, 50.3)]
    assert [p.text for p in tl.prompts()] == [OPENING, "正在为您转接，请稍候。", "感谢您的来电，再见。"]


def test_no_agent_means_no_agent_stretch_and_old_calls_have_no_timeline() -> None:
    hung_up_in_menu = [(PROMPT_START, 0.1, {"name": "greeting", "text": OPENING}), (PROMPT_END, 3.0, {})]
    tl = build(hung_up_in_menu, end=3.0)
    assert tl is not None and tl.of("agent") == [] and tl.agent_spans() == []
    assert build([(AGENT_ANSWERED, 5.0, {})], end=9.0) is None  # no prompt events: recorded before timelines


def test_stored_call_timeline_and_qa_on_a_transcript_the_engine_labelled(tmp_path: Path) -> None:
    """Offsets from Call.recording_started_at; the engine's 'ivr' segments are nobody's speech
    for the rules (the IVR's greeting and goodbye neither pass nor fail the agent)."""
    with db.transaction(f"sqlite:///{tmp_path}/t.db") as s:
        segs = [
            ("ivr", 0.1, 9.9, OPENING),
            ("ivr", 10.0, 12.5, "正在为您转接，请稍候。"),
            ("agent", 18.5, 22.0, OPENING),
            ("caller", 23.0, 25.0, "我的订单还没到。"),
            ("agent", 26.0, 29.0, "好的，感谢您的来电，再见。"),
            ("ivr", 50.3, 53.0, "感谢您的来电，再见。"),
        ]
        call = add_call(s, segs, agent_answer_s=18.0, menu_end_s=None, events=[
            *_events()[:6], ("hangup_request", 30.0, {"leg": "caller"})])
        tl = call_timeline(s, call)
        assert tl is not None and [x.kind for x in tl.stretches] == ["ivr", "ivr", "ringback", "agent"]
        assert tl.of("agent")[0].start == pytest.approx(18.0) and tl.of("agent")[0].end == pytest.approx(60.0)
        assert scan_call(s, qa_config(), call.id) == []
        # an agent row but no answer event (the AMI link dropped then): the transfer may hold the agent
        lost = add_call(s, segs, agent_answer_s=None, menu_end_s=None,
                        events=[e for e in _events()[:6] if e[0] != AGENT_ANSWERED])
        tl2 = call_timeline(s, lost)
        assert tl2 is not None and [x.kind for x in tl2.stretches] == ["ivr", "ivr", "agent"]


def test_a_call_no_agent_answered_decodes_nothing_on_the_agent_track(tmp_path: Path) -> None:
    """Hung up in the menu: the agent track is all prompts. No model is touched (there is none
    here), the prompts come from their known text, and nothing is anyone's speech."""
    from recordings.audio import write_wav
    from transcribe.engine import TrackPlan, Transcriber

    rng = np.random.default_rng(1)
    wav = write_wav(tmp_path / "t.wav", (rng.normal(0, 3000, PHONE_RATE * 12)).astype(np.int16), PHONE_RATE)
    tl = build([(PROMPT_START, 0.1, {"name": "greeting", "text": OPENING}), (PROMPT_END, 9.9, {})], end=12.0)
    plan = plan_from(tl)
    assert plan == TrackPlan(decode=(), known=((0.1, 9.9, OPENING),))
    engine = Transcriber("unused", _model=object())  # decoding would fail: it must not be reached
    result = engine.transcribe_track(wav, "agent", plan)
    assert [(s.speaker, s.text) for s in result.segments] == [("ivr", OPENING)]
    assert result.skipped_s == pytest.approx(12.0) and result.speech_detected_s == 0.0
    assert not result.needs_review


def test_the_timeline_is_pinned_to_the_track_by_the_prompts_audio() -> None:
    """MixMonitor's file ran 1.2 s short of the service's clock before the transfer prompt
    (seen on a real Asterisk under load): the prompts' own audio puts the stretches back."""
    from transcribe.align import align

    rng = np.random.default_rng(3)
    greeting = (rng.normal(0, 4000, 8 * PHONE_RATE)).astype(np.int16)
    transfer = (rng.normal(0, 4000, 3 * PHONE_RATE)).astype(np.int16)
    track = np.zeros(30 * PHONE_RATE, np.int16)
    track[int(0.2 * PHONE_RATE):][: greeting.size] = greeting  # as the timeline says (+0.1 s)
    track[int(9.0 * PHONE_RATE):][: transfer.size] = transfer  # the timeline says 10.2
    tl = build([(PROMPT_START, 0.1, {"name": "greeting"}), (PROMPT_END, 8.3, {}),
                (PROMPT_START, 10.2, {"name": "transfer"}), (PROMPT_END, 13.3, {}),
                (TRANSFER_START, 13.4, {}), (AGENT_ANSWERED, 16.0, {})], end=30.0)
    assert tl is not None
    pinned, shifts = align(tl, track, {"greeting": greeting, "transfer": transfer})
    assert shifts == [pytest.approx(0.1, abs=0.01), pytest.approx(-1.2, abs=0.01)]
    assert [round(x.start, 2) for x in pinned.stretches] == [0.2, 9.0, 12.2, 14.8]  # ringback, agent moved too
    # the file also lost 2 s during the queue wait (no music written): the file's end (the
    # hangup) pins the agent; the wait absorbs the loss
    short = track[: 28 * PHONE_RATE]
    pinned, _ = align(tl, short, {"greeting": greeting, "transfer": transfer})
    assert [(x.kind, round(x.start, 2), round(x.end, 2)) for x in pinned.stretches][2:] == [
        ("ringback", 12.2, 14.0), ("agent", 14.0, 28.0)]
    # a prompt not found (not rendered here, or not in the file) keeps the shift before it
    silent = np.zeros_like(track)
    assert align(tl, silent, {"greeting": greeting})[1] == []


# -- the simulator: real calls, the audio MixMonitor wrote -------------------------------------------

pytestmark_sim = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two calls whose caller types ahead during the greeting: 3 -> the complaints queue (the
    agent answers after 3 s and the caller hangs up after the talk), 2 -> Dial aftersales
    (ringback 4 s, the agent hangs up first: the IVR says goodbye)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    tmp = tmp_path_factory.mktemp("timeline")
    sounds = rendered_sounds(tmp_path_factory.mktemp("sounds"))

    async def body(env: DemoEnv) -> dict[str, Any]:
        rude = (Say(0.5, "喂，什么事？"), Say(4.0, "我不能帮你处理这个。"))
        queued = CallScript("queue", caller_num="300", presses=(Press(2.0, "3"),),
                            agent=Agent("SIP/agent1001", answer_after=3.0, says=rude))
        dialled = CallScript("dial", caller_num="301", presses=(Press(2.5, "2"),),
                             agent=Agent("SIP/agent1002", answer_after=4.0, says=rude, hangs_up_after=7.0))
        calls = await asyncio.gather(env.call(queued), env.call(dialled))
        return {"env": env, "calls": dict(zip(("queue", "dial"), calls, strict=True)),
                "seconds": prompt_seconds(env.config)}

    out = run_env(tmp, sounds, body, speed=SPEED)
    out["url"] = f"sqlite:///{tmp / 'hotline.db'}"
    out["config"] = out["env"].config
    return out


def _timeline(url: str, uniqueid: str) -> tuple[int, Timeline]:
    with db.transaction(url) as s:
        call = s.scalars(select(Call).where(Call.uniqueid == uniqueid)).one()
        tl = call_timeline(s, call)
        assert tl is not None
        return call.id, tl


def _agent_track(config: Config, url: str, uniqueid: str) -> np.ndarray:
    row = call_row(url, uniqueid)
    return read_pcm16(recording_file(config, row["recordings"]["agent"][1]))


def _loud_frames(pcm: np.ndarray) -> list[float]:
    """Start times of the 20 ms frames that are not digital silence."""
    n = PHONE_RATE // 50
    frames = pcm[: pcm.size // n * n].reshape(-1, n)
    return [i / 50 for i in np.flatnonzero(np.abs(frames.astype(np.int32)).max(axis=1) > 64)]


def _within(t: float, spans: list[tuple[float, float]], tol: float = TOL) -> bool:
    return any(a - tol <= t <= b + tol for a, b in spans)


@pytestmark_sim
@pytest.mark.parametrize("name", ["queue", "dial"])
def test_the_timeline_of_a_real_call_matches_its_agent_track(recorded: dict[str, Any], name: str) -> None:
    call, url, config = recorded["calls"][name], recorded["url"], recorded["config"]
    _, tl = _timeline(url, call.uniqueid)
    kinds = [(s.kind, s.name) for s in tl.stretches]
    # typed ahead during the greeting: no menu prompt, straight to the transfer
    expected = [("ivr", "greeting"), ("ivr", "transfer"), ("ringback", None), ("agent", None)]
    if name == "dial":
        expected.append(("ivr", "goodbye"))  # the agent hung up first: the IVR has the caller again
    assert kinds == expected
    texts = {s.name: s.text for s in tl.of("ivr")}
    assert texts["greeting"] == config.opening_line and texts["transfer"] == config.prompts.transfer
    seconds = recorded["seconds"]
    greeting = tl.of("ivr")[0]
    # send -> result holds the whole prompt (plus the loop's latency, larger on a loaded machine)
    assert seconds["greeting"] - 0.1 <= greeting.end - greeting.start <= seconds["greeting"] + 1.5
    answer = tl.of("agent")[0].start
    rows = call_row(url, call.uniqueid)
    assert rows["steps"][0][-1] is True  # the key was typed ahead

    pcm = _agent_track(config, url, call.uniqueid)
    loud = _loud_frames(pcm)
    assert loud, "the agent track is empty"
    spans = {k: [(s.start, s.end) for s in tl.of(k)] for k in ("ivr", "ringback", "agent")}
    # every sound on the track lies in a stretch: nothing the caller heard is unlabelled
    assert [t for t in loud if not _within(t, [x for v in spans.values() for x in v])] == []
    # the prompts' audio is in the prompt stretches, and none of it in the agent's spans
    prompt_audio = [t for t in loud if t < spans["ringback"][0][0] - TOL]
    assert prompt_audio and all(_within(t, spans["ivr"]) for t in prompt_audio)
    assert not any(_within(t, tl.agent_spans(), tol=0.0) for t in prompt_audio)
    # the agent's first words (0.5 s after the answer) are inside the agent's spans
    first_words = [t for t in loud if answer + 0.4 <= t <= answer + 1.5]
    assert first_words and all(_within(t, tl.agent_spans(), tol=0.0) for t in first_words)
    if name == "dial":  # ringback tone, in the ringback stretch, ended by the answer
        ring = spans["ringback"][0]
        assert [t for t in loud if ring[0] + TOL < t < ring[1] - TOL]
        goodbye = spans["ivr"][-1]
        assert tl.of("agent")[0].end <= goodbye[0] + 1e-6


@pytestmark_sim
def test_only_the_agents_stretches_are_left_for_the_decoder(recorded: dict[str, Any]) -> None:
    call, url, config = recorded["calls"]["dial"], recorded["url"], recorded["config"]
    _, tl = _timeline(url, call.uniqueid)
    plan = plan_from(tl)
    assert plan is not None
    assert [text for _, _, text in plan.known] == [config.opening_line, config.prompts.transfer,
                                                   config.prompts.goodbye]
    pcm = _agent_track(config, url, call.uniqueid).astype(np.float32) / 32768.0
    audio = np.repeat(pcm, SAMPLE_RATE // PHONE_RATE)  # the engine works at 16 kHz
    silenced, skipped = silence_outside(audio, plan.decode)
    kept_s = sum(b - a for a, b in plan.decode)
    assert skipped == pytest.approx(audio.size / SAMPLE_RATE - kept_s, abs=0.05)
    assert skipped > 0.6 * audio.size / SAMPLE_RATE  # most of this call's agent track is not the agent
    for s in tl.of("ivr") + tl.of("ringback"):  # nothing left there but the widened agent edges
        a, b = int((s.start + 0.35) * SAMPLE_RATE), int((s.end - 0.35) * SAMPLE_RATE)
        if b > a:
            assert not np.any(silenced[a:b]), s
    a, b = plan.decode[0]
    assert np.any(silenced[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)])  # the agent's voice is still there


def _transcribe_by_hand(url: str, call_id: int, segments: list[tuple[str, float, float, str]]) -> None:
    """A transcript as the ASR might write it with no timeline: all of the agent track as 'agent'."""

    class Seg:
        def __init__(self, speaker: str, start: float, end: float, text: str) -> None:
            self.speaker, self.start, self.end, self.text = speaker, start, end, text
            self.avg_logprob, self.no_speech_prob, self.words = -0.3, 0.1, None

    class Result:
        duration = 60.0
        needs_review = False
        review_reasons: tuple[str, ...] = ()

        def __init__(self) -> None:
            self.segments = [Seg(*s) for s in segments]

    with db.transaction(url) as s:
        save_transcript(s, Result(), call_id=call_id, job_id=None, model="test", options={})


def _flags(url: str, config: Config, call_id: int) -> list[tuple[str, str, str | None]]:
    with db.transaction(url) as s:
        return [(f.rule_id, f.category, f.matched) for f in scan_call(s, config, call_id)]


@pytestmark_sim
@pytest.mark.parametrize("name", ["queue", "dial"])
def test_qa_never_takes_ivr_prompt_text_for_the_agent(recorded: dict[str, Any], name: str) -> None:
    call, url, config = recorded["calls"][name], recorded["url"], recorded["config"]
    call_id, tl = _timeline(url, call.uniqueid)
    greeting, transfer = tl.of("ivr")[0], tl.of("ivr")[1]
    answer = tl.of("agent")[0].start
    ivr_text = [
        # the IVR's greeting, as the ASR heard it on the agent track: the opening line word for word
        ("agent", greeting.start + 0.2, greeting.end - 0.2, config.opening_line),
        # a forbidden phrase and a closing inside the transfer prompt's stretch (an ASR garble)
        ("agent", transfer.start + 0.1, transfer.end - 0.1, "我不能帮你，这不是我们的责任，感谢您的来电再见"),
    ]
    if name == "dial":  # the agent hung up first; the IVR's goodbye, garbled, after the agent's part
        bye = tl.of("ivr")[-1]
        ivr_text.append(("agent", bye.start + 0.1, bye.end - 0.1, "这不是我们的责任，感谢您的来电，再见。"))
    # the agent's real words: no opening line, no forbidden phrase, no closing
    agent_text = [("agent", answer + 0.5, answer + 2.0, "喂，什么事？"),
                  ("caller", answer + 2.5, answer + 3.5, "我的订单还没到。")]
    _transcribe_by_hand(url, call_id, ivr_text + agent_text)
    flags = _flags(url, config, call_id)
    categories = {c for _, c, _ in flags}
    assert "forbidden" not in categories and "pii" not in categories  # the prompt stretch is nobody's speech
    opening = [m for _, c, m in flags if c == "opening"]
    assert opening and "company name" in opening[0]  # the IVR's greeting did not pass for the agent's
    assert "closing" in categories  # nor did the closing words in the prompt stretches

    # the same prompts with a polite agent: the IVR's text fails nothing either
    polite = [("agent", answer + 0.5, answer + 3.0, config.opening_line),
              ("agent", answer + 4.0, answer + 5.0, "感谢您的来电，再见。")]
    _transcribe_by_hand(url, call_id, ivr_text + polite)
    flags = _flags(url, config, call_id)
    assert {c for _, c, _ in flags} & {"opening", "closing", "forbidden", "vague", "pii"} == set()


# -- slow: the real model, decoding only the agent ---------------------------------------------------

@pytestmark_sim
@pytest.mark.slow
def test_the_worker_decodes_only_the_agent_and_labels_the_prompts(recorded: dict[str, Any]) -> None:
    """The real job path (transcribe.runner.run_job, QA after it) on both recorded calls."""
    from transcribe import jobs
    from transcribe.engine import Transcriber
    from transcribe.runner import run_job
    from transcribe.store import transcript_for_call

    url, config = recorded["url"], recorded["config"]
    engine = Transcriber()
    t0 = time.perf_counter()
    outcomes = []
    while True:
        with db.transaction(url) as s:
            job = jobs.claim(s, jobs.worker_id())
        if job is None:
            break
        outcomes.append(run_job(config, engine, job, qa_scan=scan_call))
    assert len(outcomes) == 2 and all(o.status == "done" for o in outcomes), outcomes
    print(f"\n2 calls, {sum(o.audio_s or 0 for o in outcomes):.1f} s of audio each track: ASR and QA "
          f"{time.perf_counter() - t0:.2f} s (the whole-track comparison: bench/asr_timeline.py)")
    for name in ("queue", "dial"):
        call_id, tl = _timeline(url, recorded["calls"][name].uniqueid)
        with db.transaction(url) as s:
            transcript = transcript_for_call(s, call_id)
            assert transcript is not None
            segs = [(x.speaker, x.start_s, x.end_s, x.text) for x in transcript.segments]
            flags = scan_call(s, config, call_id)
            flagged = {f.segment_id: f for f in flags}
            ivr_ids = {x.id for x in transcript.segments if x.speaker == "ivr"}
            opening = [r for r in transcript.verified or [] if r.get("check") == "opening"]
        ivr = [text for speaker, _, _, text in segs if speaker == "ivr"]
        assert ivr == [p.text for p in tl.prompts()]  # the prompts, from their known text, not decoded
        spans = tl.agent_spans()
        assert all(_within(a, spans, tol=0.0) for sp, a, _, _ in segs if sp == "agent")
        assert any(sp == "agent" for sp, *_ in segs)  # the agent's words were decoded
        assert not set(flagged) & ivr_ids  # no flag on the IVR's lines
        assert "opening" in {f.category for f in flags}  # 喂，什么事？ is no opening line
        # the audio check of the opening heard the agent's first turn only: the IVR's greeting, which
        # says the whole opening line, lies before the window and does not pass for the agent's (the
        # worker's timeline is pinned to the file by the prompts' audio: within a second of this one)
        greeting_end = tl.prompts()[0].end
        assert opening and all(r["start"] >= max(greeting_end, spans[0][0] - 1.0) for r in opening)
        assert not all(r["said"] for r in opening), opening
