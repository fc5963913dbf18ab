"""The simulated Asterisk: its AMI listener, event fan-out, channels, dialplan and lifecycle controls.

The TCP sessions themselves are ``session.py``, what each AMI action answers ``actions.py``.
Controls for tests: ``drop_connections()`` (link loss; calls go on), ``await shutdown()``
(``core stop now``) and ``kill()`` (SIGKILL: EOF, nothing sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pbx.protocol import encode_frame
from pbx.simulator.call import SimCall
from pbx.simulator.channel import Channel
from pbx.simulator.legs import agent_bye
from pbx.simulator.media import Prompts, SpeechBank
from pbx.simulator.script import CallScript
from pbx.simulator.session import AmiSession
from recordings.speech import to_pinyin

if TYPE_CHECKING:
    from pbx.simulator.originate import OriginateRequest


def _warm_up_speech() -> None:
    to_pinyin("您好")


class AsteriskSimulator:
    """An Asterisk 20 (chan_sip, AMI, Async AGI) stand-in on one asyncio loop.

    Use ``async with AsteriskSimulator(sounds_dir=..., monitor_dir=...) as sim`` or
    ``await start()`` / ``await stop()``; ``place_call(script)`` starts a scripted call.
    ``answer_first``: ``[hotline]`` is ``Answer(), AGI(agi:async), Hangup()``, the dialplan of
    the first recorded sessions; False: ``AGI(agi:async), Hangup()``, the one ``hotline
    asterisk-config`` prints and ../shared/asterisk20 runs (the after-kill trace was recorded
    on it): the channel enters Async AGI ringing, at priority 1, and AGI ANSWER answers it.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "hotline",
        secret: str = "hotline-secret",
        sounds_dir: Path,
        monitor_dir: Path,
        speed: float = 1.0,
        answer_first: bool = True,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.host = host
        self.port = port
        self.username = username
        self.secret = secret
        self.speed = float(speed)
        self.answer_first = answer_first
        self.prompts = Prompts(Path(sounds_dir))
        self.monitor_dir = Path(monitor_dir)
        self.speech = SpeechBank()
        self.sessions: set[AmiSession] = set()
        self.calls: list[SimCall] = []
        self.scripts: dict[str, CallScript] = {}
        self.originate_script = CallScript("originate", agent=None)
        self.astdb: dict[tuple[str, str], str] = {}
        self.globals: dict[str, str] = {}
        self._server: asyncio.base_events.Server | None = None
        self._channels: dict[str, Channel] = {}
        self._by_uid: dict[str, Channel] = {}
        self._seq = 0
        self._seqs: dict[str, int] = {}
        self._live: set[SimCall] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.started_wall = time.time()
        self._started_loop = 0.0

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> int:
        """Listen (again, on the same port after a stop/shutdown/kill); returns the port."""
        if self._server is not None:
            return self.port
        # Load the pinyin tables now: done lazily inside a call, the import would hold the
        # GIL for a good half second and stall every call on the loop.
        await asyncio.to_thread(_warm_up_speech)
        self._server = await asyncio.start_server(self._accept, self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        self.started_wall = time.time()
        self._started_loop = asyncio.get_running_loop().time()
        self._seq = 0  # a restarted Asterisk numbers channels from 0 again
        return self.port

    async def stop(self) -> None:
        """Stop listening, close every session and end every call silently."""
        self._close_server()
        for session in list(self.sessions):
            session.close()
        self.sessions.clear()
        await self._cancel_calls()

    async def __aenter__(self) -> AsteriskSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def drop_connections(self) -> None:
        """Link loss: every AMI socket is cut; calls keep running (events meanwhile are lost)."""
        for session in list(self.sessions):
            session.abort()
        self.sessions.clear()

    async def shutdown(self) -> None:
        """``core stop now``: end every call, send ``Event: Shutdown``, close, stop listening."""
        for call in list(self._live):
            call.shutdown()
        if self._live:
            await asyncio.wait([c.task for c in self._live], timeout=5.0)
        await asyncio.sleep(1.1 / self.speed)
        self.emit([("Event", "Shutdown"), ("Privilege", "system,all"), ("Shutdown", "Cleanly"), ("Restart", "False")])
        await asyncio.sleep(0)
        self._close_server()
        for session in list(self.sessions):
            session.close()
        self.sessions.clear()
        self._reset_channels()

    def kill(self) -> None:
        """SIGKILL: sockets close with nothing more sent; calls vanish without events."""
        self._close_server()
        for session in list(self.sessions):
            session.abort()
        self.sessions.clear()
        for call in list(self._live):
            call.task.cancel()
        self._reset_channels()

    def _close_server(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _cancel_calls(self) -> None:
        tasks = [c.task for c in self._live] + list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._reset_channels()

    def _reset_channels(self) -> None:
        self._channels.clear()
        self._by_uid.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(self, reader, writer)
        self.sessions.add(session)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await session.run()
        except asyncio.CancelledError:
            session.abort()  # the simulator is stopping; this is the connection task's top level
        finally:
            if task is not None:
                self._tasks.discard(task)

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def uptime(self) -> int:
        return int(asyncio.get_running_loop().time() - self._started_loop)

    # -- calls and channels -----------------------------------------------------------------------
    def place_call(self, script: CallScript) -> SimCall:
        """Start a scripted inbound call to ``script.exten`` in the hotline context."""
        return self.start_call(script)

    def start_call(self, script: CallScript, *, peer: str = "SIP/caller",
                   origin: OriginateRequest | None = None) -> SimCall:  # fmt: skip
        """A new call from ``peer``: inbound (``origin`` None), or placed by an AMI Originate."""
        call = SimCall(self, script, peer=peer, origin=origin)
        self.calls.append(call)
        self._live.add(call)
        return call

    def register_script(self, script: CallScript) -> None:
        """Make ``script`` available to AMI Originate (``Variable: SIM_SCRIPT=<name>``)."""
        self.scripts[script.name] = script

    def call_finished(self, call: SimCall) -> None:
        self._live.discard(call)

    @property
    def live_calls(self) -> list[SimCall]:
        return [c for c in self.calls if c in self._live]

    def new_channel(
        self,
        peer: str,
        caller_num: str,
        caller_name: str,
        *,
        context: str,
        exten: str,
        dnid: str = "",
        linkedid: str | None = None,
    ) -> Channel:
        seq = self._seq
        self._seq += 1
        uniqueid = f"{int(time.time())}.{seq}"
        chan = Channel(
            name=f"{peer}-{seq:08x}", uniqueid=uniqueid, linkedid=linkedid or uniqueid, caller_num=caller_num,
            caller_name=caller_name, context=context, exten=exten, loop_time=asyncio.get_running_loop().time(),
            dnid=dnid,
        )  # fmt: skip
        self._channels[chan.name.lower()] = chan
        self._by_uid[uniqueid] = chan
        self._seqs[chan.name] = seq
        return chan

    def channel_seq(self, chan: Channel) -> int:
        return self._seqs.get(chan.name, 0)

    def remove_channel(self, chan: Channel) -> None:
        self._channels.pop(chan.name.lower(), None)
        self._by_uid.pop(chan.uniqueid, None)
        self._seqs.pop(chan.name, None)

    def find_channel(self, name: str) -> Channel | None:
        """By name (case-insensitive) or Uniqueid, as ast_channel_get_by_name finds them."""
        return self._channels.get(name.strip().lower()) or self._by_uid.get(name.strip())

    @property
    def channels(self) -> list[Channel]:
        return list(self._channels.values())

    def hangup_channel(self, chan: Channel, cause: int | None) -> None:
        call = chan.call
        if call is None:
            return
        if chan is call.chan:
            call.soft_hangup(cause)
        elif call.leg is not None and chan is call.leg.chan:
            agent_bye(call, soft=True)

    def call_seconds(self, chan: Channel) -> float:
        return (asyncio.get_running_loop().time() - chan.created_loop) * self.speed

    # -- the dialplan the lab ran -------------------------------------------------------------------
    def dialplan(self, context: str, exten: str, priority: int) -> tuple[str, str] | None:
        """``[hotline] _X. => [Answer(),] AGI(agi:async), Hangup()``; ``[agents] NNNN => Dial(SIP/agentNNNN,20)``."""
        if context == "hotline" and exten:
            steps = [("Answer", "")] if self.answer_first else []
            steps += [("AGI", "agi:async"), ("Hangup", "")]
        elif context == "agents" and re.fullmatch(r"\d+", exten or ""):
            steps = [("Dial", f"SIP/agent{exten},20")]
        else:
            return None
        return steps[priority - 1] if 1 <= priority <= len(steps) else None

    # -- variables ----------------------------------------------------------------------------------
    def read_variable(self, chan: Channel, name: str) -> str | None:
        key = name.strip()
        upper = key.upper()
        functions = {
            "CALLERID(NUM)": chan.caller_num, "CALLERID(NAME)": chan.caller_name,
            "CALLERID(ALL)": f'"{chan.caller_name}" <{chan.caller_num}>', "CHANNEL(NAME)": chan.name,
            "CHANNEL(UNIQUEID)": chan.uniqueid, "CHANNEL(LINKEDID)": chan.linkedid,
            "CHANNEL(LANGUAGE)": chan.language, "CHANNEL": chan.name, "UNIQUEID": chan.uniqueid,
            "CONTEXT": chan.context, "EXTEN": chan.exten, "PRIORITY": str(chan.priority),
            "EPOCH": str(int(time.time())), "CALLERID(DNID)": chan.dnid,
        }  # fmt: skip
        if upper in functions:
            return functions[upper]
        if key in chan.vars:
            return chan.vars[key]
        return self.globals.get(key)

    def write_variable(self, chan: Channel, name: str, value: str) -> None:
        upper = name.upper()
        if upper == "CALLERID(NUM)":
            chan.caller_num = value
            chan.publish()  # func_callerid sets the caller with a snapshot
        elif upper == "CALLERID(NAME)":
            chan.caller_name = value
            chan.publish()
        elif "(" in name:
            pass  # other dialplan functions: accepted, no effect
        elif chan.call is not None:
            chan.call.varset(chan, name, value)
        else:
            chan.vars[name] = value

    # -- events ---------------------------------------------------------------------------------------
    def emit(self, fields: list[tuple[str, str]]) -> None:
        """Send one event to every logged-in session whose event mask takes its category."""
        if not self.sessions:
            return
        category = "system"
        for key, value in fields[1:3]:
            if key == "Privilege":
                category = value.split(",", 1)[0]
                break
        data = encode_frame(fields)
        for session in self.sessions:
            if session.wants(category):
                session.send_bytes(data)

    def emit_security(self, event: str, service: str, account: str, *extra: tuple[str, str],
                      session: AmiSession | None = None) -> None:  # fmt: skip
        now = time.time()
        tv = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}+0000"
        if session is not None:
            local = f"IPV4/TCP/{session.local[0]}/{session.local[1]}"
            remote = f"IPV4/TCP/{session.remote[0]}/{session.remote[1]}"
            sid = session.session_id
        else:
            local, remote, sid = "IPV4/UDP/127.0.0.1/5060", "IPV4/UDP/127.0.0.1/5061", f"0x{id(account):x}"
        self.emit([
            ("Event", event), ("Privilege", "security,all"), ("EventTV", tv), ("Severity", "Informational"),
            ("Service", service), ("EventVersion", "1"), ("AccountID", account), ("SessionID", sid),
            ("LocalAddress", local), ("RemoteAddress", remote), *extra,
        ])  # fmt: skip

    async def _wait_calls(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*(c.task for c in self._live), return_exceptions=True)
