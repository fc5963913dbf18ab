"""AmiClient over real TCP against servers that replay recorded Asterisk 20 bytes.

``TraceServer`` plays a recorded session back to the real client: it sends the
recorded reads (with their original cuts) that followed each action the client
sends, after checking that the client's action equals the recorded one. The
client's own ActionID/CommandID values are written into the replayed bytes, so
correlation is really tested. test_agi.py reuses it (``from test_ami_client import ...``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pbx.ami import (
    AmiActionError,
    AmiAuthError,
    AmiClient,
    AmiConnectionError,
    AmiTimeoutError,
    backoff_delay,
)
from pbx.protocol import FrameParser, Message, encode_frame

FIXTURES = Path(__file__).parent / "fixtures" / "asterisk"
T = TypeVar("T")

# ---------------------------------------------------------------------------------
# Replay server


@dataclass
class Step:
    action: Message  # the frame the recorded client sent
    t: float  # when it was sent (s since connect)
    replies: list[tuple[float, bytes]] = field(default_factory=list)  # reads that followed it
    eof: bool = False  # the server closed the connection after the replies


@dataclass
class Script:
    greeting: list[tuple[float, bytes]]  # the banner, sent on accept
    steps: list[Step]


def load_script(name: str) -> Script:
    greeting: list[tuple[float, bytes]] = []
    steps: list[Step] = []
    for line in (FIXTURES / f"{name}.chunks.jsonl").read_text().splitlines():
        rec = json.loads(line)
        data = rec["bytes"].encode("latin-1")
        if rec["dir"] == "out":
            frames = FrameParser(expect_banner=False).feed(data)
            assert len(frames) == 1, "one sendall() per action in the recordings"
            steps.append(Step(frames[0], rec["t"]))
        elif rec["n"] == 0:
            steps[-1].eof = True
        else:
            (steps[-1].replies if steps else greeting).append((rec["t"], data))
    return Script(greeting, steps)


def frame(*pairs: tuple[str, str]) -> bytes:
    return encode_frame(pairs)


def recorded_frame(name: str, predicate: Callable[[Message], bool]) -> Message:
    for line in (FIXTURES / f"{name}.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["dir"] == "in" and rec["kind"] == "frame":
            msg = Message(tuple((k, v) for k, v in rec["fields"]))
            if predicate(msg):
                return msg
    raise LookupError(name)


PONG = recorded_frame("killed-while-connected", lambda m: m.get("Ping") == "Pong")
DENIED = recorded_frame("unauthenticated-action", lambda m: m.get("Message") == "Permission denied")


def with_action_id(template: Message, action_id: str) -> bytes:
    return encode_frame((k, action_id if k == "ActionID" else v) for k, v in template.fields)


class TraceServer:
    """Asyncio TCP server replaying recorded sessions; connection i plays scripts[i]."""

    def __init__(
        self,
        *scripts: Script,
        port: int = 0,
        pace: float = 0.0,
        ping_reply: Message | None = PONG,
        extra_connections_close: bool = True,
    ) -> None:
        self.scripts = scripts
        self.port = port
        self.pace = pace  # 1.0 = recorded gaps between reads (each capped at 1 s)
        self.ping_reply = ping_reply  # answer for Pings the script does not expect; None = silence
        self.extra_connections_close = extra_connections_close
        self.connections = 0
        self.received: list[list[Message]] = []
        self.unexpected: list[Message] = []
        self.mismatched: list[tuple[Message, Message]] = []
        self.skipped: list[Step] = []  # recorded actions the client did not send
        self._server: asyncio.AbstractServer | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.finished = asyncio.Event()  # a script ran to its end

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> TraceServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _send(self, writer: asyncio.StreamWriter, chunks: list[tuple[float, bytes]], t0: float,
                    ids: dict[bytes, bytes]) -> None:
        last = t0
        for t, data in chunks:
            if self.pace:
                await asyncio.sleep(min((t - last) * self.pace, 1.0))
            last = t
            for old, new in ids.items():
                data = data.replace(old, new)
            writer.write(data)
            await writer.drain()
            await asyncio.sleep(0)  # let each recorded read leave as its own segment

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = self.connections
        self.connections += 1
        self._writers.append(writer)
        got: list[Message] = []
        self.received.append(got)
        if index >= len(self.scripts) and self.extra_connections_close:
            writer.close()
            return
        script = self.scripts[min(index, len(self.scripts) - 1)]
        ids: dict[bytes, bytes] = {}
        await self._send(writer, script.greeting, 0.0, ids)
        steps = script.steps
        at = 0
        parser = FrameParser(expect_banner=False)
        try:
            while data := await reader.read(65536):
                for msg in parser.feed(data):
                    got.append(msg)
                    # The client may legitimately leave a recorded action out (AsyncAgi does
                    # not send to a channel it saw leave AGI): skip ahead to the matching one.
                    ahead = next((i for i in range(at, len(steps)) if steps[i].action.name == msg.name
                                  and (msg.name != "Ping" or i == at)), None)
                    if ahead is not None:
                        self.skipped += steps[at:ahead]
                        step = steps[ahead]
                        at = ahead + 1
                        self._check(msg, step.action, ids)
                        await self._send(writer, step.replies, step.t, ids)
                        if step.eof:
                            writer.close()
                            self.finished.set()
                            return
                        if at == len(steps):
                            self.finished.set()
                    elif msg.name == "Ping" and self.ping_reply is not None:
                        writer.write(with_action_id(self.ping_reply, msg.get("ActionID") or ""))
                    elif msg.name != "Ping":
                        self.unexpected.append(msg)
        except ConnectionError:
            pass
        finally:
            writer.close()

    def _check(self, got: Message, recorded: Message, ids: dict[bytes, bytes]) -> None:
        for key in ("ActionID", "CommandID"):
            old, new = recorded.get(key), got.get(key)
            if old is not None and new is not None:
                wire = "CommandId" if key == "CommandID" else key  # the event spells it CommandId
                ids[f"{wire}: {old}\r\n".encode()] = f"{wire}: {new}\r\n".encode()

        def strip(m: Message) -> list[tuple[str, str]]:
            return [(k, v) for k, v in m.fields if k not in ("ActionID", "CommandID")]

        # Same action, same fields in the same order, ActionID second as on the wire.
        if strip(got) != strip(recorded) or got.fields[1][0] != "ActionID":
            self.mismatched.append((got, recorded))


def run(coro: Awaitable[T], timeout: float = 20.0) -> T:
    async def guarded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(guarded())


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def client_for(server: TraceServer, secret: str = "hotline-secret", **kw: Any) -> AmiClient:
    kw.setdefault("ping_interval", 0)  # keep-alive off unless a test is about it
    kw.setdefault("backoff_min", 0.05)
    kw.setdefault("backoff_max", 0.2)
    return AmiClient("127.0.0.1", server.port, "hotline", secret, **kw)


def events_in(name: str) -> list[Message]:
    out = []
    for line in (FIXTURES / f"{name}.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["dir"] == "in" and rec["kind"] == "frame" and rec["fields"][0][0] == "Event":
            out.append(Message(tuple((k, v) for k, v in rec["fields"])))
    return out


# ---------------------------------------------------------------------------------
# Tests


def test_login_success_events_and_logoff() -> None:
    async def main() -> None:
        async with TraceServer(load_script("login-success")) as server:
            client = client_for(server)
            seen: list[Message] = []
            client.on_event(seen.append)
            async with client:
                assert client.connected
                assert client.banner == "Asterisk Call Manager/9.0.0"
                await until(lambda: len(seen) == 2)
            assert not client.connected
            assert [m.event for m in seen] == ["FullyBooted", "SuccessfulAuth"]
            assert seen[1]["Service"] == "AMI"
            # The client sent exactly what the recorded client sent: Login, then Logoff.
            assert [m.name for m in server.received[0]] == ["Login", "Logoff"]
            assert server.mismatched == [] and server.unexpected == []
            assert client.stats.events == 2 and client.stats.errors == 0 and client.stats.reconnects == 0
            with pytest.raises(AmiConnectionError):
                await client.action("Ping")

    run(main())


def test_login_failure_is_one_clear_error_and_never_retried() -> None:
    async def main() -> None:
        async with TraceServer(load_script("login-failure"), pace=1.0) as server:
            client = client_for(server, secret="wrong-secret")
            with pytest.raises(AmiAuthError) as info:
                await client.connect()
            text = str(info.value)
            assert "Authentication failed" in text and "hotline" in text and "\n" not in text
            assert not client.connected
            await asyncio.sleep(0.5)  # several backoff periods: any retry would show up
            assert server.connections == 1
            assert server.mismatched == []
            await client.close()

    run(main())


def test_connection_refused_raises_connection_error() -> None:
    async def main() -> None:
        server = TraceServer(load_script("login-success"))
        port = await server.start()
        await server.stop()  # nothing listens on that port any more
        client = AmiClient("127.0.0.1", port, "hotline", "hotline-secret", ping_interval=0)
        with pytest.raises(AmiConnectionError) as info:
            await client.connect()
        assert f"127.0.0.1:{port}" in str(info.value)
        await client.close()

    run(main())


def test_refused_actions_return_errors_and_the_link_stays_up() -> None:
    # Asterisk's "Permission denied" answers (recorded before Login) on a logged-in
    # link: action() returns the error, action_list() raises, keep-alive Pings
    # answered by an error still count as alive.
    login = load_script("login-success")
    refused = load_script("unauthenticated-action")
    script = Script(login.greeting, [login.steps[0], *refused.steps])

    async def main() -> None:
        async with TraceServer(script, ping_reply=DENIED) as server:
            client = client_for(server, ping_interval=0.05, ping_timeout=0.5)
            await client.connect()
            await asyncio.sleep(0.3)  # a few keep-alive rounds, all answered "Permission denied"
            reply = await client.action("Ping")
            assert reply.name == "Error" and reply["Message"] == "Permission denied"
            with pytest.raises(AmiActionError, match="Permission denied"):
                await client.action_list("CoreShowChannels")
            assert client.connected and client.stats.reconnects == 0
            await client.close()
            assert server.received[0][-1].name == "Logoff"
            assert server.mismatched == [] and server.unexpected == []
            assert server.connections == 1

    run(main())


def test_shutdown_then_reconnect_to_a_new_asterisk() -> None:
    name = "shutdown-while-connected"
    script = load_script(name)
    recorded_channel = "SIP/caller-00000008"

    async def main() -> None:
        server = TraceServer(script, pace=0.2)
        port = await server.start()
        client = client_for(server)
        lost: list[str] = []
        back: list[bool] = []
        seen: list[str] = []
        client.on_disconnect(lost.append)
        client.on_reconnect(lambda: back.append(True))
        client.on_event(lambda m: seen.append(m.name))
        await client.connect()
        assert (await client.action("Ping"))["Ping"] == "Pong"
        assert await client.action_list("CoreShowChannels") == []
        assert await client.action_list("Status") == []
        agi = await client.action("AGI", Channel=recorded_channel, Command="ANSWER", CommandID="e-cmd1")
        assert agi["Message"] == "Added AGI command to queue"
        channels = await client.action_list("CoreShowChannels")
        assert [c["Channel"] for c in channels] == [recorded_channel]
        assert channels[0].event == "CoreShowChannel" and channels[0]["Application"] == "AGI"
        status = await client.action_list("Status")
        assert [s["Channel"] for s in status] == [recorded_channel]
        one = await client.action_list("Status", Channel=recorded_channel)
        assert one[0]["Privilege"] == "Call" and one[0].fields[-1][0] == "ActionID"
        assert "CoreShowChannel" in seen  # list items also reach subscribers
        assert (await client.action("Ping"))["Ping"] == "Pong"
        # Asterisk now hangs the call up, says Shutdown and closes.
        await until(lambda: bool(lost))
        assert "shut down" in lost[0]
        assert "Shutdown" in seen and seen.index("AsyncAGIEnd") < seen.index("Shutdown")
        assert not client.connected
        with pytest.raises(AmiConnectionError):
            await client.action("Ping")
        await server.stop()
        await asyncio.sleep(0.3)  # Asterisk restarting: the client meets refused connects
        assert server.mismatched == [] and server.unexpected == []
        async with TraceServer(load_script("login-success"), port=port) as second:
            await until(lambda: client.connected)
            await until(lambda: bool(back))
            assert client.stats.reconnects == 1 and client.stats.connects == 2
            assert (await client.action("Ping"))["Ping"] == "Pong"
            await client.close()
            assert [m.name for m in second.received[0]] == ["Login", "Ping", "Logoff"]
            assert second.mismatched == []

    run(main())


def test_killed_asterisk_fails_pending_actions_then_reconnects() -> None:
    async def main() -> None:
        # First connection: the SIGKILL recording (Ping answered in two reads, EOF 0.5 s
        # later); second connection: a fresh Asterisk.
        killed = load_script("killed-while-connected")
        async with TraceServer(killed, load_script("login-success"), pace=1.0) as server:
            client = client_for(server)
            lost: list[str] = []
            client.on_disconnect(lost.append)
            await client.connect()
            pong = await client.action("Ping")
            assert pong["Timestamp"] == "1795335311.621273"  # the reply that came in two reads
            # This one is never answered: the process dies first.
            with pytest.raises(AmiConnectionError, match="EOF"):
                await client.action("CoreShowChannels", timeout=5.0)
            assert lost and "EOF" in lost[0]
            await until(lambda: client.connected)
            assert server.connections == 2 and client.stats.reconnects == 1
            await client.close()
            assert [m.name for m in server.received[1]] == ["Login", "Logoff"]

    run(main())


def test_silent_server_is_detected_by_ping_timeout() -> None:
    login = load_script("login-success")
    silent = Script(login.greeting, [login.steps[0]])  # logs in, then answers nothing

    async def main() -> None:
        async with TraceServer(silent, ping_reply=None, extra_connections_close=False) as server:
            client = client_for(server, ping_interval=0.1, ping_timeout=0.2)
            lost: list[str] = []
            client.on_disconnect(lost.append)
            await client.connect()
            await until(lambda: bool(lost), timeout=3.0)
            assert "Ping" in lost[0]
            await until(lambda: server.connections >= 2, timeout=3.0)
            await until(lambda: client.connected)
            assert client.stats.reconnects >= 1
            await client.close()

    run(main())


def test_raising_callbacks_do_not_stop_the_stream(caplog: pytest.LogCaptureFixture) -> None:
    name = "inbound-call-dial"
    script = load_script(name)
    expected = [m.name for m in events_in(name)]
    caller = "SIP/caller-00000000"

    async def main() -> None:
        async with TraceServer(script) as server:
            client = client_for(server)
            got: list[str] = []
            got_async: list[str] = []

            def boom(msg: Message) -> None:
                if msg.get("Channel") == caller:
                    raise RuntimeError("session bug")

            async def slow_async(msg: Message) -> None:
                await asyncio.sleep(0)
                if msg.name == "AsyncAGIStart":
                    raise ValueError("async bug")
                got_async.append(msg.name)

            client.on_event(boom)
            client.on_event(slow_async)
            client.on_event(lambda m: got.append(m.name))
            await client.connect()
            for step in script.steps[1:-1]:  # the recorded actions between Login and Logoff
                fields = {k: v for k, v in step.action.fields[2:]}
                reply = await client.action(step.action.name, **fields)
                assert reply.name == "Success"
            await until(lambda: len(got) == len(expected))
            await until(lambda: len(got_async) == len(expected) - 1)
            assert got == expected
            assert got_async == [n for n in expected if n != "AsyncAGIStart"]
            assert client.connected
            await client.close()
            assert server.mismatched == [] and server.unexpected == []
            return client.stats.callback_errors

    with caplog.at_level(logging.ERROR, logger="pbx.ami"):
        errors = run(main())
    lines = [r.getMessage() for r in caplog.records if "callback" in r.getMessage()]
    assert errors == len(lines) > 10
    assert all("\n" not in line for line in lines)
    assert any("boom failed on Newchannel (channel SIP/caller-00000000): RuntimeError: session bug" in line
               for line in lines)
    assert any("slow_async failed on AsyncAGIStart" in line and "ValueError" in line for line in lines)


def test_malformed_and_unknown_frames_mid_stream(caplog: pytest.LogCaptureFixture) -> None:
    script = load_script("login-success")
    login_replies = script.steps[0].replies
    t, data = login_replies[0]
    booted = data.index(b"Event: SuccessfulAuth")
    bad = (
        b"Event: Broken\r\nthis line has no colon\r\n\r\n"
        b"\x00\xff garbage \x80\r\n\r\n"
        b"Foo: not an event or response\r\n\r\n"
        b"Event: HotlineFromTheFuture\r\nPrivilege: call,all\r\nChannel: SIP/x-1\r\n\r\n"
    )
    login_replies[0] = (t, data[:booted] + bad + data[booted:])

    async def main() -> AmiClient:
        async with TraceServer(script) as server:
            client = client_for(server)
            seen: list[str] = []
            client.on_event(lambda m: seen.append(m.name))
            await client.connect()
            await until(lambda: "SuccessfulAuth" in seen)
            assert seen == ["FullyBooted", "HotlineFromTheFuture", "SuccessfulAuth"]
            assert client.connected
            await client.close()
            return client

    with caplog.at_level(logging.WARNING, logger="pbx.ami"):
        client = run(main())
    assert client.stats.malformed == 3
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 3 and all("\n" not in s for s in skipped)
    assert any("this line has no colon" in s for s in skipped)


def test_action_timeout_keeps_the_link_and_repeated_fields_go_out_in_order() -> None:
    login = load_script("login-success")

    async def main() -> None:
        async with TraceServer(login) as server:
            client = client_for(server)
            await client.connect()
            with pytest.raises(AmiTimeoutError):  # the script never answers it
                await client.action("Originate", timeout=0.2, Channel="Local/400@hotline",
                                    Variable=["A=1", "B=2"], Async="true", Account=None)
            assert client.connected
            (sent,) = server.unexpected
            assert sent.fields[1][0] == "ActionID"
            assert sent.fields[2:] == (("Channel", "Local/400@hotline"), ("Variable", "A=1"),
                                       ("Variable", "B=2"), ("Async", "true"))
            await client.close()

    run(main())


def test_login_never_answered_is_a_connection_error() -> None:
    login = load_script("login-success")

    async def main() -> None:
        async with TraceServer(Script(login.greeting, [])) as server:  # banner, then nothing
            client = client_for(server, action_timeout=0.2)
            with pytest.raises(AmiConnectionError, match="no answer to Login"):
                await client.connect()
            assert server.connections == 1 and not client.connected
            await client.close()

    run(main())


def test_backoff_is_exponential_jittered_and_bounded() -> None:
    delays = [[backoff_delay(n, 0.5, 30.0) for n in range(12)] for _ in range(50)]
    for row in delays:
        for n, d in enumerate(row):
            ceiling = min(30.0, 0.5 * 2**n)
            assert ceiling / 2 <= d <= ceiling
    assert len({row[3] for row in delays}) > 1  # jitter: not all clients in lockstep
    assert max(max(row) for row in delays) <= 30.0
