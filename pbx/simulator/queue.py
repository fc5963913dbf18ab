"""Queue(): the lab's ``support`` queue, as app_queue.c runs it for one caller.

HoldTime/RingTime/TalkTime are differences of whole-second clock readings in
app_queue.c (4.96 s of talk showed as 5), so they are rounded, while the
``*TIME_MS`` variables are exact and ``ANSWEREDTIME`` truncates them (4962 ms -> 4).

Settings: ringall, 15 s ring per attempt (``timeout``), 5 s between attempts (``retry``),
MOH class ``default`` with no files (the caller hears silence), every queue name known,
its only member the script's agent. The connected call and both hangup orders follow the
queue-agent-hangs-up-first / queue-caller-hangs-up-first traces: ``AgentComplete``
``Reason`` says who hung up first and Queue returns -1 either way. A caller giving up while
the member rings (two ``DialEnd CANCEL``, ``QueueCallerAbandon`` then ``QueueCallerLeave``)
follows the real Asterisk 20 (tests/pbx/test_pbx_stream.py); ring timeouts
(``AgentRingNoAnswer``) are modelled on app_queue.c, nothing real shows them yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pbx.simulator import legs
from pbx.simulator.channel import RINGING, UP

if TYPE_CHECKING:
    from pbx.simulator.call import SimCall

QUEUE_RING_TIMEOUT = 15.0
QUEUE_RETRY = 5.0


# -- Queue ------------------------------------------------------------------------------------
def _member_status(call: SimCall, queue: str, interface: str, status: int, in_call: int = 0) -> None:
    call.emit([
        ("Event", "QueueMemberStatus"), ("Privilege", "agent,all"), ("Queue", queue), ("MemberName", interface),
        ("Interface", interface), ("StateInterface", interface), ("Membership", "static"), ("Penalty", "0"),
        ("CallsTaken", "0"), ("LastCall", "0"), ("LastPause", "0"), ("LoginTime", str(int(call.sim.started_wall))),
        ("InCall", str(in_call)), ("Status", str(status)), ("Paused", "0"), ("PausedReason", ""),
        ("Ringinuse", "0"), ("Wrapuptime", "0"),
    ])  # fmt: skip


def _queue_fields(queue: str, interface: str) -> list[tuple[str, str]]:
    return [("Queue", queue), ("Interface", interface), ("MemberName", interface)]


async def queue(call: SimCall, data: str) -> int:
    args = data.split(",")
    qname = args[0].strip()
    if not qname:
        return -1
    limit = float(args[4]) if len(args) > 4 and args[4].strip() else None
    caller = call.chan
    legs.clear_vars(call, "ANSWEREDTIME", "ANSWEREDTIME_MS", "DIALEDTIME", "DIALEDTIME_MS", "QUEUEWAIT", "QUEUEWAIT_MS")
    legs.device_state(call, f"Queue:{qname}", "RINGING")
    call.emit(caller.event("QueueCallerJoin", "agent,all", ("Queue", qname), ("Position", "1"), ("Count", "1")))
    call.emit(caller.event("MusicOnHoldStart", "call,all", ("Class", "default")))
    call.cdr_app = ("Queue", data)
    joined = call.now()
    deadline = None if limit is None else joined + limit
    agent = call.script.agent
    leg: legs.AgentLeg | None = None
    while True:
        left = None if deadline is None else max(0.0, deadline - call.now())
        if agent is None:  # no member can be reached: the caller waits on hold
            kind, _ = await call.wait(left, wake=legs.ANSWER_WAKE)
        else:
            leg = _queue_ring(call, qname, agent.interface)
            ring = QUEUE_RING_TIMEOUT if left is None else min(QUEUE_RING_TIMEOUT, left)
            answer = legs.schedule_answer(call, leg, ring)
            kind, _ = await call.wait(ring, wake=legs.ANSWER_WAKE)
            if answer is not None:
                answer.cancel()
            if kind == "answer" and not leg.hung_up:
                return await _queue_connect(call, qname, leg, joined)
            status = "CANCEL" if kind == "end" or (deadline is not None and call.now() >= deadline) else "NOANSWER"
            # The real Queue ends a member with two DialEnd CANCEL when the caller hangs up
            # (tests/pbx/test_pbx_stream.py); its own timeout (a CANCEL too) is not seen yet.
            for _ in range(2 if kind == "end" else 1):
                call.emit(caller.dest_event("DialEnd", "call,all", leg.chan, ("DialStatus", status)))
            if status == "NOANSWER":  # modelled on app_queue.c (not in the traces)
                call.emit(caller.dest_event("AgentRingNoAnswer", "agent,all", leg.chan,
                                            *_queue_fields(qname, agent.interface),
                                            ("RingTime", str(round(call.now() - leg.ring_start)))))  # fmt: skip
            legs.leg_hangup(call, leg)
            legs.device_state(call, agent.interface, "NOT_INUSE")
            _member_status(call, qname, agent.interface, 1)
            call.cdr_end = None
            if kind not in ("end", "redirect") and (deadline is None or call.now() < deadline):
                left = None if deadline is None else max(0.0, deadline - call.now())
                pause = QUEUE_RETRY if left is None else min(QUEUE_RETRY, left)
                kind, _ = await call.wait(pause, wake=legs.ANSWER_WAKE)
                if kind == "timeout" and (deadline is None or call.now() < deadline):
                    continue
        call.emit(caller.event("MusicOnHoldStop", "call,all"))
        legs.device_state(call, f"Queue:{qname}", "NOT_INUSE")
        hold = str(round(call.now() - joined))
        if kind == "end":  # the caller gave up waiting: Abandon, then Leave too (the real PBX, test_pbx_stream)
            call.emit(caller.event("QueueCallerAbandon", "agent,all", ("Queue", qname), ("Position", "1"),
                                   ("OriginalPosition", "1"), ("HoldTime", hold)))  # fmt: skip
        call.emit(caller.event("QueueCallerLeave", "agent,all", ("Queue", qname), ("Position", "1"), ("Count", "0")))
        if kind == "end":
            return -1
        call.varset(caller, "QUEUESTATUS", "TIMEOUT")
        return 0


def _queue_ring(call: SimCall, qname: str, interface: str) -> legs.AgentLeg:
    leg = legs.new_leg(call, interface, "Queue")
    chan, caller = leg.chan, call.chan
    _member_status(call, qname, interface, 6)
    legs.device_state(call, interface, "RINGING")
    chan.set_state(RINGING)
    call.emit(chan.event("Newstate", "call,all"))
    call.emit(chan.event("Newexten", "dialplan,all", ("Extension", chan.exten), ("Application", "AppQueue"),
                         ("AppData", "(Outgoing Line)")))  # fmt: skip
    call.emit(chan.event("NewConnectedLine", "call,all"))
    call.emit(caller.dest_event("AgentCalled", "agent,all", chan, *_queue_fields(qname, interface)))
    call.emit(caller.dest_event("DialBegin", "call,all", chan, ("DialString", interface)))
    call.emit(caller.dest_event("DialState", "call,all", chan, ("DialStatus", "RINGING")))
    call.cdr_dest, call.cdr_disposition = chan, "NO ANSWER"
    return leg


async def _queue_connect(call: SimCall, qname: str, leg: legs.AgentLeg, joined: float) -> int:
    chan, caller, interface = leg.chan, call.chan, leg.agent.interface if leg.agent else leg.chan.name
    leg.answered = call.now()
    _member_status(call, qname, interface, 2)
    legs.device_state(call, interface, "INUSE")
    chan.set_state(UP)
    call.emit(chan.event("Newstate", "call,all"))
    call.emit(caller.dest_event("DialEnd", "call,all", chan, ("DialStatus", "ANSWER")))
    caller.connected_num, caller.connected_name = chan.caller_num, chan.caller_name
    call.emit(caller.event("NewConnectedLine", "call,all"))
    call.emit(caller.event("MusicOnHoldStop", "call,all"))
    legs.device_state(call, f"Queue:{qname}", "NOT_INUSE")
    call.emit(caller.event("QueueCallerLeave", "agent,all", ("Queue", qname), ("Position", "1"), ("Count", "0")))
    hold = call.now() - joined
    call.varset(caller, "QUEUEPOSITION", "1")
    call.varset(caller, "QUEUEWAIT", str(int(hold)))
    call.varset(caller, "QUEUEWAIT_MS", str(int(hold * 1000)))
    call.emit(caller.dest_event("AgentConnect", "agent,all", chan, *_queue_fields(qname, interface),
                                ("HoldTime", str(round(hold))),
                                ("RingTime", str(round(leg.answered - leg.ring_start)))))  # fmt: skip
    call.cdr_disposition = "ANSWERED"
    legs.bridge_call(call, leg)
    bridge = leg.bridge
    assert bridge is not None
    kind, _ = await call.wait(None, wake=legs.BRIDGE_WAKE)
    talk = str(round(call.now() - leg.answered))
    reason = "agent" if kind == "agent_bye" and not call.ending else "caller"
    call.emit(caller.dest_event("AgentComplete", "agent,all", chan, *_queue_fields(qname, interface),
                                ("HoldTime", str(round(hold))), ("TalkTime", talk), ("Reason", reason)))  # fmt: skip
    if reason == "agent":
        legs.unbridge_vars(call, leg, chan)
        legs.leave_bridge(call, bridge, chan)
        legs.leg_hangup(call, leg)
        _member_status(call, qname, interface, 1)
        legs.device_state(call, interface, "NOT_INUSE")
        legs.leave_bridge(call, bridge, caller)
        call.emit(bridge.event("BridgeDestroy"))
        legs.dial_times(call, leg, joined)
        return -1
    legs.unbridge_vars(call, leg, caller)
    legs.leave_bridge(call, bridge, caller)
    legs.dial_times(call, leg, joined)
    call.cdr_end = call.now()

    def agent_gone() -> None:
        legs.leave_bridge(call, bridge, chan)
        call.emit(bridge.event("BridgeDestroy"))
        legs.device_state(call, interface, "NOT_INUSE")
        _member_status(call, qname, interface, 1)
        legs.leg_hangup(call, leg)

    call.after["agistatus"].append(agent_gone)
    return -1
