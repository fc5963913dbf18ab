"""AMI Originate: place a call from a SIP peer into the dialplan (manager.c action_originate).

``Action: Originate`` with ``Channel: SIP/<peer>``, ``Context``/``Exten``/``Priority`` (or
``Application: AGI`` / ``Data: agi:async``), optional ``CallerID``, ``Timeout`` (ms),
``Variable: name=value`` lines and ``Async``. The peer answers after ``RING_SECONDS``;
then ``OriginateResponse`` (``Reason: 4`` = answered) goes out and the channel runs the
dialplan, so a ``hotline`` extension reaches Async AGI like an inbound call. What the
far end then does comes from a registered script: ``Variable: SIM_SCRIPT=<name>`` picks
``sim.register_script(script)``, otherwise ``sim.originate_script`` (stays silent).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pbx.protocol import Message
from pbx.simulator.manager import ack, error

if TYPE_CHECKING:
    from pbx.simulator.call import SimCall
    from pbx.simulator.server import AsteriskSimulator
    from pbx.simulator.session import AmiSession

RING_SECONDS = 0.5


@dataclass
class OriginateRequest:
    context: str
    exten: str
    priority: int
    application: str
    data: str
    action_id: str
    answered: asyncio.Future[bool] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


async def originate(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    """``Action: Originate``: refused at once, queued (``Async``), or answered once the peer answers."""
    name = (msg.get("Channel") or "").strip()
    if not name:
        error(session, aid, "Channel not specified")
        return
    tech, sep, peer = name.partition("/")
    if not sep or not tech or not peer or "-" in peer:
        error(session, aid, "Invalid channel")
        return
    app = (msg.get("Application") or "").strip()
    context, exten = (msg.get("Context") or "").strip(), (msg.get("Exten") or "").strip()
    prio_text = (msg.get("Priority") or "1").strip()
    if not app and not prio_text.isdigit():
        error(session, aid, "Invalid priority")
        return
    if app and app.lower() != "agi":
        error(session, aid, "Originate failed")  # only AGI(agi:async) is simulated as an application
        return
    variables = dict(v.partition("=")[::2] for v in msg.getall("Variable"))
    script = sim.scripts.get(variables.get("SIM_SCRIPT", ""), sim.originate_script)
    cid = msg.get("CallerID") or ""
    m = re.match(r'\s*"?([^"<]*?)"?\s*<([^>]*)>', cid)
    if m:
        script = dataclasses.replace(script, caller_name=m.group(1) or script.caller_name,
                                     caller_num=m.group(2) or script.caller_num)  # fmt: skip
    elif cid.strip():
        script = dataclasses.replace(script, caller_num=cid.strip())
    if exten:
        script = dataclasses.replace(script, exten=exten)
    request = OriginateRequest(context=context or "hotline", exten=exten or "s", priority=int(prio_text or 1),
                               application=app, data=msg.get("Data") or "", action_id=aid)  # fmt: skip
    call = sim.start_call(script, peer=f"{tech}/{peer}", origin=request)
    for key, value in variables.items():
        if key and key != "SIM_SCRIPT":
            call.chan.vars[key] = value
    if (msg.get("Async") or "").strip().lower() in ("true", "yes", "1", "on"):
        ack(session, aid, "Originate successfully queued")
        return
    answered = await asyncio.shield(request.answered)
    if answered:
        ack(session, aid, "Originate successfully queued")
    else:
        error(session, aid, "Originate failed")


def originate_response(call: SimCall, request: OriginateRequest, success: bool) -> list[tuple[str, str]]:
    chan = call.chan
    return [
        ("Event", "OriginateResponse"), ("Privilege", "call,all"),
        *([("ActionID", request.action_id)] if request.action_id else []),
        ("Response", "Success" if success else "Failure"), ("Channel", chan.name), ("Context", request.context),
        ("Exten", request.exten), ("Reason", "4" if success else "0"), ("Uniqueid", chan.uniqueid),
        ("CallerIDNum", chan.caller_num), ("CallerIDName", chan.caller_name),
    ]  # fmt: skip
