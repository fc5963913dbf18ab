"""One AMI TCP connection and the actions waiting on it: ActionID correlation, list actions.

Every action goes out with ``ActionID`` as its second line and Asterisk echoes it in the
response, which arrives interleaved with unrelated events. A list action (CoreShowChannels,
Status, QueueStatus...) is answered ``Response: Success`` / ``EventList: start``, then item
events carrying the same ActionID, then one with ``EventList: Complete``; a refusal
(``Response: Error``, or a Success without ``EventList``) fails it with ``AmiActionError``.
A reconnect makes a new ``Link``: what waited on the old one fails with the reason it died.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pbx.ami_errors import AmiActionError, AmiConnectionError, AmiError, AmiTimeoutError
from pbx.protocol import FrameParser, Message, encode_frame

FieldValue = str | int | float | list[str] | tuple[str, ...] | None


class Pending:
    __slots__ = ("future", "items", "name")

    def __init__(self, name: str, future: asyncio.Future[Any], is_list: bool) -> None:
        self.name = name
        self.future = future
        # Collected list items once the "EventList: start" response came in.
        self.items: list[Message] | None = [] if is_list else None


def action_frame(name: str, action_id: str, fields: dict[str, FieldValue]) -> bytes:
    """``Action`` and ``ActionID`` first; a list value repeats its key; None leaves the key out."""
    pairs: list[tuple[str, str]] = [("Action", name), ("ActionID", action_id)]
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((key, str(v)) for v in value)
        else:
            pairs.append((key, str(value)))
    return encode_frame(pairs)


def action_id_of(msg: Message) -> str | None:
    # Asterisk always spells it "ActionID"; an exact scan skips Message.get's
    # case-insensitive second pass over every event that has none (most of them).
    for key, value in msg.fields:
        if key == "ActionID":
            return value
    return None


class Link:
    """One TCP connection and what belongs to it; a reconnect makes a new one."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.parser = FrameParser()
        self.pending: dict[str, Pending] = {}
        self.banner: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.reason = "EOF from Asterisk"
        self.logged_in = False
        self.lost = False
        self.tasks: list[asyncio.Task[None]] = []

    def abort(self, reason: str) -> None:
        if not self.lost:
            self.reason = reason
        self.writer.transport.abort()

    async def request(self, who: str, action_id: str, name: str, fields: dict[str, FieldValue], *,
                      timeout: float, is_list: bool) -> Any:  # fmt: skip
        """Send one action; its response (a list action: its item events). ``who`` names the client in errors."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[action_id] = Pending(name, future, is_list)
        try:
            self.writer.write(action_frame(name, action_id, fields))
            await self.writer.drain()
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AmiTimeoutError(f"{who}: no response to {name} ({action_id}) in time") from None
        except (ConnectionError, OSError) as exc:
            if isinstance(exc, AmiError):
                raise
            raise AmiConnectionError(f"{who}: sending {name} failed: {exc}") from None
        finally:
            self.pending.pop(action_id, None)

    def collect(self, msg: Message) -> None:
        """An event: an item (or the end) of a pending list action's answer, if it carries its ActionID."""
        action_id = action_id_of(msg)
        if action_id is None:
            return
        pending = self.pending.get(action_id)
        if pending is not None and pending.items is not None and not pending.future.done():
            if msg.get("EventList") == "Complete":
                pending.future.set_result(pending.items)
            else:
                pending.items.append(msg)

    def answer(self, msg: Message) -> bool:
        """A response: resolve the action it answers; False if no action waits for it."""
        pending = self.pending.get(action_id_of(msg) or "")
        if pending is None or pending.future.done():
            return False
        if pending.items is None:
            pending.future.set_result(msg)
        elif msg.name != "Success" or "EventList" not in msg:
            pending.future.set_exception(AmiActionError(pending.name, msg))
        return True

    def fail(self, err: AmiConnectionError) -> None:
        """The link is gone: the banner wait and every pending action fail with ``err``."""
        if not self.banner.done():
            self.banner.set_exception(err)
            self.banner.exception()  # retrieved: the login may already have given up on it
        for pending in self.pending.values():
            if not pending.future.done():
                pending.future.set_exception(err)
