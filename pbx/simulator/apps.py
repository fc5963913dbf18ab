"""Dialplan applications the simulator runs (from ``EXEC`` or its own dialplan): Dial and the small ones.

Dial and Queue (queue.py) reach the script's agent through an agent leg (legs.py): Dial
uses the interface it was given, Queue rings the script agent's interface, its only
member. Dial's event orders follow the inbound-call-dial and dial-no-answer traces; orders
no trace shows (the caller hanging up while the agent rings) are modelled on app_dial.c.
While Dial rings, the caller hears ringback (it is on the MixMonitor transmit track, as in
the real recording).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pbx.simulator import legs
from pbx.simulator.channel import RINGING, UP
from pbx.simulator.queue import queue
from pbx.simulator.recorder import parse_mixmonitor_args

if TYPE_CHECKING:
    from pbx.simulator.call import SimCall

log = logging.getLogger("pbx.simulator")


async def run(call: SimCall, app: str, data: str) -> int:
    """EXEC an application; returns its result (-2: no such application)."""
    func = _APPS.get(app.lower())
    if func is None:
        log.warning("simulator: %s: could not find application %r", call.channel, app)
        return -2
    chan = call.chan
    saved = chan.application, chan.appdata
    chan.start_app(app, data)
    try:
        return await func(call, data)
    finally:
        chan.end_app(*saved)


# -- Dial -------------------------------------------------------------------------------------
async def dial(call: SimCall, data: str, *, in_agi: bool = True) -> int:
    args = data.split(",")
    interface = args[0].split("&")[0].strip()
    timeout = float(args[1]) if len(args) > 1 and args[1].strip() else None
    dial_start = call.now()
    legs.clear_vars(call, "DIALSTATUS", "DIALEDPEERNUMBER", "DIALEDPEERNAME", "ANSWEREDTIME", "ANSWEREDTIME_MS",
           "DIALEDTIME", "DIALEDTIME_MS", "RINGTIME", "RINGTIME_MS", "PROGRESSTIME", "PROGRESSTIME_MS")
    tech, _, peer = interface.partition("/")
    if call.script.agent is None or tech.upper() != "SIP" or not peer:
        # The peer is not registered: no channel, no DialBegin (chan_sip cause 20).
        call.varset(call.chan, "DIALSTATUS", "CHANUNAVAIL")
        return 0
    leg = legs.new_leg(call, f"{tech}/{peer}", "Dial")
    chan = leg.chan
    call.emit(chan.event("Newexten", "dialplan,all", ("Extension", chan.exten), ("Application", "AppDial"),
                         ("AppData", "(Outgoing Line)")))  # fmt: skip
    call.emit(chan.event("NewConnectedLine", "call,all"))
    call.emit(call.chan.dest_event("DialBegin", "call,all", chan, ("DialString", peer)))
    call.chan.connected_num, call.chan.connected_name = chan.caller_num, chan.caller_name
    call.emit(call.chan.event("NewConnectedLine", "call,all"))
    chan.set_state(RINGING)
    call.emit(chan.event("Newstate", "call,all"))
    call.varset(call.chan, "RINGTIME", "0")
    call.varset(call.chan, "RINGTIME_MS", "0")
    legs.device_state(call, interface, "RINGING")
    call.emit(call.chan.dest_event("DialState", "call,all", chan, ("DialStatus", "RINGING")))
    call.cdr_app, call.cdr_dest, call.cdr_disposition = ("Dial", data), chan, "NO ANSWER"
    tone = legs.ring_tone(call)
    answer = legs.schedule_answer(call, leg, timeout)
    kind, _ = await call.wait(timeout, wake=legs.ANSWER_WAKE)
    if answer is not None:
        answer.cancel()
    tone.stop_at(call.now())
    if kind != "answer" or leg.hung_up:
        status = "CANCEL" if kind == "end" else "NOANSWER"
        call.emit(call.chan.dest_event("DialEnd", "call,all", chan, ("DialStatus", status)))
        legs.device_state(call, interface, "NOT_INUSE")
        legs.leg_hangup(call, leg)
        call.varset(call.chan, "DIALSTATUS", status)
        return -1 if kind == "end" else 0
    leg.answered = call.now()
    chan.set_state(UP)
    call.emit(chan.event("Newstate", "call,all"))
    call.varset(call.chan, "DIALSTATUS", "ANSWER")
    call.varset(call.chan, "DIALEDPEERNAME", chan.name)
    call.varset(call.chan, "DIALEDPEERNUMBER", peer)
    chan.exten = ""
    call.emit(call.chan.dest_event("DialEnd", "call,all", chan, ("DialStatus", "ANSWER")))
    call.cdr_disposition = "ANSWERED"
    legs.device_state(call, interface, "INUSE")
    legs.bridge_call(call, leg)
    bridge = leg.bridge
    assert bridge is not None
    kind, _ = await call.wait(None, wake=legs.BRIDGE_WAKE)
    if kind == "agent_bye" and not call.ending:
        legs.unbridge_vars(call, leg, chan)
        legs.leave_bridge(call, bridge, chan)
        legs.leg_hangup(call, leg)
        legs.device_state(call, interface, "NOT_INUSE")
        legs.leave_bridge(call, bridge, call.chan)
        call.emit(bridge.event("BridgeDestroy"))
        legs.dial_times(call, leg, dial_start)
        call.varset(call.chan, "DIALSTATUS", "ANSWER")
        return -1
    # The caller hung up (or was hung up) while bridged.
    legs.unbridge_vars(call, leg, call.chan)
    legs.leave_bridge(call, bridge, call.chan)
    legs.dial_times(call, leg, dial_start)
    legs.leave_bridge(call, bridge, chan)
    call.varset(call.chan, "DIALSTATUS", "ANSWER")
    call.cdr_end = call.now()
    call.after["agi_end"].append(lambda: call.emit(bridge.event("BridgeDestroy")))

    def agent_gone() -> None:
        legs.leg_hangup(call, leg)
        legs.device_state(call, interface, "NOT_INUSE")

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


async def _dial_app(call: SimCall, data: str) -> int:
    return await dial(call, data)


_APPS = {
    "mixmonitor": _mixmonitor, "stopmixmonitor": _stop_mixmonitor, "playback": _playback, "wait": _wait,
    "set": _set, "answer": _answer, "noop": _noop, "verbose": _noop, "log": _noop, "hangup": _hangup,
    "dial": _dial_app, "queue": queue,
}  # fmt: skip
