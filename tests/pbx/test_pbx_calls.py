"""Each scenario call of the batch (pbx_plan): what Hotline recorded and what the recordings hold.

Times come from the plan: digits at 13 s land in the main menu's GET DATA (the 9.8 s
greeting is over), agents ring 1.5-2 s, and so on. Ring and talk times are measured by
Hotline from real SIP timing, so they get a tolerance of about a second. On the agent
track (what the caller heard) each test checks the prompts and the agent's words in the
order the caller must have heard them; the caller's words must be on the caller track.
"""

from __future__ import annotations

import pytest
from pbx_batch import Batch
from pbx_checks import SLACK_S, event, prompt, recordings, steps, when

pytestmark = pytest.mark.pbx


def approx(value: float | None, expected: float, tol: float) -> bool:
    return value is not None and abs(value - expected) <= tol


def test_submenu_repeat_and_hangup_routes(batch: Batch) -> None:
    d = batch.detail("walk")
    why = batch.context("walk")
    assert steps(d) == [
        ("main", "1", "chosen", "submenu", "orders", False),
        ("orders", "*", "chosen", "submenu", "main", False),
        ("main", "9", "chosen", "repeat", None, False),
        ("main", "#", "chosen", "hangup", None, False),
    ], why
    assert d["path"] == "main:1 > orders:* > main:9 > main:#", why
    assert (d["route"], d["hangup_by"], d["agent"], d["status"], d["error"]) == ("hangup", "system", None, "ended",
                                                                                 None), why
    assert event(d, "greeting")["data"]["complete"] is True, why
    t = recordings(d)
    sounds = batch.service.sounds
    at = [t.offset(s["at"]) for s in d["steps"]]
    # Each key cuts its menu short about three seconds in: the next prompt starts at once.
    t.sequence("agent", [
        ("the opening line", prompt(sounds, "greeting"), 0.0),
        ("the orders menu", prompt(sounds, "menu-orders", 1.2), at[0]),
        ("the main menu again (*)", prompt(sounds, "menu-main", 1.2), at[1]),
        ("the main menu once more (9: repeat)", prompt(sounds, "menu-main", 1.2), at[2]),
        ("goodbye (#: hang up)", prompt(sounds, "goodbye"), at[3]),
    ])  # fmt: skip
    t.heard(batch.say["caller"].pcm, "caller", "the caller's words", by=1.0 + SLACK_S)


def test_digits_typed_during_the_greeting_answer_the_next_menus(batch: Batch) -> None:
    d = batch.detail("typeahead")
    why = batch.context("typeahead")
    assert event(d, "greeting")["data"]["complete"] is True, "a key must not cut the mandated opening line\n" + why
    assert steps(d) == [
        ("main", "1", "chosen", "submenu", "orders", True),
        ("orders", "2", "chosen", "extension", "operator", True),
    ], why
    assert (d["route"], d["agent"], d["dial_status"], d["hangup_by"]) == (
        "extension operator", "SIP/agent1001", "ANSWER", "caller"), why
    assert approx(d["ring_s"], 1.5, 0.8), f"ring_s {d['ring_s']} (agent answers 1.5 s after the INVITE)\n{why}"
    t = recordings(d)
    sounds = batch.service.sounds
    # Keys typed ahead answer the menus without playing them: from the greeting straight to the transfer.
    t.absent(prompt(sounds, "menu-main", 2.0), "agent", "the main menu prompt")
    t.absent(prompt(sounds, "menu-orders", 2.0), "agent", "the orders menu prompt")
    answered = t.offset(d["agent_answered_at"])
    t.sequence("agent", [
        ("the opening line", prompt(sounds, "greeting"), 0.0),
        ("the transfer prompt", prompt(sounds, "transfer"), t.offset(d["steps"][1]["at"])),
        ("agent1001's words", batch.say["agent1001"].pcm, answered + 0.5),
    ])  # fmt: skip
    t.heard(batch.say["caller"].pcm, "caller", "the caller's words", by=22.0 + SLACK_S)
    assert approx(d["talk_s"], t.offset(d["ended_at"]) - answered, 1.0), f"talk_s {d['talk_s']}\n{why}"


def test_queue_answered_by_an_agent_caller_hangs_up(batch: Batch) -> None:
    d = batch.detail("queue")
    why = batch.context("queue")
    assert steps(d) == [("main", "3", "chosen", "queue", "complaints", False)], why
    assert (d["route"], d["category"], d["agent"], d["dial_status"], d["hangup_by"]) == (
        "queue complaints", "服务态度问题", "SIP/agent1001", "ANSWER", "caller"), why
    assert approx(d["ring_s"], 2.0, 1.0), f"ring_s {d['ring_s']}\n{why}"
    assert approx(d["queue_wait_s"], 2.0, 1.0), f"queue_wait_s {d['queue_wait_s']}\n{why}"
    assert event(d, "queue_join")["data"]["queue"] == "complaints", why
    assert event(d, "agent_connect")["data"]["interface"] == "SIP/agent1001", why
    t = recordings(d)
    t.sequence("agent", [
        ("the transfer prompt", prompt(batch.service.sounds, "transfer"), t.offset(d["steps"][0]["at"])),
        ("agent1001's words", batch.say["agent1001"].pcm, t.offset(d["agent_answered_at"]) + 0.5),
    ])  # fmt: skip
    t.heard(batch.say["caller"].pcm, "caller", "the caller's words", by=25.0 + SLACK_S)
    t.absent(batch.say["agent1002"].pcm, "agent", "agent1002's words (it never answered)")


