"""The AMI client's subscribers: event, reconnect and disconnect callbacks, each one guarded.

An exception in a callback is one log line (and a count) and the stream goes on. Sync
event callbacks run inline, in stream order. Async ones each get their own ordered queue
and task, so a slow one never stalls the reader; a coroutine returned by a sync callback
is awaited in a task of its own.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pbx.protocol import Message

log = logging.getLogger("pbx.ami")  # the client's logger: these lines are the client's

EventCallback = Callable[[Message], Any]
ReconnectCallback = Callable[[], Any]
DisconnectCallback = Callable[[str], Any]


def _callable_name(cb: object) -> str:
    name = getattr(cb, "__qualname__", None) or type(cb).__name__
    return name.rsplit("<locals>.", 1)[-1]


def _is_async(cb: object) -> bool:
    # A plain coroutine function, or an object whose __call__ is one.
    return inspect.iscoroutinefunction(cb) or inspect.iscoroutinefunction(type(cb).__call__)


class Subscribers:
    """Who wants events, re-logins and link losses; ``spawn`` runs side tasks, ``failed`` counts failures."""

    def __init__(self, name: str, spawn: Callable[[Awaitable[Any]], asyncio.Task[Any]],
                 failed: Callable[[], None]) -> None:  # fmt: skip
        self.name = name
        self._spawn = spawn
        self._failed = failed
        self.events: list[tuple[EventCallback, asyncio.Queue[Message] | None]] = []
        self.workers: dict[int, asyncio.Task[None]] = {}
        self.reconnect: list[ReconnectCallback] = []
        self.disconnect: list[DisconnectCallback] = []

    def add_event(self, callback: EventCallback) -> None:
        self.events.append((callback, asyncio.Queue() if _is_async(callback) else None))

    def emit(self, msg: Message) -> None:
        for cb, queue in self.events:
            if queue is None:
                self.call_guarded(cb, (msg,), "event", msg)
                continue
            queue.put_nowait(msg)
            if id(cb) not in self.workers:
                self.workers[id(cb)] = asyncio.get_running_loop().create_task(self._worker(cb, queue))

    def reconnected(self) -> None:
        for cb in self.reconnect:
            self.call_guarded(cb, (), "reconnect")

    def disconnected(self, reason: str) -> None:
        for cb in self.disconnect:
            self.call_guarded(cb, (reason,), "disconnect")

    async def _worker(self, cb: EventCallback, queue: asyncio.Queue[Message]) -> None:
        while True:
            msg = await queue.get()
            try:
                await cb(msg)
            except Exception as exc:
                self._callback_failed(cb, "event", exc, msg)

    def call_guarded(self, cb: Callable[..., Any], args: tuple[Any, ...], what: str,
                     msg: Message | None = None) -> None:  # fmt: skip
        try:
            result = cb(*args)
        except Exception as exc:
            self._callback_failed(cb, what, exc, msg)
            return
        if inspect.isawaitable(result):
            self._spawn(self._await_guarded(result, cb, what, msg))

    async def _await_guarded(self, aw: Awaitable[Any], cb: object, what: str, msg: Message | None) -> None:
        try:
            await aw
        except Exception as exc:
            self._callback_failed(cb, what, exc, msg)

    def _callback_failed(self, cb: object, what: str, exc: Exception, msg: Message | None) -> None:
        self._failed()
        where = f" on {msg.name} (channel {msg.get('Channel') or '-'})" if msg is not None else ""
        log.error("%s: %s callback %s failed%s: %s: %s", self.name, what, _callable_name(cb), where,
                  type(exc).__name__, exc)
        log.debug("callback traceback", exc_info=exc)
