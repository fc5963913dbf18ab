"""Dialplan applications the simulator runs (from ``EXEC`` or its own dialplan), and agent legs.

Dial and Queue (queue.py) reach the script's agent: the agent leg is ``<interface>-<n>``
in the ``agents`` context, Linkedid = the caller's Uniqueid, and it answers
``answer_after`` seconds after it starts ringing (Dial uses the interface it was given;
Queue rings the script agent's interface, its only member). Event orders follow the
inbound-call-dial and dial-no-answer traces; orders no trace shows (the caller hanging
up while the agent rings) are modelled on app_dial.c. While Dial rings, the caller hears
ringback (it is on the MixMonitor transmit track, as in the real recording).
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pbx.simulator.channel import RINGING, UP, Bridge, Channel
from pbx.simulator.media import AGENT_VOICE, CALLER_VOICE, ringback
from pbx.simulator.recorder import Segment, parse_mixmonitor_args

if TYPE_CHECKING:
    from pbx.simulator.call import SimCall
    from pbx.simulator.script import Agent

log = logging.getLogger("pbx.simulator")

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


async def run(call: SimCall, app: str, data: str) -> int:
    """EXEC an application; returns its result (-2: no such application)."""
    func = _APPS.get(app.lower())
    if func is None:
        log.warning("simulator: %s: could not find application %r", call.channel, app)
        return -2
    chan = call.chan
    saved = chan.application, chan.appdata
    chan.application, chan.appdata = app, data
    try:
        return await func(call, data)
    finally:
        chan.application, chan.appdata = saved


def _clear(call: SimCall, *names: str) -> None:
    for name in names:
        call.varset(call.chan, name, "")


def _new_leg(call: SimCall, interface: str, app: str) -> AgentLeg:
    peer = interface.partition("/")[2]
    num, name = agent_callerid(peer)
    chan = call.sim.new_channel(interface, num, name, context="agents", exten="s", linkedid=call.chan.linkedid)
    chan.is_agent = True
    chan.call = call
    leg = AgentLeg(chan=chan, app=app, agent=call.script.agent, peer=peer, ring_start=call.now())
    call.leg = leg
    call.agent_channel = chan.name
    call.emit(chan.event("Newchannel", "call,all"))
    call.varset(chan, "SIPCALLID", f"{uuid.uuid4().hex}@127.0.0.1:5060")
    chan.exten = ""  # what the real trace shows at this point
    call.varset(chan, "DIALEDPEERNUMBER", peer)
    chan.exten = call.chan.exten
    chan.connected_num, chan.connected_name = call.chan.caller_num, call.chan.caller_name
    chan.application, chan.appdata = ("AppDial" if app == "Dial" else "AppQueue"), "(Outgoing Line)"
    return leg


def _device(call: SimCall, device: str, state: str) -> None:
    call.emit([("Event", "DeviceStateChange"), ("Privilege", "call,all"), ("Device", device), ("State", state)])


def _schedule_answer(call: SimCall, leg: AgentLeg, limit: float | None) -> asyncio.TimerHandle | None:
    after = leg.agent.answer_after if leg.agent is not None else None
    if after is not None and (limit is None or after < limit):
        return call.at(leg.ring_start + after, call.signal, "answer")
    return None


def _ring_tone(call: SimCall) -> Segment:
    seg = Segment(start=call.now(), maker=ringback)  # cut when the ringing stops
    call.tx.append(seg)
    return seg


def _leg_hangup(call: SimCall, leg: AgentLeg, cause: int = 16) -> None:
    from pbx.simulator.channel import cause_text

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


def _bridge(call: SimCall, leg: AgentLeg) -> None:
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


def _unbridge_vars(call: SimCall, leg: AgentLeg, first: Channel) -> None:
    for chan in (first, leg.chan if first is call.chan else call.chan):
        call.varset(chan, "BRIDGEPEER", "")
        call.varset(chan, "BRIDGEPVTCALLID", "")


def _leave(call: SimCall, bridge: Bridge, chan: Channel) -> None:
    # MixMonitor keeps a bridge on simple_bridge; without it chan_sip goes native RTP.
    bridge.technology = "simple_bridge" if call.recording_active() else "native_rtp"
    if chan in bridge.channels:
        bridge.channels.remove(chan)
    chan.bridge_id = ""
    call.emit(bridge.event("BridgeLeave", chan))


def _times(call: SimCall, leg: AgentLeg, dial_start: float, *, queue: bool = False) -> None:
    now = call.now()
    answered = now - (leg.answered if leg.answered is not None else now)
    dialed = now - dial_start
    call.varset(call.chan, "ANSWEREDTIME", str(int(answered)))
    call.varset(call.chan, "ANSWEREDTIME_MS", str(int(answered * 1000)))
    call.varset(call.chan, "DIALEDTIME", str(int(dialed)))
    call.varset(call.chan, "DIALEDTIME_MS", str(int(dialed * 1000)))


# -- Dial -------------------------------------------------------------------------------------
async def dial(call: SimCall, data: str, *, in_agi: bool = True) -> int:
    args = data.split(",")
    interface = args[0].split("&")[0].strip()
    timeout = float(args[1]) if len(args) > 1 and args[1].strip() else None
    dial_start = call.now()
    _clear(call, "DIALSTATUS", "DIALEDPEERNUMBER", "DIALEDPEERNAME", "ANSWEREDTIME", "ANSWEREDTIME_MS",
           "DIALEDTIME", "DIALEDTIME_MS", "RINGTIME", "RINGTIME_MS", "PROGRESSTIME", "PROGRESSTIME_MS")
    tech, _, peer = interface.partition("/")
    if call.script.agent is None or tech.upper() != "SIP" or not peer:
        # The peer is not registered: no channel, no DialBegin (chan_sip cause 20).
        call.varset(call.chan, "DIALSTATUS", "CHANUNAVAIL")
        return 0
    leg = _new_leg(call, f"{tech}/{peer}", "Dial")
    chan = leg.chan
    call.emit(chan.event("Newexten", "dialplan,all", ("Extension", chan.exten), ("Application", "AppDial"),
                         ("AppData", "(Outgoing Line)")))  # fmt: skip
    call.emit(chan.event("NewConnectedLine", "call,all"))
    call.emit(call.chan.dest_event("DialBegin", "call,all", chan, ("DialString", peer)))
    call.chan.connected_num, call.chan.connected_name = chan.caller_num, chan.caller_name
    call.emit(call.chan.event("NewConnectedLine", "call,all"))
    chan.state = RINGING
    call.emit(chan.event("Newstate", "call,all"))
    call.varset(call.chan, "RINGTIME", "0")
    call.varset(call.chan, "RINGTIME_MS", "0")
    _device(call, interface, "RINGING")
    call.emit(call.chan.dest_event("DialState", "call,all", chan, ("DialStatus", "RINGING")))
    call.cdr_app, call.cdr_dest, call.cdr_disposition = ("Dial", data), chan, "NO ANSWER"
    tone = _ring_tone(call)
    answer = _schedule_answer(call, leg, timeout)
    kind, _ = await call.wait(timeout, wake=ANSWER_WAKE)
    if answer is not None:
        answer.cancel()
    tone.stop_at(call.now())
    if kind != "answer" or leg.hung_up:
        status = "CANCEL" if kind == "end" else "NOANSWER"
        call.emit(call.chan.dest_event("DialEnd", "call,all", chan, ("DialStatus", status)))
        _device(call, interface, "NOT_INUSE")
        _leg_hangup(call, leg)
        call.varset(call.chan, "DIALSTATUS", status)
        return -1 if kind == "end" else 0
    leg.answered = call.now()
    chan.state = UP
    call.emit(chan.event("Newstate", "call,all"))
    call.varset(call.chan, "DIALSTATUS", "ANSWER")
    call.varset(call.chan, "DIALEDPEERNAME", chan.name)
    call.varset(call.chan, "DIALEDPEERNUMBER", peer)
    chan.exten = ""
    call.emit(call.chan.dest_event("DialEnd", "call,all", chan, ("DialStatus", "ANSWER")))
    call.cdr_disposition = "ANSWERED"
    _device(call, interface, "INUSE")
    _bridge(call, leg)
    bridge = leg.bridge
    assert bridge is not None
    kind, _ = await call.wait(None, wake=BRIDGE_WAKE)
    if kind == "agent_bye" and not call.ending:
        _unbridge_vars(call, leg, chan)
        _leave(call, bridge, chan)
        _leg_hangup(call, leg)
        _device(call, interface, "NOT_INUSE")
        _leave(call, bridge, call.chan)
        call.emit(bridge.event("BridgeDestroy"))
        _times(call, leg, dial_start)
        call.varset(call.chan, "DIALSTATUS", "ANSWER")
        return -1
    # The caller hung up (or was hung up) while bridged.
    _unbridge_vars(call, leg, call.chan)
    _leave(call, bridge, call.chan)
    _times(call, leg, dial_start)
    _leave(call, bridge, chan)
    call.varset(call.chan, "DIALSTATUS", "ANSWER")
    call.cdr_end = call.now()
    call.after["agi_end"].append(lambda: call.emit(bridge.event("BridgeDestroy")))

    def agent_gone() -> None:
        _leg_hangup(call, leg)
        _device(call, interface, "NOT_INUSE")

    call.after["caller_hangup"].append(agent_gone)
    return -1


# -- small applications -------------------------------------------------------------------------
async def _mixmonitor(call: SimCall, data: str) -> int:
    filename, options = parse_mixmonitor_args(data)
    if not filename and not (options.get("r") or options.get("t")):
        log.warning("simulator: %s: MixMonitor requires an argument (filename or ,t(filename) and/or r(filename)",
                    call.channel)  # fmt: skip
        return -1
    call.start_mixmonitor(filename, options)
    return 0


async def _stop_mixmonitor(call: SimCall, data: str) -> int:
    call.stop_mixmonitors()
    return 0


async def _playback(call: SimCall, data: str) -> int:
    files = data.split(",", 1)[0]
    ok = True
    for name in filter(None, files.split("&")):
        played = await call.play(name, escape=None)
        if played is None:
            ok = False
            continue
        if played[0] is None:
            call.varset(call.chan, "PLAYBACKSTATUS", "FAILED")
            return -1
    call.varset(call.chan, "PLAYBACKSTATUS", "SUCCESS" if ok else "FAILED")
    return 0


async def _wait(call: SimCall, data: str) -> int:
    kind, _ = await call.wait(float(data or 0))
    return -1 if kind in ("end", "redirect") else 0


async def _set(call: SimCall, data: str) -> int:
    name, sep, value = data.partition("=")
    if sep and name.strip():
        call.sim.write_variable(call.chan, name.strip(), value)
    return 0


async def _answer(call: SimCall, data: str) -> int:
    call.answer()
    return 0


async def _noop(call: SimCall, data: str) -> int:
    return 0


async def _hangup(call: SimCall, data: str) -> int:
    cause = int(data) if data.strip().isdigit() else None
    call.soft_hangup(cause)
    return -1


async def _queue_app(call: SimCall, data: str) -> int:
    from pbx.simulator.queue import queue

    return await queue(call, data)


async def _dial_app(call: SimCall, data: str) -> int:
    return await dial(call, data)


_APPS = {
    "mixmonitor": _mixmonitor, "stopmixmonitor": _stop_mixmonitor, "playback": _playback, "wait": _wait,
    "set": _set, "answer": _answer, "noop": _noop, "verbose": _noop, "log": _noop, "hangup": _hangup,
    "dial": _dial_app, "queue": _queue_app,
}  # fmt: skip
