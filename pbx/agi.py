"""Async AGI over AMI: command text, result decoding, and result matching.

What real Asterisk 20 does (see tests/fixtures/asterisk/README.md):
- ``Action: AGI`` (Channel, Command, CommandID) is answered at once with
  ``Response: Success`` / ``Added AGI command to queue``; the command runs later.
  ``Response: Error`` / ``Channel X does not exist.`` means the channel is gone.
- The result comes as ``Event: AsyncAGIExec`` echoing the id as ``CommandId``
  (lower-case d) with ``Result`` URL-encoded, trailing ``%0A`` included. An
  ``EXEC Dial``/``EXEC Queue`` result arrives only when the app returns, seconds
  later, so each command waits on its own future and no channel blocks another.
- A command cut short by a hangup still reports ``result=-1`` first; then
  ``AsyncAGIEnd`` ends the AGI session (hangup, Redirect or ASYNCAGI BREAK) and
  any command still waiting on that channel fails with ``ChannelGone``.
- AGIExecStart/AGIExecEnd carry Asterisk's own CommandId, not ours: unused here.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from dataclasses import dataclass

from pbx.ami import AmiClient, AmiConnectionError
from pbx.protocol import Message, agi_decode

log = logging.getLogger("pbx.agi")


class AgiError(Exception):
    """An AGI command was refused or its result could not be read."""


class ChannelGone(AgiError):
    """The channel hung up or left Async AGI; no more commands can run on it."""

    def __init__(self, channel: str, reason: str) -> None:
        self.channel = channel
        self.reason = reason
        super().__init__(f"{channel}: {reason}")


class AgiTimeout(AgiError, TimeoutError):
    """No AsyncAGIExec for a command within its timeout (the command may still run)."""


# "200 result=1 (5551230001)", "200 result= (timeout)", "200 result=49 endpos=15840",
# RECORD FILE's "200 result=0 (timeout) endpos=8000". Parentheses may hold spaces.
_RESULT_RE = re.compile(r"result=(?P<result>\S*)(?: \((?P<data>.*)\))?(?: endpos=(?P<endpos>-?\d+))?")


@dataclass(frozen=True, slots=True)
class AgiResult:
    code: int  # 200 ok; 510 unknown command; 511 dead channel; 520 usage
    result: str  # as sent, may be ''
    data: str | None  # text in parentheses: 'timeout', '5551230001', 'NOANSWER'
    endpos: int | None  # samples played (STREAM FILE, RECORD FILE)
    raw: str  # the decoded line(s), trailing newline included

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def hungup(self) -> bool:
        """Result -1: for STREAM FILE / GET DATA / WAIT FOR DIGIT the channel hung up. For
        ``EXEC`` it is the app's return: ``EXEC Queue`` gives -1 also when the *agent* hung
        up and the caller is still in AGI; only AsyncAGIEnd says the caller is gone."""
        return self.result == "-1"

    @property
    def digit(self) -> str | None:
        """GET DATA: the digits pressed (the result is the digits themselves), or None for
        no input (``result= (timeout)``) or hangup."""
        if self.code != 200 or self.result in ("", "-1"):
            return None
        return self.result

    @property
    def ascii_digit(self) -> str | None:
        """WAIT FOR DIGIT / STREAM FILE: the key pressed (the result is its ASCII code:
        50 is '2'), or None for 0 (no key) and -1 (hangup)."""
        if self.code != 200:
            return None
        try:
            value = int(self.result)
        except ValueError:
            return None
        return chr(value) if 0 < value < 128 else None

    @property
    def message(self) -> str:
        """For non-200 codes: Asterisk's text after the code."""
        return self.raw[4:].strip()


def parse_agi_result(encoded: str) -> AgiResult:
    """Decode AsyncAGIExec's ``Result`` (URL-encoded, with trailing ``%0A``)."""
    raw = agi_decode(encoded)
    line = raw.rstrip("\n")
    head = line[:3]
    if len(line) < 3 or not (head.isascii() and head.isdigit()) or line[3:4] not in ("", " ", "-"):
        raise AgiError(f"not an AGI response: {raw[:80]!r}")
    code = int(head)
    if code != 200:
        return AgiResult(code, "", None, None, raw)
    match = _RESULT_RE.fullmatch(line[4:])
    if match is None:
        raise AgiError(f"unreadable AGI 200 response: {raw[:80]!r}")
    endpos = match["endpos"]
    return AgiResult(code, match["result"], match["data"], int(endpos) if endpos else None, raw)


def parse_env(encoded: str) -> dict[str, str]:
    """Decode AsyncAGIStart's ``Env`` (``agi_name: value`` lines, URL-encoded) into a dict."""
    env: dict[str, str] = {}
    for line in agi_decode(encoded).split("\n"):
        if not line:
            continue
        key, sep, value = line.partition(":")
        if sep:
            env[key.strip()] = value[1:] if value.startswith(" ") else value
    return env


# ----- command text, exactly as the traces send it ---------------------------------


