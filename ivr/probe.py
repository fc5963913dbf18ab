"""Whether a channel waits in Async AGI, asked of Asterisk itself.

CoreShowChannel's ``Application`` is no sign: it is the last application run, and on a
real Asterisk an ``EXEC Dial`` that returned still shows ``Dial`` (``MixMonitor`` after
``EXEC MixMonitor``; see the after-kill trace). The probe is a harmless ``Action: AGI`` /
``Command: NOOP`` with our own ``CommandID`` (res/res_agi.c ``action_add_agi_cmd`` /
``add_agi_cmd``):

* ``Response: Error`` / ``Channel X does not exist.``: gone.
* ``Response: Error`` / ``Failed to add AGI command to channel X queue``: the channel
  has never run ``AGI(agi:async)`` (an agent leg, a channel elsewhere): not ours.
* ``Response: Success`` / ``Added AGI command to queue``, then ``AsyncAGIExec`` with our
  CommandId and ``200 result=0``: in Async AGI and idle.
* Success but no AsyncAGIExec yet: in Async AGI and busy, a command still runs (a GET
  DATA, an ``EXEC Queue``/``Dial`` with the caller bridged); commands run in order, so
  the NOOP's result comes the moment that command ends, which is the moment the caller
  is back in Async AGI. Asterisk keeps the command queue (the datastore) after Async AGI
  ends, so Success alone also fits a channel that left AGI (Redirect, ASYNCAGI BREAK):
  our own dialplan leaves AGI only to hang up, and a hangup ends the wait.

Used by adoption (ivr/adopt.py) and by a session whose command a link loss cut
(ivr/session.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from pbx.agi import AgiError, AgiResult, AsyncAgi, ChannelGone

ProbeState = Literal["idle", "busy", "not_agi", "gone"]
PROBE_WAIT_S = 1.0  # an idle channel answers a NOOP within milliseconds


@dataclass
class Probe:
    state: ProbeState
    reply: str  # what Asterisk answered, for the log and the call event
    pending: asyncio.Task[AgiResult] | None = None  # busy: the NOOP, still queued behind a command


async def probe(agi_: AsyncAgi, channel: str, wait: float = PROBE_WAIT_S) -> Probe:
    """Ask Asterisk whether ``channel`` waits in Async AGI (see the module docstring)."""
    task = asyncio.get_running_loop().create_task(agi_.command(channel, "NOOP"), name=f"probe-{channel}")
    task.add_done_callback(_retrieve)
    done, _ = await asyncio.wait({task}, timeout=wait)
    if not done:
        return Probe("busy", "Added AGI command to queue (no result yet: a command runs)", task)
    try:
        res = task.result()
    except ChannelGone as exc:
        # "does not exist" is gone; "not in Async AGI (Failed to add ...)" or an AsyncAGIEnd
        # already seen on this link means it is not (or no longer) in Async AGI.
        return Probe("gone" if "does not exist" in exc.reason else "not_agi", exc.reason)
    except AgiError as exc:
        return Probe("not_agi", str(exc))
    return Probe("idle", res.raw.strip())


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # a probe nobody awaits any more must not warn at exit
