"""`hotline calls pause CALL` / `resume CALL`: an agent's tool stops the recording while the caller
reads out card data, then starts it again (ivr/recpause.py: AMI MixMonitorMute, both directions).

Each command opens its own short AMI login (the config's ``ami:`` user), sends the one action and
logs off; the running `serve` is not involved. The pause or resume is recorded on the call as a
CallEvent (who, through which command) when it changes the call's state; pausing a paused call
asks Asterisk again (harmless) and records nothing new.
"""

from __future__ import annotations

import asyncio
import getpass
from typing import Annotated, Any

import typer

from cliutil import ConfigOpt, JsonOpt, console, fail, load, print_json
from settings import Config

CallArg = Annotated[str, typer.Argument(help="Call id (or Asterisk Uniqueid) of a call in progress.")]


async def set_recording(cfg: Config, ref: str, on: bool, via: str) -> dict[str, Any]:
    """Mute or unmute the call's recording through AMI and record the change; errors are one line."""
    import db
    from app.calllog import find_call
    from ivr.recpause import RECORDING_PAUSED, RECORDING_RESUMED, is_paused, mute_recording
    from ivr.tables import CallEvent
    from pbx.ami import AmiClient

    with db.transaction(cfg.database_url) as s:
        call = find_call(s, ref)
        if call is None:
            raise ValueError(f"no call {ref!r} in {cfg.database.url}")
        if call.status != "active":
            raise ValueError(f"call {call.id} has {call.status}: nothing is recording it")
        call_id, channel, was = call.id, call.channel, is_paused(call.events)
    a = cfg.ami
    ami = AmiClient(a.host, a.port, a.username, a.password, connect_timeout=5.0, action_timeout=5.0,
                    name="hotline-calls")
    async with ami:
        await mute_recording(ami, channel, on)
    at = db.now()
    if was != on:
        with db.transaction(cfg.database_url) as s:
            s.add(CallEvent(call_id=call_id, at=at, kind=RECORDING_PAUSED if on else RECORDING_RESUMED,
                            data={"by": getpass.getuser(), "via": via}))
    return {"call": call_id, "paused": on, "changed": was != on, "at": at.isoformat()}


def _switch(ref: str, on: bool, config: Any, as_json: bool) -> None:
    from ivr.recpause import PauseError
    from pbx.ami import AmiError

    cfg = load(config)
    via = "calls pause" if on else "calls resume"
    try:
        out = asyncio.run(set_recording(cfg, ref, on, via))
    except (ValueError, PauseError) as exc:
        fail(f"{via} {ref}: {exc}")
    except (AmiError, OSError) as exc:
        fail(f"{via} {ref}: AMI at {cfg.ami.host}:{cfg.ami.port}: {str(exc).splitlines()[0] if str(exc) else exc!r}")
    if as_json:
        print_json(out)
        return
    state = "paused (both directions record silence)" if on else "recording again"
    console.print(f"call {out['call']}: {state}" + ("" if out["changed"] else f" (it already was {state.split()[0]})"),
                  highlight=False)


def pause_cmd(call: CallArg, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Pause a call's recording (caller and agent tracks record silence) until `calls resume`."""
    _switch(call, True, config, as_json)


def resume_cmd(call: CallArg, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Resume a paused call's recording."""
    _switch(call, False, config, as_json)
