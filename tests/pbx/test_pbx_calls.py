"""Each scenario call of the batch (pbx_plan): what Hotline recorded and what the recordings hold.

Times in the assertions are from the plan: digits at 11 s land in the main menu's GET DATA
(the 9.8 s greeting is over), agents ring 1.5-2 s, and so on. Ring and talk times are
measured by Hotline from real SIP timing, so they get a tolerance of about a second.
"""

from __future__ import annotations

import pytest
from pbx_batch import Batch
from pbx_checks import event, prompt, recordings, steps, when

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
    t.heard(prompt(sounds, "greeting"), "agent", 0.0, what="the opening line")
    t.heard(batch.say["caller"].pcm, "caller", 1.0, what="the caller's words")
    # The last menu (the repeat) played again from its start, and the goodbye came after '#'.
    t.heard(prompt(sounds, "menu-main", 1.5), "agent", t.offset(d["steps"][2]["at"]), what="the repeated main menu")
    t.heard(prompt(sounds, "goodbye"), "agent", t.offset(d["steps"][3]["at"]), what="goodbye")


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
    # Typed-ahead keys answer the menus without playing them: straight to the transfer prompt.
    t.absent(prompt(sounds, "menu-main", 2.0), "agent", "the main menu prompt")
    t.absent(prompt(sounds, "menu-orders", 2.0), "agent", "the orders menu prompt")
    t.heard(prompt(sounds, "transfer"), "agent", t.offset(d["steps"][1]["at"]), what="the transfer prompt")
    answered = t.offset(d["agent_answered_at"])
    t.heard(batch.say["agent1001"].pcm, "agent", answered + 0.5, what="agent1001's words")
    t.heard(batch.say["caller"].pcm, "caller", 20.5, what="the caller's words")
    assert approx(d["talk_s"], 23.5 - (answered + 0.05), 1.0), f"talk_s {d['talk_s']}\n{why}"


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
    t.heard(batch.say["agent1001"].pcm, "agent", t.offset(d["agent_answered_at"]) + 0.5, what="agent1001's words")
    t.heard(batch.say["caller"].pcm, "caller", 23.0, what="the caller's words")
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
    assert approx(d["ring_s"], 2.0, 1.0), f"ring_s {d['ring_s']} (the queue agent's, not the missed Dial's)\n{why}"
    t = recordings(d)
    t.heard(batch.say["agent1001"].pcm, "agent", t.offset(d["agent_answered_at"]) + 0.5, what="agent1001's words")
    t.heard(batch.say["caller"].pcm, "caller", 48.0, what="the caller's words")


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
    t.heard(batch.say["agent1002"].pcm, "agent", answered + 0.5, what="agent1002's words")
    t.heard(batch.say["caller"].pcm, "caller", 19.0, what="the caller's words")
    # The caller is not left in silence: goodbye once the agent has gone, then Hotline hangs up.
    t.heard(prompt(batch.service.sounds, "goodbye"), "agent", answered + 4.0, slack=1.0, what="goodbye")


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
    t.heard(prompt(sounds, "invalid"), "agent", t.offset(d["steps"][0]["at"]), what="the invalid-key prompt")
    t.heard(prompt(sounds, "timeout"), "agent", t.offset(d["steps"][1]["at"]), what="the no-key prompt")
    answered = t.offset(d["agent_answered_at"])
    t.heard(batch.say["agent1001"].pcm, "agent", answered + 0.5, what="agent1001's words")
    t.heard(prompt(sounds, "goodbye"), "agent", answered + 4.0, slack=1.0, what="goodbye")


def test_caller_hangs_up_during_the_greeting(batch: Batch) -> None:
    d = batch.detail("greeting_hangup")
    why = batch.context("greeting_hangup")
    assert (d["steps"], d["route"], d["agent"], d["hangup_by"], d["status"], d["error"]) == (
        [], None, None, "caller", "ended", None), why
    assert event(d, "greeting")["data"]["complete"] is False, why
    assert approx((when(d["ended_at"]) - when(d["answered_at"])).total_seconds(), 3.0, 1.0), why
    t = recordings(d)
    t.heard(prompt(batch.service.sounds, "greeting", 2.5), "agent", 0.0, what="the start of the opening line")
    t.heard(batch.say["caller"].pcm, "caller", 0.5, what="the caller's words")
