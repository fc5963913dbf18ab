"""The calls of the real-PBX run: who calls, what they press and say, what each agent does.

Every call runs in one batch, at the same time, so the suite takes as long as its longest
call (about 70 s) rather than the sum. Times are seconds from the caller's answer (the
caller's clock); a call's ``start_s`` delays its INVITE. The shipped prompts are long
(greeting 9.8 s, main menu 18.1 s, orders 13.8 s, invalid 5.6 s, timeout 6.1 s, transfer
5.4 s, goodbye 4.5 s), so a key meant for a menu is pressed 3 s into that menu's GET DATA
(the first at 13 s): Hotline's flow falls behind the caller's clock when a busy machine
starves Asterisk (seen: the greeting ending 2.6 s late), and a key that arrives before
the menu's GET DATA is type-ahead, which the tests tell apart.

The only constraint between calls is the queue: ``support`` and ``complaints`` ring
every member that is free (``ringinuse = no``; a ringing or busy agent is skipped). So
agent1001 answers every queue call and is idle, by at least 4 s, whenever one starts to
ring: its calls end on the caller's clock (a BYE at a set time), and a late flow only
makes the next queue ring later. agent1002 answers only Dial calls (``aftersales``),
which ring it whatever its state, and rings unanswered whenever a queue offers it a call.

agent1001 busy (batch time, on time): 15.4-25.0 typeahead (Dial), 29.6-39.5 queue,
44.0-53.5 noanswer's fallback queue, 57.6-~63 retries' fallback queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pbx_media import Speech
from pbx_sipp import Answer, Caller

# No phrase shares a stretch of audio with another or with a prompt (espeak renders the
# same syllables after a pause sample for sample: 您好，请讲 began like the greeting).
CALLER_SAYS = "喂，你好。"  # 2.2 s
AGENT_SAYS = {"agent1001": "没问题，马上办。", "agent1002": "好的，明白。"}  # 3.6 s, 2.6 s
LOAD_SAYS = "我要投诉。"  # 2.2 s


@dataclass(frozen=True)
class Planned:
    name: str
    caller: Caller
    agents: dict[str, Answer] = field(default_factory=dict)  # agent name -> its part in this call


def scenarios(say: dict[str, Speech]) -> dict[str, Planned]:
    """The scenario calls; ``say`` holds the phrases by speaker (caller, agent1001, agent1002)."""
    me = say["caller"]
    a1 = ((say["agent1001"], 0.5),)
    a2 = ((say["agent1002"], 0.5),)
    plans = [
        # submenu, back with *, repeat, then the hangup route; the caller speaks in the greeting.
        Planned("walk", Caller("5550101", dtmf=(("1", 13.0), ("*", 16.0), ("9", 19.0), ("#", 22.0)),
                               speech=((me, 1.0),))),
        # 1 and 2 typed during the greeting: orders -> operator (Dial agent1001), caller hangs up.
        Planned("typeahead", Caller("5550102", dtmf=(("1", 3.0), ("2", 4.5)), speech=((me, 22.0),), bye_at=25.0),
                {"agent1001": Answer(1.5, a1)}),
        # 3: queue complaints, agent1001 answers after 2 s, the caller hangs up first.
        Planned("queue", Caller("5550103", dtmf=(("3", 13.0),), speech=((me, 25.0),), bye_at=28.5, start_s=11.0),
                {"agent1001": Answer(2.0, a1)}),
        # 2: Dial agent1002, which rings 20 s unanswered; fallback queue support, agent1001 answers.
        Planned("noanswer", Caller("5550104", dtmf=(("2", 13.0),), speech=((me, 50.0),), bye_at=53.5),
                {"agent1001": Answer(2.0, a1)}),
        # 2: Dial agent1002, which answers, speaks and hangs up 4 s later; goodbye, system BYE.
        Planned("agent_first", Caller("5550105", dtmf=(("2", 13.0),), speech=((me, 21.0),)),
                {"agent1002": Answer(1.5, a2, bye_after_s=4.0)}),
        # 7 (invalid), nothing (timeout), 8 (invalid, third try): fallback queue support;
        # agent1001 answers and hangs up first.
        Planned("retries", Caller("5550106", dtmf=(("7", 13.0), ("8", 51.0)), start_s=1.0),
                {"agent1001": Answer(2.0, a1, bye_after_s=4.5)}),
        # BYE 3 s into the 9.8 s greeting.
        Planned("greeting_hangup", Caller("5550107", speech=((me, 0.5),), bye_at=3.0)),
    ]
    return {p.name: p for p in plans}


LOAD_KINDS = {  # kind -> (digits, the menu path they make)
    "repeat": ((("9", 13.0), ("#", 15.5)), "main:9 > main:#"),
    "submenu": ((("1", 13.0), ("*", 15.5), ("#", 18.0)), "main:1 > orders:* > main:#"),
}


def load_calls(say: dict[str, Speech], count: int = 20) -> dict[str, tuple[Caller, str]]:
    """``count`` calls at once, no agents: half repeat then hang up, half go to orders and back."""
    out = {}
    kinds = list(LOAD_KINDS.values())
    for i in range(count):
        digits, path = kinds[i % len(kinds)]
        number = f"55502{i + 1:02d}"
        out[number] = (Caller(number, dtmf=digits, speech=((say["load"], 1.0),)), path)
    return out