def _arg(value: str) -> str:
    """Quote one AGI argument when Asterisk's parser would split or eat it."""
    if value and not any(c.isspace() or c in '"\\' for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def answer() -> str:
    return "ANSWER"


def hangup(channel: str | None = None) -> str:
    return f"HANGUP {channel}" if channel else "HANGUP"


def asyncagi_break() -> str:
    return "ASYNCAGI BREAK"


def stream_file(name: str, escape: str = "", offset: int | None = None) -> str:
    """``STREAM FILE custom/greeting ""``: the escape digits are always quoted, as in the traces."""
    text = f'STREAM FILE {_arg(name)} "{escape}"'
    return f"{text} {offset}" if offset is not None else text


def get_data(name: str, timeout_ms: int | None = None, max_digits: int | None = None) -> str:
    """``GET DATA custom/menu 8000 1``."""
    parts = ["GET DATA", _arg(name)]
    if timeout_ms is not None:
        parts.append(str(timeout_ms))
        if max_digits is not None:
            parts.append(str(max_digits))
    elif max_digits is not None:
        raise ValueError("GET DATA needs a timeout before max digits")
    return " ".join(parts)


def wait_for_digit(timeout_ms: int = -1) -> str:
    return f"WAIT FOR DIGIT {timeout_ms}"


def exec_(app: str, args: str = "") -> str:
    """``EXEC Dial SIP/agent1001,20``. Asterisk passes only one argument word to the app,
    so arguments with spaces are quoted."""
    return f"EXEC {app} {_arg(args)}" if args else f"EXEC {app}"


def set_variable(name: str, value: str) -> str:
    return f"SET VARIABLE {_arg(name)} {_arg(str(value))}"


def get_variable(name: str) -> str:
    return f"GET VARIABLE {_arg(name)}"


# ----- sending commands and matching their results ----------------------------------


_MAX_ENDED = 10_000


@dataclass(slots=True)
class _Command:
    channel: str
    text: str
    future: asyncio.Future[AgiResult]


class AsyncAgi:
    """Runs AGI commands on channels over one ``AmiClient``; results matched by CommandID."""

    def __init__(self, ami: AmiClient, *, id_prefix: str = "agi") -> None:
        self._ami = ami
        self._prefix = id_prefix
        self._ids = itertools.count(1)
        self._pending: dict[str, _Command] = {}
        # Channels whose AGI session ended (AsyncAGIEnd) since their AsyncAGIStart. After a
        # Redirect the channel still exists, and a command sent to it would never return.
        self._ended: dict[str, None] = {}
        ami.on_event(self._on_event)
        ami.on_disconnect(self._on_disconnect)
        # Events were missed while the link was down, and a restarted Asterisk reuses names.
        ami.on_reconnect(self._ended.clear)

    @property
    def ami(self) -> AmiClient:
        """The link the commands go over (a call's other actions, e.g. MixMonitorMute, share it)."""
        return self._ami

    def pending(self, channel: str | None = None) -> int:
        """Commands sent and not yet answered (on ``channel``, or on all channels)."""
        return sum(1 for c in self._pending.values() if channel is None or c.channel == channel)

    async def command(self, channel: str, command: str, *, timeout: float | None = None) -> AgiResult:
        """Queue ``command`` on ``channel`` and wait for its AsyncAGIExec.

        Raises ``ChannelGone`` (no such channel, not in Async AGI, or AsyncAGIEnd came
        first), ``AgiTimeout``, ``AgiError`` (other refusals) or ``AmiConnectionError``.
        A hangup during the command is a normal result: ``result.hungup``.
        """
        if channel in self._ended:
            raise ChannelGone(channel, "its Async AGI session has ended (AsyncAGIEnd)")
        command_id = f"{self._prefix}-{next(self._ids)}"
        future: asyncio.Future[AgiResult] = asyncio.get_running_loop().create_future()
        # Registered before sending: the result may race the action's response.
        self._pending[command_id] = _Command(channel, command, future)
        try:
            reply = await self._ami.action("AGI", Channel=channel, Command=command, CommandID=command_id)
            if reply.name != "Success":
                text = reply.get("Message") or reply.name
                if "does not exist" in text:
                    raise ChannelGone(channel, text)
                if "Failed to add AGI command" in text:
                    raise ChannelGone(channel, f"not in Async AGI ({text})")
                raise AgiError(f"{channel}: {command!r} refused: {text}")
            try:
                return await asyncio.wait_for(future, timeout)
            except TimeoutError:
                raise AgiTimeout(f"{channel}: no result for {command!r} in {timeout}s") from None
        finally:
            self._pending.pop(command_id, None)
            if future.done() and not future.cancelled():
                future.exception()  # mark retrieved when we raised for another reason

    def _on_event(self, msg: Message) -> None:
        name = msg.name
        if name == "AsyncAGIExec":
            command_id = msg.get("CommandId") or ""
            cmd = self._pending.get(command_id)
            if cmd is None or cmd.future.done():
                log.debug("AsyncAGIExec for no waiting command: %s", command_id)
                return
            try:
                cmd.future.set_result(parse_agi_result(msg.get("Result") or ""))
            except AgiError as exc:
                cmd.future.set_exception(AgiError(f"{cmd.channel}: {cmd.text!r}: {exc}"))
        elif name == "AsyncAGIStart":
            self._ended.pop(msg.get("Channel") or "", None)
        elif name == "AsyncAGIEnd":
            channel = msg.get("Channel") or ""
            self._ended[channel] = None
            if len(self._ended) > _MAX_ENDED:
                del self._ended[next(iter(self._ended))]
            for cmd in self._pending.values():
                if cmd.channel == channel and not cmd.future.done():
                    cmd.future.set_exception(ChannelGone(channel, "left Async AGI (hangup or redirect)"))

    def _on_disconnect(self, reason: str) -> None:
        for cmd in self._pending.values():
            if not cmd.future.done():
                cmd.future.set_exception(
                    AmiConnectionError(f"{cmd.channel}: AMI link lost while {cmd.text!r} ran: {reason}")
                )
