"""One simulated AMI TCP session: the banner, frames in, batched writes out.

Faithful to what a real Asterisk 20 sends (tests/fixtures/asterisk/README.md): the
one-line banner, CRLF frames, every event written to each logged-in session whose event
mask allows it. Writes are batched per loop iteration, so a read holds several whole
frames, as Asterisk's did. A client that stops reading is cut off, as Asterisk's
``writetimeout`` does. What each action answers is ``actions.py``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from pbx.protocol import FrameParser, encode_frame
from pbx.simulator import actions
from pbx.simulator.manager import CATEGORIES

if TYPE_CHECKING:
    from pbx.simulator.server import AsteriskSimulator

log = logging.getLogger("pbx.simulator")

BANNER = b"Asterisk Call Manager/9.0.0\r\n"
MAX_BACKLOG = 16 << 20  # a client this far behind is cut off (Asterisk's writetimeout does the same)


class AmiSession:
    """One AMI TCP connection."""

    def __init__(self, sim: AsteriskSimulator, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sim = sim
        self.reader = reader
        self.writer = writer
        self.authenticated = False
        self.username = ""
        self.challenge = ""
        self.mask: set[str] = set(CATEGORIES)
        self.closed = False
        self._out: list[bytes] = []
        self._flush_pending = False
        self.local = writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        self.remote = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        self.session_id = f"0x{id(self):x}"

    def wants(self, category: str) -> bool:
        return self.authenticated and not self.closed and category in self.mask

    def send(self, fields: list[tuple[str, str]]) -> None:
        self.send_bytes(encode_frame(fields))

    def send_bytes(self, data: bytes) -> None:
        if self.closed:
            return
        self._out.append(data)
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._flush_pending = False
        if self.closed or not self._out:
            self._out.clear()
            return
        data, self._out = b"".join(self._out), []
        transport = self.writer.transport
        if transport.is_closing():
            return
        transport.write(data)
        if transport.get_write_buffer_size() > MAX_BACKLOG:
            log.error("simulator: AMI client %s:%s is not reading; disconnecting it", *self.remote[:2])
            self.abort()

    def close(self) -> None:
        """Flush what is queued, then close (Logoff, failed Login, shutdown)."""
        if self.closed:
            return
        self.flush()
        self.closed = True
        self.writer.close()

    def abort(self) -> None:
        """Drop the socket without flushing (link loss, SIGKILL)."""
        self.closed = True
        self._out.clear()
        self.writer.transport.abort()

    async def run(self) -> None:
        parser = FrameParser(expect_banner=False)
        self.writer.write(BANNER)
        try:
            while not self.closed:
                data = await self.reader.read(65536)
                if not data:
                    break
                for msg in parser.feed(data):
                    await actions.handle(self.sim, self, msg)  # looked up per frame: bench/ivr_load.py wraps it
                    if self.closed:
                        break
                for err in parser.errors:
                    log.warning("simulator: AMI client %s:%s sent a bad frame: %s", *self.remote[:2], err)
                parser.errors.clear()
        except (ConnectionError, OSError):
            pass
        finally:
            if not self.closed:
                self.close()
            self.sim.sessions.discard(self)
