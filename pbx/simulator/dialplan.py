"""What a call's channel runs: the inbound channel's first events, the dialplan, the Async AGI loop.

``run`` is the body of a call's task (``SimCall``): an inbound call shows Newchannel, its
SIP variables and Newstate Ring, then runs ``[hotline]`` from priority 1; an originated
channel rings, answers and runs where Originate sent it. Each dialplan step sets the
channel's Application/AppData and sends Newexten. ``AGI(agi:async)`` is ``async_agi``:
AsyncAGIStart with the environment, then queued AGI commands one at a time until the
channel hangs up, is redirected, or the AGI ends (ASYNCAGI BREAK, a failed command);
then AsyncAGIEnd and ``AGISTATUS``.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from pbx.protocol import agi_encode
from pbx.simulator import agi, apps
from pbx.simulator.channel import RING, RINGING
from pbx.simulator.originate import RING_SECONDS, OriginateRequest, originate_response
from pbx.simulator.records import agi_env

if TYPE_CHECKING:
    from pbx.simulator.call import SimCall


async def run(call: SimCall) -> None:
    """The call's whole life, from the first event to the dialplan's end."""
    if call.origin is not None:
        await run_originated(call, call.origin)
        return
    chan = call.chan
    call.emit(chan.event("Newchannel", "call,all"))
    call.varset(chan, "SIPURI", f"sip:{call.script.caller_num}@127.0.0.1:5061")
    call.varset(chan, "SIPDOMAIN", "127.0.0.1")
    call.varset(chan, "SIPCALLID", f"{call.seq + 1}-{10725 + call.seq}@127.0.0.1")
    chan.set_state(RING)
    call.emit(chan.event("Newstate", "call,all"))
    call.sim.emit_security("SuccessfulAuth", "SIP", chan.exten, ("UsingPassword", "0"))
    await dialplan(call, "hotline", call.script.exten, 1)


async def dialplan(call: SimCall, context: str, exten: str, priority: int) -> None:
    """Run the dialplan from ``context,exten,priority`` until the caller channel is hung up."""
    chan = call.chan
    while True:
        step = call.sim.dialplan(context, exten, priority)
        if step is None:  # dialplan ran out: the PBX hangs the channel up
            await call.hangup_caller(16 if call.hangup_cause is None else call.hangup_cause)
            return
        app, data = step
        chan.context, chan.exten, chan.priority = context, exten, priority
        chan.start_app(app, data)
        call.emit(chan.event("Newexten", "dialplan,all", ("Extension", exten), ("Application", app),
                             ("AppData", data)))  # fmt: skip
        if call.cdr_dest is None:
            call.cdr_app = (app, data)
        if app == "Answer":
            call.answer()
        elif app == "AGI":
            status = await async_agi(call)
            if status == "hangup":
                await call.hangup_caller(call.bye_cause())
                return
            if status == "redirect" and call.redirect is not None:
                context, exten, priority = call.redirect
                call.redirect = None
                continue
        elif app == "Hangup":
            await call.hangup_caller(16)
            return
        elif app == "Dial":
            res = await apps.dial(call, data, in_agi=False)
            call.run_after("agi_end")
            call.run_after("agistatus")
            if call.ending:
                await call.hangup_caller(call.bye_cause())
                return
            if res < 0:  # the agent hung up: Dial ends the dialplan, and the call with it
                call.hangup_by = call.hangup_by or ("agent" if call.agent_hung_up_first else None)
                await call.hangup_caller(16)
                return
        priority += 1


async def async_agi(call: SimCall) -> str:
    """AsyncAGIStart, queued commands until hangup/redirect/break/failure, AsyncAGIEnd, AGISTATUS."""
    chan = call.chan
    if chan.agi_queue is None:
        chan.agi_queue = deque()
    call.emit(chan.event("AsyncAGIStart", "agi,all", ("Env", agi_encode(agi_env(call)))))
    call.in_agi = True
    status = "hangup"
    while True:
        if call.ending:
            break
        if call.redirect:
            status = "redirect"
            break
        if chan.agi_queue:
            command, command_id = chan.agi_queue.popleft()
            outcome = await agi.execute(call, command, command_id)
            if outcome == "break":
                status = "break"
                break
            if outcome == "failure" and not call.ending and not call.redirect:
                status = "failure"
                break
            continue
        call.drop_queued_digits()  # the idle loop reads (and drops) them
        await call.wait(None, wake=frozenset({"end", "redirect", "cmd"}))
    call.in_agi = False
    call.emit(chan.event("AsyncAGIEnd", "agi,all"))
    call.run_after("agi_end")
    agistatus = {"break": "SUCCESS", "failure": "FAILURE"}.get(status, "HANGUP")
    call.varset(chan, "AGISTATUS", agistatus)
    call.run_after("agistatus")
    return status


async def run_originated(call: SimCall, request: OriginateRequest) -> None:
    """The originated channel: ringing, answered, OriginateResponse, then the dialplan (or AGI)."""
    chan = call.chan
    chan.exten = "s"
    call.emit(chan.event("Newchannel", "call,all"))
    call.varset(chan, "SIPCALLID", f"{call.seq + 1}-{10725 + call.seq}@127.0.0.1")
    chan.set_state(RINGING)
    call.emit(chan.event("Newstate", "call,all"))
    kind, _ = await call.wait(RING_SECONDS, wake=frozenset({"end"}))
    if kind == "end":
        call.emit(originate_response(call, request, False))
        request.answered.set_result(False)
        await call.hangup_caller(call.bye_cause())
        return
    call.answer()
    call.emit(originate_response(call, request, True))
    request.answered.set_result(True)
    if request.application:
        chan.start_app("AGI", request.data or "agi:async")
        call.cdr_app = ("AGI", chan.appdata)
        await async_agi(call)
        await call.hangup_caller(call.bye_cause())
        return
    await dialplan(call, request.context, request.exten, request.priority)
