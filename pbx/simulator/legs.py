"""Agent legs: the channel a Dial or Queue rings, its bridge with the caller, and the conversation.

The agent leg is ``<interface>-<n>`` in the ``agents`` context, Linkedid = the caller's
Uniqueid, and it answers ``answer_after`` seconds after it starts ringing. Once bridged,
both sides say their scripted lines (on the MixMonitor tracks) and hang up as scripted.
Event orders follow the inbound-call-dial, dial-no-answer and queue traces; Dial (apps.py)
and Queue (queue.py) put these pieces together in their own orders.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pbx.simulator.channel import Bridge, Channel, cause_text
from pbx.simulator.media import AGENT_VOICE, CALLER_VOICE, ringback
from pbx.simulator.recorder import Segment

if TYPE_CHECKING:
    from pbx.simulator.call import SimCall
    from pbx.simulator.script import Agent

ANSWER_WAKE = frozenset({"end", "answer"})
BRIDGE_WAKE = frozenset({"end", "agent_bye"})


@dataclass
class AgentLeg:
    chan: Channel
    app: str  # Dial | Queue
    agent: Agent | None
    peer: str
    ring_start: float
    answered: float | None = None
    bridge: Bridge | None = None
    hung_up: bool = False
    speech: list[Segment] = field(default_factory=list)

    @property
    def bridged(self) -> bool:
        return self.bridge is not None and not self.hung_up


def agent_callerid(peer: str) -> tuple[str, str]:
    digits = re.search(r"(\d+)$", peer)
    return (digits.group(1), f"Agent {digits.group(1)}") if digits else (peer, peer)


def clear_vars(call: SimCall, *names: str) -> None:
    for name in names:
        call.varset(call.chan, name, "")


def new_leg(call: SimCall, interface: str, app: str) -> AgentLeg:
    peer = interface.partition("/")[2]
    num, name = agent_callerid(peer)
    chan = call.sim.new_channel(interface, num, name, context="agents", exten="s", linkedid=call.chan.linkedid)
    chan.is_agent = True
    chan.call = call
    leg = AgentLeg(chan=chan, app=app, agent=call.script.agent_for(interface), peer=peer, ring_start=call.now())
    call.leg = leg
    call.agent_channel = chan.name
    call.emit(chan.event("Newchannel", "call,all"))
    call.varset(chan, "SIPCALLID", f"{uuid.uuid4().hex}@127.0.0.1:5060")
    chan.exten = ""  # what the real trace shows at this point
    call.varset(chan, "DIALEDPEERNUMBER", peer)
    chan.exten = call.chan.exten
    chan.connected_num, chan.connected_name = call.chan.caller_num, call.chan.caller_name
    chan.start_app("AppDial" if app == "Dial" else "AppQueue", "(Outgoing Line)")
    return leg


def device_state(call: SimCall, device: str, state: str) -> None:
    call.emit([("Event", "DeviceStateChange"), ("Privilege", "call,all"), ("Device", device), ("State", state)])


def schedule_answer(call: SimCall, leg: AgentLeg, limit: float | None) -> asyncio.TimerHandle | None:
    after = leg.agent.answer_after if leg.agent is not None else None
    if after is not None and (limit is None or after < limit):
        return call.at(leg.ring_start + after, call.signal, "answer")
    return None


def ring_tone(call: SimCall) -> Segment:
    seg = Segment(start=call.now(), maker=ringback)  # cut when the ringing stops
    call.tx.append(seg)
    return seg


def leg_hangup(call: SimCall, leg: AgentLeg, cause: int = 16) -> None:
    if leg.chan.alive:
        leg.hung_up = True
        call.emit(leg.chan.event("Hangup", "call,all", ("Cause", str(cause)), ("Cause-txt", cause_text(cause))))
        leg.chan.alive = False
        call.sim.remove_channel(leg.chan)
        call.cdr_end = call.now() if call.cdr_end is None else call.cdr_end


def agent_bye(call: SimCall, soft: bool = False) -> None:
    """The agent hangs up first (BYE from the agent, or AMI Hangup on its channel)."""
    leg = call.leg
    if leg is None or leg.hung_up or not leg.chan.alive:
        return
    if soft:
        call.emit(leg.chan.event("SoftHangupRequest", "call,all", ("Cause", "32")))
    else:
        call.emit(leg.chan.event("HangupRequest", "call,all", ("Cause", "16")))
    leg.hung_up = True
    if leg.answered is not None:
        call.agent_hung_up_first = not call.ending
    now = call.now()
    for seg in leg.speech:
        seg.stop_at(now)
    call.signal("agent_bye")
    call.signal("answer")  # an agent hanging up while it rings ends the ringing too


def bridge_call(call: SimCall, leg: AgentLeg) -> None:
    bridge = Bridge(str(uuid.uuid4()))
    leg.bridge = bridge
    call.emit(bridge.event("BridgeCreate"))
    if leg.app == "Dial":
        leg.chan.exten = ""
        call.emit(leg.chan.event("Newexten", "dialplan,all", ("Extension", ""), ("Application", "AppDial"),
                                 ("AppData", "(Outgoing Line)")))  # fmt: skip
    for chan in (leg.chan, call.chan):
        bridge.channels.append(chan)
        chan.bridge_id = bridge.uniqueid
        call.emit(bridge.event("BridgeEnter", chan))
    for chan, other in ((leg.chan, call.chan), (call.chan, leg.chan)):
        call.varset(chan, "BRIDGEPEER", other.name)
        call.varset(chan, "BRIDGEPVTCALLID", other.vars.get("SIPCALLID", ""))
    call.was_bridged = True
    _converse(call, leg)


def _converse(call: SimCall, leg: AgentLeg) -> None:
    """Start the scripted conversation: speech on both tracks, scripted hangups."""
    start = leg.answered if leg.answered is not None else call.now()
    lines: list[tuple[float, asyncio.Future]] = []
    if leg.agent is not None:
        for say in leg.agent.says:
            seg = call.say(call.tx, start + say.at, say.text, AGENT_VOICE)
            leg.speech.append(seg)
            lines.append((start + say.at, seg.pending))  # type: ignore[arg-type]
        if leg.agent.hangs_up_after is not None:
            call.at(start + leg.agent.hangs_up_after, agent_bye, call)
    for say in call.script.says:
        seg = call.say(call.rx, start + say.at, say.text, CALLER_VOICE)
        lines.append((start + say.at, seg.pending))  # type: ignore[arg-type]
    agent_ends = leg.agent is not None and leg.agent.hangs_up_after is not None
    if call.script.hangs_up_at is None and not agent_ends:
        call._pending.append(asyncio.ensure_future(_hang_up_after_talk(call, leg, start, lines)))


async def _hang_up_after_talk(call: SimCall, leg: AgentLeg, start: float, lines: list) -> None:
    end = start
    for at, pending in lines:
        pcm = await asyncio.shield(pending)
        end = max(end, at + pcm.size / 8000)
    if leg.bridged and not call.ending:
        call.at(end + 2.0, lambda: call.caller_bye() if leg.bridged else None)


def unbridge_vars(call: SimCall, leg: AgentLeg, first: Channel) -> None:
    for chan in (first, leg.chan if first is call.chan else call.chan):
        call.varset(chan, "BRIDGEPEER", "")
        call.varset(chan, "BRIDGEPVTCALLID", "")


def leave_bridge(call: SimCall, bridge: Bridge, chan: Channel) -> None:
    # MixMonitor keeps a bridge on simple_bridge; without it chan_sip goes native RTP.
    bridge.technology = "simple_bridge" if call.recording_active() else "native_rtp"
    if chan in bridge.channels:
        bridge.channels.remove(chan)
    chan.bridge_id = ""
    call.emit(bridge.event("BridgeLeave", chan))


def dial_times(call: SimCall, leg: AgentLeg, dial_start: float, *, queue: bool = False) -> None:
    now = call.now()
    answered = now - (leg.answered if leg.answered is not None else now)
    dialed = now - dial_start
    call.varset(call.chan, "ANSWEREDTIME", str(int(answered)))
    call.varset(call.chan, "ANSWEREDTIME_MS", str(int(answered * 1000)))
    call.varset(call.chan, "DIALEDTIME", str(int(dialed)))
    call.varset(call.chan, "DIALEDTIME_MS", str(int(dialed * 1000)))