def test_dial_noanswer_falls_back_to_the_menus_queue(batch: Batch) -> None:
    d = batch.detail("noanswer")
    why = batch.context("noanswer")
    assert steps(d) == [("main", "2", "chosen", "extension", "aftersales", False)], why
    result = event(d, "dial_result")["data"]
    assert (result["status"], result["dial"]) == ("NOANSWER", "SIP/agent1002"), why
    fallback = event(d, "dial_fallback")["data"]
    assert (fallback["status"], fallback["action"], fallback["target"]) == ("NOANSWER", "queue", "support"), why
    missed = [e["data"] for e in d["events"] if e["kind"] == "agent_noanswer" and e["data"].get("status") == "NOANSWER"]
    assert missed and missed[0]["interface"] == "SIP/agent1002", why
    assert approx(missed[0].get("ring_s"), 20.0, 1.0), f"Dial rang {missed[0].get('ring_s')}s, the timeout is 20\n{why}"
    assert (d["route"], d["agent"], d["hangup_by"]) == ("queue support", "SIP/agent1001", "caller"), why
    # The caller heard both: the Dial ringing out, then the queue's 2 s ring before agent1001 answered.
    assert approx(d["ring_s"], missed[0]["ring_s"] + 2.0, 1.0), f"ring_s {d['ring_s']} (Dial and queue)\n{why}"
    t = recordings(d)
    transfer = prompt(batch.service.sounds, "transfer")
    t.sequence("agent", [
        ("the transfer prompt", transfer, t.offset(d["steps"][0]["at"])),
        ("the transfer prompt again, to the queue", transfer, t.offset(event(d, "dial_fallback")["at"])),
        ("agent1001's words", batch.say["agent1001"].pcm, t.offset(d["agent_answered_at"]) + 0.5),
    ])  # fmt: skip
    t.heard(batch.say["caller"].pcm, "caller", "the caller's words", by=50.0 + SLACK_S)


def test_agent_hangs_up_first_on_a_dial(batch: Batch) -> None:
    d = batch.detail("agent_first")
    why = batch.context("agent_first")
    assert steps(d) == [("main", "2", "chosen", "extension", "aftersales", False)], why
    assert (d["route"], d["category"], d["agent"], d["dial_status"], d["hangup_by"]) == (
        "extension aftersales", "产品问题", "SIP/agent1002", "ANSWER", "agent"), why
    assert approx(d["ring_s"], 1.5, 0.8), f"ring_s {d['ring_s']}\n{why}"
    assert approx(d["talk_s"], 4.0, 1.0), f"talk_s {d['talk_s']} (the agent hangs up 4 s after answering)\n{why}"
    first = [e["data"] for e in d["events"] if e["kind"] == "hangup_request"]
    assert first and first[0]["leg"] == "agent", why
    t = recordings(d)
    answered = t.offset(d["agent_answered_at"])
    # The caller is not left in silence: goodbye once the agent has gone, then Hotline hangs up.
    t.sequence("agent", [
        ("agent1002's words", batch.say["agent1002"].pcm, answered + 0.5),
        ("goodbye", prompt(batch.service.sounds, "goodbye"), answered + 4.0),
    ])  # fmt: skip
    t.heard(batch.say["caller"].pcm, "caller", "the caller's words", by=21.0 + SLACK_S)


def test_invalid_and_timeout_retries_then_fallback_queue_agent_hangs_up(batch: Batch) -> None:
    d = batch.detail("retries")
    why = batch.context("retries")
    assert steps(d) == [
        ("main", "7", "invalid", None, None, False),
        ("main", None, "timeout", None, None, False),
        ("main", "8", "fallback", "queue", "support", False),
    ], why
    assert d["path"] == "main:7(invalid) > main:-(timeout) > main:8(fallback)", why
    assert (d["route"], d["category"], d["agent"], d["hangup_by"]) == (
        "queue support", "服务质量问题", "SIP/agent1001", "agent"), why
    assert event(d, "agent_complete")["data"]["reason"] == "agent", why
    assert approx(d["ring_s"], 2.0, 1.0), f"ring_s {d['ring_s']}\n{why}"
    t = recordings(d)
    sounds = batch.service.sounds
    at = [t.offset(s["at"]) for s in d["steps"]]
    answered = t.offset(d["agent_answered_at"])
    t.sequence("agent", [
        ("the invalid-key prompt", prompt(sounds, "invalid"), at[0]),
        ("the main menu, second try", prompt(sounds, "menu-main"), at[0] + 5.6),
        ("the no-key prompt", prompt(sounds, "timeout"), at[1]),
        ("the transfer prompt", prompt(sounds, "transfer"), at[2]),
        ("agent1001's words", batch.say["agent1001"].pcm, answered + 0.5),
        ("goodbye", prompt(sounds, "goodbye"), answered + 4.5),
    ])  # fmt: skip


def test_caller_hangs_up_during_the_greeting(batch: Batch) -> None:
    d = batch.detail("greeting_hangup")
    why = batch.context("greeting_hangup")
    assert (d["steps"], d["route"], d["agent"], d["hangup_by"], d["status"], d["error"]) == (
        [], None, None, "caller", "ended", None), why
    assert event(d, "greeting")["data"]["complete"] is False, why
    assert approx((when(d["ended_at"]) - when(d["answered_at"])).total_seconds(), 3.0, 1.0), why
    t = recordings(d)
    t.heard(prompt(batch.service.sounds, "greeting", 2.5), "agent", "the start of the opening line", by=SLACK_S)
    t.heard(batch.say["caller"].pcm, "caller", "the caller's words", by=0.5 + SLACK_S)
    assert t.seconds < 4.0, f"a {t.seconds:.1f}s recording for a call that lasted 3 s"
