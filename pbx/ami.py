"""Asyncio AMI client on our own frame parser (``pbx.protocol``).

Why not a library: ``asterisk-ami`` 0.1.7 (installed) reads the socket in a
thread whose 3 s socket timeout ends the reader after 3 s without traffic (its
issue #47), and an exception in a user callback kills its reader. ``panoramisk``
1.4 is asyncio, but its ``send_agi_command`` never resolves on Asterisk 12+ (its
issue #107, fixed only on unreleased master) and a raising callback also kills
its connection. Our parser is faster than both (bench/ami_parse.py prints the
ratios; FINDINGS.md has the loopback throughput: asterisk-ami 79k, panoramisk 39k
events/s), and owning the client lets us guard callbacks and reconnect the way
a hotline needs.

Model: ``await connect()`` opens TCP, reads the banner and logs in, then runs
background tasks until ``close()``: a reader (parses reads, resolves actions,
delivers events), a keep-alive (``Ping`` every ``ping_interval``; no answer in
``ping_timeout`` drops the link) and a supervisor that reconnects with bounded
exponential backoff + jitter after EOF/reset/ping failure, logs in again and
calls the ``on_reconnect`` subscribers. ``run_forever()`` connects if needed
and waits until ``close()``; it raises ``AmiAuthError`` if a re-login is refused.

Rules this module keeps (facts from real Asterisk 20 traces):
- ``ActionID`` is the second line of every action; responses and list items
  arrive interleaved with unrelated events.
- A refused login (``Response: Error`` / ``Authentication failed``, then EOF)
  raises ``AmiAuthError`` and is never retried; a refused TCP connect raises
  ``AmiConnectionError`` and the caller decides.
- Asterisk ending (``Event: Shutdown`` then EOF, or just EOF after SIGKILL) fails
  every pending action with ``AmiConnectionError`` and starts the reconnect loop.
- Subscriber callbacks are guarded: an exception is one log line and the stream
  goes on (``pbx.ami_callbacks``).

Modules: this one (connection, login, keep-alive, reconnect, the public API),
``pbx.ami_link`` (one TCP link: ActionID correlation and list actions),
``pbx.ami_callbacks`` (subscribers), ``pbx.ami_errors`` (what it raises).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from pbx.ami_callbacks import DisconnectCallback, EventCallback, ReconnectCallback, Subscribers
from pbx.ami_errors import AmiActionError, AmiAuthError, AmiConnectionError, AmiError, AmiTimeoutError
from pbx.ami_link import FieldValue, Link
from pbx.protocol import BANNER_PREFIX, Message

log = logging.getLogger("pbx.ami")

__all__ = [
    "AmiActionError", "AmiAuthError", "AmiClient", "AmiConnectionError", "AmiError", "AmiStats",
    "AmiTimeoutError", "backoff_delay",
]  # fmt: skip


@dataclass
class AmiStats:
    frames: int = 0
    events: int = 0
    responses: int = 0
    malformed: int = 0
    callback_errors: int = 0
    connects: int = 0
    reconnects: int = 0

    @property
    def errors(self) -> int:
        return self.malformed + self.callback_errors


def backoff_delay(attempt: int, lo: float, hi: float) -> float:
    """Wait before reconnect attempt ``attempt`` (0-based): exponential from ``lo``, capped at
    ``hi``, with "equal jitter" (half fixed, half random) so many clients do not hammer a
    restarting Asterisk in lockstep."""
    ceiling = min(hi, lo * 2 ** min(attempt, 32))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


class AmiClient:
    """One AMI login to one Asterisk, kept alive and reconnected until ``close()``."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        ping_interval: float = 20.0,
        ping_timeout: float | None = None,
        backoff_min: float = 0.5,
        backoff_max: float = 30.0,
        connect_timeout: float = 10.0,
        action_timeout: float = 10.0,
        name: str = "ami",
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._secret = secret
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout if ping_timeout is not None else min(ping_interval, 10.0)
        self.backoff_min = backoff_min
        self.backoff_max = max(backoff_max, backoff_min)
        self.connect_timeout = connect_timeout
        self.action_timeout = action_timeout
        self.name = name
        self.stats = AmiStats()
        self.banner: str | None = None
        self._ids = itertools.count(1)
        self._link: Link | None = None
        self._subs = Subscribers(name, self._spawn, self._count_callback_error)
        self._supervisor: asyncio.Task[None] | None = None
        self._side_tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._fatal: BaseException | None = None
        self._stopped: asyncio.Event | None = None

    # ----- public API -------------------------------------------------------------

    @property
    def connected(self) -> bool:
        link = self._link
        return link is not None and link.logged_in and not link.lost

    def on_event(self, callback: EventCallback) -> EventCallback:
        """Call ``callback(message)`` for every Event (list items included). Usable as a decorator."""
        self._subs.add_event(callback)
        return callback

    def on_reconnect(self, callback: ReconnectCallback) -> ReconnectCallback:
        """Call ``callback()`` after every successful re-login (not after the first connect)."""
        self._subs.reconnect.append(callback)
        return callback

    def on_disconnect(self, callback: DisconnectCallback) -> DisconnectCallback:
        """Call ``callback(reason)`` when a logged-in link is lost (pending actions have failed)."""
        self._subs.disconnect.append(callback)
        return callback

    async def connect(self) -> None:
        """Connect and log in; then keep the link alive in the background until ``close()``."""
        if self._closing:
            raise AmiConnectionError(f"{self.name}: client is closed")
        if self._supervisor is not None:
            return
        self._stopped = asyncio.Event()
        await self._open()
        self._supervisor = self._spawn(self._supervise())

    async def run_forever(self) -> None:
        """Connect if needed and wait until ``close()``; raises ``AmiAuthError`` if re-login is refused."""
        if self._supervisor is None:
            await self.connect()
        assert self._stopped is not None
        await self._stopped.wait()
        if self._fatal is not None:
            raise self._fatal

    async def close(self) -> None:
        """Log off (Asterisk answers ``Goodbye`` and closes), stop all background tasks."""
        if self._closing:
            return
        self._closing = True
        link = self._link
        if link is not None and self.connected:
            link.reason = "client closed"
            try:
                bye = await self._request(link, "Logoff", {}, timeout=2.0)
            except AmiError:
                bye = None
            if bye is not None and bye.name == "Goodbye":
                # Asterisk closes after Goodbye; let it, so we do not reset the socket.
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(link.tasks[0]), 1.0)
        if link is not None:
            link.abort("client closed")
        tasks = [t for t in (self._supervisor, *self._subs.workers.values(), *self._side_tasks) if t]
        if link is not None:
            tasks += link.tasks
        # close() may run inside one of our own tasks (an on_reconnect callback, say).
        tasks = [t for t in tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._stopped is not None:
            self._stopped.set()

    async def __aenter__(self) -> AmiClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def action(self, name: str, /, *, timeout: float | None = None, **fields: FieldValue) -> Message:
        """Send ``Action: name`` with ``fields`` (wire spelling; a list repeats the key) and
        return its response (``Success`` or ``Error``: the caller reads it)."""
        return await self._request(self._usable_link(), name, fields, timeout=timeout)

    async def action_list(
        self, name: str, /, *, timeout: float | None = None, **fields: FieldValue
    ) -> list[Message]:
        """Send a list action (CoreShowChannels, Status, QueueStatus...) and return its item
        events, collected until the ``EventList: Complete`` event (which is not included)."""
        return await self._request(self._usable_link(), name, fields, timeout=timeout, is_list=True)

    # ----- sending ----------------------------------------------------------------

    def _usable_link(self) -> Link:
        link = self._link
        if link is None or not link.logged_in or link.lost or self._closing:
            raise AmiConnectionError(f"{self.name}: not connected to {self.host}:{self.port}")
        return link

    async def _request(
        self,
        link: Link,
        name: str,
        fields: dict[str, FieldValue],
        *,
        timeout: float | None,
        is_list: bool = False,
    ) -> Any:
        action_id = f"{self.name}-{next(self._ids)}"
        wait = timeout if timeout is not None else self.action_timeout
        return await link.request(self.name, action_id, name, fields, timeout=wait, is_list=is_list)

    # ----- connection lifecycle ---------------------------------------------------

    async def _open(self) -> None:
        """TCP connect, banner, login. Raises AmiConnectionError or AmiAuthError."""
        where = f"{self.host}:{self.port}"
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.connect_timeout
            )
        except (TimeoutError, OSError) as exc:
            raise AmiConnectionError(f"{self.name}: cannot connect to {where}: {exc or 'timeout'}") from None
        link = Link(reader, writer)
        self._link = link
        link.tasks.append(self._spawn(self._read(link)))
        try:
            try:
                banner = await asyncio.wait_for(asyncio.shield(link.banner), self.connect_timeout)
            except TimeoutError:
                raise AmiConnectionError(f"{self.name}: no banner from {where}") from None
            if not banner.encode().startswith(BANNER_PREFIX):
                raise AmiConnectionError(f"{self.name}: {where} is not an Asterisk manager: {banner[:60]!r}")
            self.banner = banner
            try:
                reply = await self._request(
                    link, "Login", {"Username": self.username, "Secret": self._secret}, timeout=None
                )
            except AmiTimeoutError:
                raise AmiConnectionError(f"{self.name}: no answer to Login from {where}") from None
            if reply.name != "Success":
                raise AmiAuthError(
                    f"{self.name}: Asterisk at {where} refused login of user {self.username!r}: "
                    f"{reply.get('Message') or reply.name}"
                )
        except BaseException:
            link.abort("login failed")
            raise
        link.logged_in = True
        self.stats.connects += 1
        if self.ping_interval > 0:
            link.tasks.append(self._spawn(self._keepalive(link)))
        log.info("%s: logged in to %s as %s (%s)", self.name, where, self.username, banner)

    async def _supervise(self) -> None:
        try:
            while True:
                link = self._link
                assert link is not None
                await asyncio.gather(link.tasks[0], return_exceptions=True)
                if self._closing:
                    return
                log.warning("%s: link to %s:%d lost (%s); reconnecting", self.name, self.host, self.port,
                            link.reason)
                await self._reconnect()
                self.stats.reconnects += 1
                self._subs.reconnected()
        except AmiAuthError as exc:
            log.error("%s", exc)
            self._fatal = exc
        except Exception as exc:  # a bug here must not pass silently: run_forever() raises it
            log.error("%s: supervisor stopped: %s: %s", self.name, type(exc).__name__, exc)
            self._fatal = exc
        finally:
            if self._stopped is not None:
                self._stopped.set()

    async def _reconnect(self) -> None:
        for attempt in itertools.count():
            await asyncio.sleep(backoff_delay(attempt, self.backoff_min, self.backoff_max))
            try:
                await self._open()
                return
            except AmiAuthError:
                raise
            except AmiError as exc:
                log.info("%s: reconnect attempt %d failed: %s", self.name, attempt + 1, exc)

    async def _keepalive(self, link: Link) -> None:
        while not link.lost:
            await asyncio.sleep(self.ping_interval)
            try:
                # Any response proves the link, even "Permission denied".
                await self._request(link, "Ping", {}, timeout=self.ping_timeout)
            except AmiTimeoutError:
                log.warning("%s: no answer to Ping in %.1fs; dropping the link", self.name, self.ping_timeout)
                link.abort(f"no answer to Ping in {self.ping_timeout:.1f}s")
                return
            except AmiConnectionError:
                return

    # ----- receiving --------------------------------------------------------------

    async def _read(self, link: Link) -> None:
        parser = link.parser
        try:
            while True:
                data = await link.reader.read(65536)
                if not data:
                    break
                messages = parser.feed(data)
                if parser.banner is not None and not link.banner.done():
                    link.banner.set_result(parser.banner)
                for msg in messages:
                    self._dispatch(link, msg)
                if parser.errors:
                    for err in parser.errors:
                        self.stats.malformed += 1
                        log.warning("%s: skipped a malformed frame: %s", self.name, err)
                    parser.errors.clear()
        except (ConnectionError, OSError) as exc:
            link.reason = f"{type(exc).__name__}: {exc}"
        finally:
            self._drop(link)

    def _drop(self, link: Link) -> None:
        was_up = link.logged_in and not link.lost
        link.lost = True
        link.writer.transport.abort()
        link.fail(AmiConnectionError(f"{self.name}: link to {self.host}:{self.port} lost ({link.reason})"))
        for task in link.tasks[1:]:
            task.cancel()
        if was_up:
            self._subs.disconnected(link.reason)

    def _dispatch(self, link: Link, msg: Message) -> None:
        self.stats.frames += 1
        kind = msg.kind
        if kind == "event":
            self.stats.events += 1
            link.collect(msg)
            if msg.name == "Shutdown":
                link.reason = f"Asterisk shut down ({msg.get('Shutdown') or '?'})"
                log.warning("%s: Asterisk is shutting down (%s)", self.name, msg.get("Shutdown"))
            self._subs.emit(msg)
        elif kind == "response":
            self.stats.responses += 1
            if not link.answer(msg):
                log.debug("%s: response to no pending action: %s", self.name, msg.get("ActionID"))
        else:
            self.stats.malformed += 1
            log.warning("%s: skipped a frame that is neither Event nor Response: %.80r", self.name,
                        msg.fields[0])

    def _count_callback_error(self) -> None:
        self.stats.callback_errors += 1

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)
        return task
