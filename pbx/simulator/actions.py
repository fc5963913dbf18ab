"""AMI actions: what Asterisk 20's manager.c (and res_agi.c, app_mixmonitor.c) answer.

Texts are Asterisk's own: ``Permission denied`` before Login, ``Invalid/unknown
command: X. Use Action: ListCommands to show available commands.``, ``Channel X does
not exist.`` for AGI on a vanished channel, list actions answered with
``EventList: start`` and a ``...Complete`` event. Responses carry ``ActionID`` as their
second line when the action had one (manager.py); Originate is originate.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pbx.protocol import Message
from pbx.simulator.manager import Fields, ack, error, event_mask, response
from pbx.simulator.originate import originate
from pbx.simulator.recorder import MUTE_SIDES, parse_mixmonitor_args

if TYPE_CHECKING:
    from pbx.simulator.call import SimCall
    from pbx.simulator.channel import Channel
    from pbx.simulator.server import AsteriskSimulator
    from pbx.simulator.session import AmiSession

Handler = Callable[["AsteriskSimulator", "AmiSession", Message, str], Awaitable[None]]


async def handle(sim: AsteriskSimulator, session: AmiSession, msg: Message) -> None:
    action = (msg.get("Action") or "").strip()
    action_id = msg.get("ActionID") or ""
    if not action:
        error(session, action_id, "Missing action in request")
        return
    name = action.lower()
    if not session.authenticated and name not in ("login", "logoff", "challenge"):
        error(session, action_id, "Permission denied")
        return
    handler = _HANDLERS.get(name)
    if handler is None:
        error(session, action_id,
              f"Invalid/unknown command: {action}. Use Action: ListCommands to show available commands.")  # fmt: skip
        return
    await handler(sim, session, msg, action_id)


async def _login(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    if session.authenticated:
        ack(session, aid, "Already authenticated")
        return
    user = msg.get("Username") or ""
    key = msg.get("Key")
    if (msg.get("AuthType") or "").lower() == "md5" and key is not None and session.challenge:
        good = key == hashlib.md5((session.challenge + sim.secret).encode()).hexdigest()
    else:
        good = (msg.get("Secret") or "") == sim.secret
    if user != sim.username or not good:
        await asyncio.sleep(1.0 / sim.speed)  # manager.c sleeps 1 s before refusing
        error(session, aid, "Authentication failed")
        session.close()
        return
    session.authenticated = True
    session.username = user
    events = msg.get("Events")
    if events is not None:
        session.mask = event_mask(events) or set()
    ack(session, aid, "Authentication accepted")
    if "system" in session.mask:
        up = str(sim.uptime)
        session.send([("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", up), ("LastReload", up),
                      ("Status", "Fully Booted")])  # fmt: skip
    sim.emit_security("SuccessfulAuth", "AMI", user, ("UsingPassword", "0"),
                      ("SessionTV", _event_tv()), session=session)  # fmt: skip


def _event_tv() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}+0000"


async def _challenge(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    if (msg.get("AuthType") or "").lower() != "md5":
        error(session, aid, "Must specify AuthType")
        return
    session.challenge = session.challenge or str(random.randint(10**8, 10**9))
    session.send(response("Success", aid, ("Challenge", session.challenge)))


async def _logoff(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    session.send(response("Goodbye", aid, ("Message", "Thanks for all the fish.")))
    session.close()


async def _ping(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    session.send(response("Success", aid, ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")))


async def _events(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    mask = event_mask(msg.get("EventMask") or "")
    if mask is None:
        error(session, aid, "Invalid event mask")
        return
    session.mask = mask
    session.send(response("Success", aid, ("Events", "On" if mask else "Off")))


async def _agi(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    name = msg.get("Channel") or ""
    command = msg.get("Command") or ""
    if not name or not command:
        error(session, aid, "Both, Channel and Command are *required*")
        return
    chan = sim.find_channel(name)
    if chan is None:
        error(session, aid, f"Channel {name} does not exist.")
        return
    if chan.agi_queue is None or chan.call is None or chan is not chan.call.chan:
        error(session, aid, f"Failed to add AGI command to channel {chan.name} queue")
        return
    chan.call.agi_enqueue(command, msg.get("CommandID") or "")
    ack(session, aid, "Added AGI command to queue")


async def _hangup(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    name = msg.get("Channel") or ""
    if not name:
        error(session, aid, "No channel specified")
        return
    chan = sim.find_channel(name)
    if chan is None:
        error(session, aid, "No such channel")
        return
    cause_text = (msg.get("Cause") or "").strip()
    cause = int(cause_text) if cause_text.isdigit() and int(cause_text) > 0 else None
    # The response goes out first; the soft hangup's events follow (stasis delivers them).
    ack(session, aid, "Channel Hungup")
    sim.hangup_channel(chan, cause)


async def _redirect(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    fields = {k: (msg.get(k) or "").strip() for k in ("Channel", "Context", "Exten", "Priority")}
    for key, text in (("Channel", "Channel not specified"), ("Context", "Context not specified"),
                      ("Exten", "Exten not specified"), ("Priority", "Priority not specified")):  # fmt: skip
        if not fields[key]:
            error(session, aid, text)
            return
    if not fields["Priority"].isdigit() or int(fields["Priority"]) < 1:
        error(session, aid, "Priority is invalid")
        return
    chan = sim.find_channel(fields["Channel"])
    if chan is None:
        error(session, aid, f"Channel does not exist: {fields['Channel']}")
        return
    call = chan.call
    if call is None or call.ending or not chan.alive:
        error(session, aid, "Redirect failed, channel not up.")
        return
    if chan is not call.chan or not call.in_agi:
        error(session, aid, "Redirect failed")
        return
    call.request_redirect(fields["Context"], fields["Exten"], int(fields["Priority"]))
    ack(session, aid, "Redirect successful")


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


async def _core_show_channels(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    session.send(response("Success", aid, ("EventList", "start"), ("Message", "Channels will follow")))
    chans = sim.channels
    for chan in chans:
        session.send([
            ("Event", "CoreShowChannel"), *([("ActionID", aid)] if aid else []), *chan.block(),
            ("Application", chan.shown_app[0]), ("ApplicationData", chan.shown_app[1]),
            ("Duration", _hms(sim.call_seconds(chan))), ("BridgeId", chan.bridge_id),
        ])  # fmt: skip
    session.send([("Event", "CoreShowChannelsComplete"), *([("ActionID", aid)] if aid else []),
                  ("EventList", "Complete"), ("ListItems", str(len(chans)))])  # fmt: skip


def _status_item(sim: AsteriskSimulator, chan: Channel, aid: str) -> Fields:
    return [
        ("Event", "Status"), ("Privilege", "Call"), *chan.block(), ("Type", chan.tech), ("DNID", chan.dnid),
        ("EffectiveConnectedLineNum", chan.connected_num), ("EffectiveConnectedLineName", chan.connected_name),
        ("TimeToHangup", "0"), ("BridgeID", chan.bridge_id), ("Application", chan.application),
        ("Data", chan.appdata), ("Nativeformats", "(ulaw)"), ("Readformat", "ulaw"), ("Readtrans", ""),
        ("Writeformat", "ulaw"), ("Writetrans", ""), ("Callgroup", "0"), ("Pickupgroup", "0"),
        ("Seconds", str(int(sim.call_seconds(chan)))), *([("ActionID", aid)] if aid else []),
    ]  # fmt: skip


async def _status(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    name = (msg.get("Channel") or "").strip()
    if name:
        chan = sim.find_channel(name)
        if chan is None:
            error(session, aid, "No such channel")
            return
        chans = [chan]
    else:
        chans = sim.channels
    session.send(response("Success", aid, ("EventList", "start"), ("Message", "Channel status will follow")))
    for chan in chans:
        session.send(_status_item(sim, chan, aid))
    n = str(len(chans))
    session.send([("Event", "StatusComplete"), *([("ActionID", aid)] if aid else []), ("EventList", "Complete"),
                  ("ListItems", n), ("Items", n)])  # fmt: skip


async def _getvar(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    var = msg.get("Variable") or ""
    if not var:
        error(session, aid, "No variable specified")
        return
    name = msg.get("Channel") or ""
    if name:
        chan = sim.find_channel(name)
        if chan is None:
            error(session, aid, "No such channel")
            return
        value = sim.read_variable(chan, var)
    else:
        value = sim.globals.get(var)
    session.send(response("Success", aid, ("Variable", var), ("Value", value or "")))


async def _setvar(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    var = msg.get("Variable") or ""
    if not var:
        error(session, aid, "No variable specified")
        return
    value = msg.get("Value") or ""
    name = msg.get("Channel") or ""
    if name:
        chan = sim.find_channel(name)
        if chan is None:
            error(session, aid, "No such channel")
            return
        sim.write_variable(chan, var, value)
    else:
        sim.globals[var] = value
    ack(session, aid, "Variable Set")


def _call_of(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> SimCall | None:
    name = msg.get("Channel") or ""
    if not name:
        error(session, aid, "No channel specified")
        return None
    chan = sim.find_channel(name)
    if chan is None or chan.call is None or chan is not chan.call.chan:
        error(session, aid, "No such channel")
        return None
    return chan.call


async def _mixmonitor(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    call = _call_of(sim, session, msg, aid)
    if call is None:
        return
    filename, options = parse_mixmonitor_args(f"{msg.get('File') or ''},{msg.get('Options') or ''}")
    if not filename and not (options.get("r") or options.get("t")):
        filename = call.chan.name.replace("/", "-") + ".wav"  # app_mixmonitor's default name
    session.send(response("Success", aid))
    call.start_mixmonitor(filename, options)


async def _stop_mixmonitor(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    call = _call_of(sim, session, msg, aid)
    if call is None:
        return
    if not call.recording_active():
        error(session, aid, "Could not stop MixMonitor")
        return
    session.send(response("Success", aid))
    call.stop_mixmonitors()


# app_mixmonitor's manager_mute_mixmonitor: its checks in its order, its texts; State is ast_false or not.
# Seen on the lab's Asterisk 20: Success carries no Message; the MixMonitorMute event has Direction and
# State after the channel block; the r() track is digital zero while muted, and as long as the call.
_FALSE = ("no", "false", "n", "f", "0", "off")


async def _mixmonitor_mute(sim: AsteriskSimulator, session: AmiSession, msg: Message, aid: str) -> None:
    direction = (msg.get("Direction") or "").strip().lower()
    state = (msg.get("State") or "").strip()
    if not direction:
        error(session, aid, "No direction specified. Must be read, write or both")
    elif direction not in MUTE_SIDES:
        error(session, aid, "Invalid direction specified. Must be read, write or both")
    elif not (msg.get("Channel") or ""):
        error(session, aid, "No channel specified")
    elif not state:
        error(session, aid, "No state specified")
    elif (call := _call_of(sim, session, msg, aid)) is None:
        return
    elif not call.mute_mixmonitors(direction, state.lower() not in _FALSE):
        error(session, aid, "Cannot set mute flag")
    else:
        session.send(response("Success", aid))


_HANDLERS: dict[str, Handler] = {
    "login": _login, "logoff": _logoff, "challenge": _challenge, "ping": _ping, "events": _events, "agi": _agi,
    "hangup": _hangup, "redirect": _redirect, "coreshowchannels": _core_show_channels, "status": _status,
    "getvar": _getvar, "setvar": _setvar, "mixmonitor": _mixmonitor, "stopmixmonitor": _stop_mixmonitor,
    "mixmonitormute": _mixmonitor_mute, "originate": originate,
}  # fmt: skip
