"""`hotline menu walk --pbx`: the walk's calls placed through a real Asterisk, answered by the running `serve`.

One AMI login (the config's ``ami:`` user) originates one call per path: ``Local/<number>@hotline``
(the context `hotline asterisk-config` prints). Its second half runs the hotline dialplan,
``AGI(agi:async)``, so the running ``hotline serve`` answers it like any caller; its first half,
the walking caller, runs ``SendDTMF`` with the path's keys, timed against the rendered prompts
as on the simulator (``w``: half a second of silence), and hangs up when the keys run out.

No agent's phone rings: a path that reaches a queue or an extension hangs up 1.5 s into the
transfer prompt, after the service has taken the route. What the caller heard is what the PBX
was told to play on the call (``AGIExecStart`` of STREAM FILE / GET DATA); where the call went
is the route and menu path in the call log (the config's database, which ``serve`` writes).
This command answers no call: without a running ``hotline serve`` every path fails, and says so.
"""

from __future__ import annotations

import asyncio
import os
import time

from app.demo import prompt_seconds
from app.walk import WalkPath, WalkResult, check, script_for
from menus.prompts import GREETING, prompt_dir
from settings import Config

CONTEXT = "hotline"
TRANSFER_STAY_S = 1.5  # into the transfer prompt: the route is taken, nobody is rung yet
HALF = 0.5  # SendDTMF's 'w'
TONE_MS, GAP_MS = 200, 250  # each key: 200 ms of tone, then 250 ms before the next character
SETTLE_S = 20.0  # how long the call log may take to show a call after its hangup


def dtmf_string(presses: list[tuple[float, str]], hang_at: float) -> str:
    """SendDTMF's digits for keys at call seconds ``presses``, then silence until ``hang_at``."""
    out, now = [], 0.0
    for at, digit in presses:
        waits = max(0, round((at - now) / HALF))
        out.append("w" * waits + digit)
        now += waits * HALF + (TONE_MS + GAP_MS) / 1000
    out.append("w" * max(1, round((hang_at - now) / HALF)))
    return "".join(out)


def _prompt(command: str) -> str | None:
    """``GET DATA custom/menu-main 5000 1`` -> ``menu-main``; None for other AGI commands."""
    words = command.split()
    if words[:2] in (["STREAM", "FILE"], ["GET", "DATA"]) and len(words) > 2:
        return words[2].rsplit("/", 1)[-1]
    return None


async def walk_pbx(config: Config, paths: list[WalkPath], *, number: str = "400") -> list[WalkResult]:
    """One originated call per path, all at once; each checked against the plan once the service logged it."""
    from pbx.ami import AmiClient
    from pbx.protocol import Message

    seconds = prompt_seconds(config)
    run = f"walk{os.getpid()}x{int(time.time())}"  # the callers' Uniqueids, of our own choosing
    callers = [f"{run}-{i + 1}" for i in range(len(paths))]
    uids = {c: "" for c in callers}  # caller half -> the half the service answers (its call log key)
    heard: dict[str, list[str]] = {c: [] for c in callers}
    gone: dict[str, asyncio.Event] = {c: asyncio.Event() for c in callers}

    def on_event(msg: Message) -> None:
        caller = msg.get("Linkedid") or ""  # both halves are linked to the caller half
        if caller not in uids:
            return
        if (msg.get("Channel") or "").endswith(";2"):
            uids[caller] = msg.get("Uniqueid") or uids[caller]
            if msg.event == "AGIExecStart" and (name := _prompt(msg.get("Command") or "")):
                heard[caller].append(name)
        if msg.event == "Hangup":
            gone[caller].set()

    a = config.ami
    ami = AmiClient(a.host, a.port, a.username, a.password, connect_timeout=5.0, action_timeout=10.0,
                    name="hotline-walk")
    ami.on_event(on_event)
    longest = 0.0
    async with ami:
        for i, (path, caller) in enumerate(zip(paths, callers, strict=True)):
            script = script_for(path, config, seconds, f"walk-{i + 1}", transfer_stay=TRANSFER_STAY_S)
            hang = script.hangs_up_at if script.hangs_up_at is not None else 60.0
            longest = max(longest, hang)
            keys = dtmf_string([(p.at, p.digit) for p in script.presses], hang)
            reply = await ami.action(
                "Originate", Channel=f"Local/{number}@{CONTEXT}", Application="SendDTMF",
                Data=f"{keys},{GAP_MS},{TONE_MS}", CallerID=f'"menu walk" <{script.caller_num}>',
                Timeout=30000, Async="true", ChannelId=caller)  # fmt: skip
            if (reply.get("Response") or "") != "Success":
                raise RuntimeError(f"AMI Originate on {a.host}:{a.port}: {reply.get('Message') or reply}")
        deadline = longest + 60.0  # answered late, a slow service: still well past every path's end
        await asyncio.wait([asyncio.ensure_future(e.wait()) for e in gone.values()], timeout=deadline)
    results = []
    settle = time.monotonic() + SETTLE_S
    for path, caller in zip(paths, callers, strict=True):
        logged = await _logged(config, uids[caller], settle) if uids[caller] else None
        got = tuple(heard[caller])
        if logged is None:
            problem = (f"no ended call {uids[caller] or caller} in the call log ({config.database.url}): "
                       "is `hotline serve` running on this PBX?")
            results.append(WalkResult(path, got, None, "", problem))
        else:
            results.append(WalkResult(path, got, logged[0], logged[1], check(path, got, logged[0])))
    return results


async def _logged(config: Config, uid: str, settle: float) -> tuple[str | None, str] | None:
    """(route, menu path) of the call ``uid`` once the call log has it ended; None if not by ``settle``."""
    from app.calllog import find_call
    from db import transaction

    while True:
        with transaction(config.database_url) as s:
            call = find_call(s, uid)
            if call is not None and call.ended_at is not None:
                action, target = call.route_action, call.route_target
                return (f"{action} {target}" if target else action), call.menu_path or ""
        if time.monotonic() > settle:
            return None
        await asyncio.sleep(0.5)


def walk_on_pbx(config: Config, paths: list[WalkPath], number: str = "400") -> list[WalkResult]:
    folder = prompt_dir(config)
    if not (folder / f"{GREETING}.wav").exists():
        raise ValueError(f"{folder}: no rendered prompts (the keys are timed by them): run hotline menu prompts")
    return asyncio.run(walk_pbx(config, paths, number=number))
