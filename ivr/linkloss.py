"""A call's AGI commands, surviving an AMI link loss (the command side of ivr/session.py).

A command cut by a loss waits until the service has reconnected and listed the channels
(``Link.channel_after_reconnect``). Then an AGI NOOP (ivr/probe.py) asks Asterisk whether
the channel is gone (the call is lost) or waits in Async AGI; CoreShowChannel's
``Application`` is no sign of it (a real Asterisk still shows ``Queue`` after Queue
returned during the gap: waiting for that result left the caller in silence). Commands
run in order, so once the NOOP's result is in, the cut command has ended, and a result
that came on the new link before the NOOP's is the cut command's own.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from ivr.calltrack import CallTracker
from ivr.probe import probe
from pbx import agi
from pbx.agi import AgiResult, AsyncAgi, ChannelGone, parse_agi_result
from pbx.ami import AmiConnectionError
from pbx.protocol import Message

log = logging.getLogger("ivr.session")  # the session's lines: operators and tests read them there

# What an EXEC'd app leaves behind when it ran: it ended during the gap and is not sent again.
RAN_IF_SET = {"Dial": ["DIALSTATUS"], "Queue": ["QUEUESTATUS", "QUEUEWAIT"], "MixMonitor": ["MIXMONITOR_FILENAME"]}


class CallLost(Exception):
    """The AMI link came back and the channel was gone, or out of Async AGI."""


class Link(Protocol):
    """What a session needs from the service besides AGI: news after a link loss."""

    async def channel_after_reconnect(self, channel: str) -> Message | None:
        """Wait until the link is back and reconciled; the channel's CoreShowChannel item or None."""
        ...


class LinkAware(CallTracker):
    """Sends a call's AGI commands; a command cut by a link loss is resumed (module docstring)."""

    agi: AsyncAgi
    link: Link
    _gaps: list[float] | None
    _late: list[str] | None = None  # AsyncAGIExec results on this channel since a link loss
    unsettled: str | None = None  # a command a link loss cut, whose channel went before we knew if it ran

    async def _cmd(self, text: str) -> AgiResult:
        if self.agi_ended.is_set():
            raise ChannelGone(self.channel, "left Async AGI")
        while True:
            if self._gaps is not None and self._last_rx is not None:
                self._gaps.append(time.monotonic() - self._last_rx)
                self._last_rx = None
            try:
                return await self.agi.command(self.channel, text)
            except AmiConnectionError as exc:
                log.warning("call %s on %s: %s; waiting for the link", self.uniqueid, self.channel, exc)
            result = await self._after_link_loss(text)
            if result is not None:
                return result

    async def _after_link_loss(self, text: str) -> AgiResult | None:
        """The link dropped around ``text``: a result to use, or None to send it again."""
        if self._late is None:
            self._late = []
        unsure = False  # a probe cut by another loss may still be queued: a late result could be its
        while True:
            # Not listed is not proof of gone: a send can fail before the service has heard of
            # the loss, and then the list is the one from before it.
            item = await self.link.channel_after_reconnect(self.channel)
            try:
                found = await probe(self.agi, self.channel)
            except AmiConnectionError:  # lost (again) before the probe's answer
                unsure = True
                continue
            if item is None and found.state == "gone":
                self.unsettled = text
                raise CallLost(self.channel)
            app = item.get("Application") if item is not None else None
            self._event("link_restored", command=text, application=app, probe=found.state)
            noop_ran = found.state == "idle"
            if found.pending is not None:  # busy: the NOOP runs the moment the running command ends
                try:
                    await found.pending
                    noop_ran = True
                except AmiConnectionError:
                    unsure = True
                    continue
                except ChannelGone:
                    pass  # left Async AGI meanwhile (hung up): a result before that is still text's
            break
        late, self._late = self._late or [], None
        if not unsure and len(late) > int(noop_ran):
            return parse_agi_result(late[0])
        if found.state in ("gone", "not_agi"):
            self.unsettled = text
            if self.caller_left or self.agi_ended.is_set():
                raise ChannelGone(self.channel, found.reply)
            raise CallLost(self.channel)  # up but out of Async AGI: nobody can drive it any more
        if not text.startswith("EXEC "):
            return None
        for var in RAN_IF_SET.get(text.split()[1], []):
            value = (await self._cmd(agi.get_variable(var))).data
            if value:
                return parse_agi_result("200%20result%3D0%0A")  # it ran while we were away
        return None

    def on_event(self, msg: Message) -> None:
        if self._late is not None and msg.name == "AsyncAGIExec" and self._mine(msg):
            self._late.append(msg.get("Result") or "")
        super().on_event(msg)

    def link_down(self) -> None:
        """The service lost the AMI link: results that come on the next link are kept, in order
        (a command cut by the loss may still end there)."""
        self._late = []


