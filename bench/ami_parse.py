"""AMI parsing rate on one core: our FrameParser against asterisk-ami 0.1.7 and panoramisk 1.4.

Every parser gets the same bytes: all frames Asterisk sent in the recorded traces
(tests/fixtures/asterisk/*.ami, banner and Logoff's Goodbye removed), repeated until there are at least
100,000 events, behind one banner. Each parser is driven the way it reads a socket:

- ours: ``FrameParser.feed`` on 16 kB reads (the size of the biggest reads seen from
  Asterisk), and the byte-at-a-time worst case on a slice of the stream;
- asterisk-ami: its own ``AMIClient._next_pack`` generator (``recv(buffer_size)``,
  regex split, decode) and ``fire_recv_pack`` (Response/Event parsing, listener
  call), over a socket stand-in that serves the bytes; default buffer_size 1024 and 16 kB;
- panoramisk: ``AMIProtocol.data_received`` on 16 kB reads (split, ``Message.from_line``,
  ``handle_message``, ``factory.dispatch``);
- ours end to end: ``AmiClient`` over loopback TCP with one subscriber (parse +
  dispatch), the server in the same process and thread.

Ratios are against asterisk-ami (default settings) measured in the same run. Best of 3.
Run: .venv/bin/python bench/ami_parse.py
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pbx.ami import AmiClient
from pbx.protocol import FrameParser

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "asterisk"
BANNER = b"Asterisk Call Manager/9.0.0\r\n"
READ = 16384
TARGET_EVENTS = 100_000


def corpus() -> tuple[bytes, int, int, int]:
    """(stream bytes, events in it, frames in it, copies of the traces)."""
    body = b""
    for path in sorted(FIXTURES.glob("*.ami")):
        if not path.name.endswith(".sent.ami"):
            wire = path.read_bytes()
            body += wire[wire.index(b"\r\n") + 2 :]
    # Logoff's Goodbye is left out: asterisk-ami stops reading at a Goodbye.
    frames = [m for m in FrameParser(expect_banner=False).feed(body) if m.name != "Goodbye"]
    body = b"".join(m.encode() for m in frames)  # encode() gives the wire bytes back exactly
    events = sum(1 for m in frames if m.kind == "event")
    copies = -(-TARGET_EVENTS // events)
    return BANNER + body * copies, events * copies, len(frames) * copies, copies


def best_of(runs: int, fn: Callable[[], int]) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(runs):
        t0 = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - t0)
    return best, count


def ours(data: bytes, read: int = READ) -> int:
    parser = FrameParser()
    events = 0
    for i in range(0, len(data), read):
        for msg in parser.feed(data[i : i + read]):
            if msg.kind == "event":
                events += 1
    assert not parser.errors
    return events


class _ReplaySocket:
    """Stands in for asterisk-ami's socket: recv(n) serves the next n bytes."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def recv(self, n: int) -> bytes:
        chunk = bytes(self._view[self._pos : self._pos + n])
        self._pos += len(chunk)
        return chunk

    def close(self) -> None:
        pass


def asterisk_ami(data: bytes, buffer_size: int = 1024) -> int:
    from asterisk.ami.client import AMIClient

    client = AMIClient(buffer_size=buffer_size)
    client._socket = _ReplaySocket(data)
    client.finished = threading.Event()
    count = [0]

    def on_event(source: object, event: object) -> None:
        count[0] += 1

    client.add_listener(on_event=on_event)
    packs = client._next_pack()
    next(packs)  # the banner, as AMIClient.listen does
    for pack in packs:
        client.fire_recv_pack(pack)
    return count[0]


def panoramisk(data: bytes) -> int:
    from panoramisk.ami_protocol import AMIProtocol

    count = [0]

    class Factory:
        save_stream = None

        def dispatch(self, message: object) -> None:
            count[0] += 1

        def connection_lost(self, exc: object) -> None:
            pass

    class Transport:
        def close(self) -> None:
            pass

    proto = AMIProtocol()
    proto.connection_made(Transport())
    proto.factory = Factory()
    for i in range(0, len(data), READ):
        proto.data_received(data[i : i + READ])
    return count[0]


def ours_loopback(data: bytes, expected_events: int) -> tuple[float, int]:
    """AmiClient end to end: TCP read, parse, correlate, deliver to one subscriber.
    Timed from the first event byte sent to the last event delivered."""
    logging.getLogger("pbx.ami").setLevel(logging.ERROR)  # the corpus holds 100+ Shutdown events
    body = data[len(BANNER) :]

    async def main() -> tuple[float, int]:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(BANNER)
            request = FrameParser(expect_banner=False)
            while not (login := request.feed(await reader.read(4096))):
                pass
            writer.write(
                f"Response: Success\r\nActionID: {login[0]['ActionID']}\r\n"
                "Message: Authentication accepted\r\n\r\n".encode()
            )
            await writer.drain()
            await go.wait()
            for i in range(0, len(body), 1 << 20):
                writer.write(body[i : i + (1 << 20)])
                await writer.drain()

        go = asyncio.Event()
        done = asyncio.Event()
        count = [0]

        def on_event(msg: object) -> None:
            count[0] += 1
            if count[0] == expected_events:
                done.set()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = AmiClient("127.0.0.1", port, "bench", "x", ping_interval=0)
        client.on_event(on_event)
        await client.connect()
        t0 = time.perf_counter()
        go.set()
        await asyncio.wait_for(done.wait(), 60)
        seconds = time.perf_counter() - t0
        server.close()
        await client.close()
        return seconds, count[0]

    return asyncio.run(main())


def main() -> None:
    data, events, frames, copies = corpus()
    print(f"stream: {len(data) / 1e6:.1f} MB, {frames:,} frames of which {events:,} events "
          f"(every frame of the 16 real traces, x{copies})")
    worst = data[: len(data) // 50]
    worst_events = ours(worst)

    rows: list[tuple[str, float, int]] = []

    def measure(label: str, fn: Callable[[], int], expect: int, runs: int = 3) -> None:
        seconds, counted = best_of(runs, fn)
        record(label, seconds, counted, expect)

    def record(label: str, seconds: float, counted: int, expect: int) -> None:
        assert counted == expect, (label, counted, expect)
        rows.append((label, seconds, counted))

    measure("asterisk-ami 0.1.7 (recv 1024, its default)", lambda: asterisk_ami(data), events)
    measure("asterisk-ami 0.1.7 (recv 16 kB)", lambda: asterisk_ami(data, READ), events)
    measure("panoramisk 1.4 data_received (16 kB reads)", lambda: panoramisk(data), events)
    measure("ours: FrameParser (16 kB reads)", lambda: ours(data), events)
    measure("ours: FrameParser (1 byte per read, worst case)", lambda: ours(worst, 1), worst_events, runs=1)
    loopback = min(ours_loopback(data, events) for _ in range(2))
    record("ours: AmiClient over loopback TCP, 1 subscriber", *loopback, events)

    base = rows[0][2] / rows[0][1]
    print(f"\n{'parser':<50} {'events':>9} {'seconds':>8} {'events/s':>10} {'vs asterisk-ami':>16}")
    for label, seconds, counted in rows:
        rate = counted / seconds
        print(f"{label:<50} {counted:>9,} {seconds:>8.3f} {rate:>10,.0f} {rate / base:>15.2f}x")
    ours_rate = rows[3][2] / rows[3][1]
    print(f"\ntarget >= 50,000 events/s for FrameParser: {'met' if ours_rate >= 50_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
