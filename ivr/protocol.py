"""The AMI wire format, and nothing else: frames in, frames out.

Asterisk sends a one-line banner (``Asterisk Call Manager/9.0.0\\r\\n``) and then
messages of ``Key: Value\\r\\n`` lines closed by an empty ``\\r\\n`` line. Keys may
repeat (``Variable:`` in Originate, ``ChanVariable`` in some events), so a message
keeps its fields as an ordered tuple of pairs. Values keep everything after the
first ``:`` less one leading space, so ``AccountCode: `` reads as ``""``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, unquote

BANNER_PREFIX = b"Asterisk Call Manager/"
EOL = b"\r\n"
END = b"\r\n\r\n"

# Asterisk's ast_uri_encode with ast_uri_http keeps exactly these unescaped.
_AGI_SAFE = "-_.!~*'()"


class FrameError(ValueError):
    """A frame that is not valid AMI; the stream goes on after it."""


@dataclass(frozen=True, slots=True)
class Message:
    """One AMI frame: an Event, a Response or an Action, with its fields in wire order."""

    fields: tuple[tuple[str, str], ...]

    def get(self, key: str, default: str | None = None) -> str | None:
        """First value of ``key`` (AMI keys are case-insensitive: CommandID vs CommandId)."""
        low = key.lower()
        for k, v in self.fields:
            if k.lower() == low:
                return v
        return default

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def getall(self, key: str) -> list[str]:
        low = key.lower()
        return [v for k, v in self.fields if k.lower() == low]

    @property
    def kind(self) -> str:
        """``event``, ``response`` or ``action``: the name of the first field."""
        return self.fields[0][0].lower() if self.fields else ""

    @property
    def name(self) -> str:
        """The event name, response status or action name."""
        return self.fields[0][1] if self.fields else ""

    @property
    def event(self) -> str | None:
        return self.name if self.kind == "event" else None

    def encode(self) -> bytes:
        return encode_frame(self.fields)

    @classmethod
    def of(cls, first: tuple[str, str], /, **fields: object) -> Message:
        return cls((first, *((k, str(v)) for k, v in fields.items())))


def encode_frame(fields: Iterable[tuple[str, str]]) -> bytes:
    """Serialise fields as one frame, exactly as Asterisk writes it (CRLF, blank line)."""
    out = [f"{k}: {v}\r\n" for k, v in fields]
    out.append("\r\n")
    return "".join(out).encode("utf-8")


def parse_frame(block: bytes) -> Message:
    """Parse one frame's bytes (without the closing blank line)."""
    text = block.decode("utf-8", errors="replace")
    pairs: list[tuple[str, str]] = []
    for line in text.split("\r\n"):
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or key != key.strip():
            raise FrameError(f"not a 'Key: Value' line: {line[:80]!r}")
        pairs.append((key, value[1:] if value.startswith(" ") else value))
    if not pairs:
        raise FrameError("empty frame")
    return Message(tuple(pairs))


class FrameParser:
    """Incremental parser: feed it TCP reads in any cut, get whole messages back.

    Malformed frames do not stop the stream: they are returned through ``errors``
    so the caller can log one line and go on.
    """

    def __init__(self, expect_banner: bool = True) -> None:
        self._buf = bytearray()
        self.banner: str | None = None
        self._need_banner = expect_banner
        self.errors: list[FrameError] = []

    def feed(self, data: bytes) -> list[Message]:
        self._buf += data
        return list(self._drain())

    def _drain(self) -> Iterator[Message]:
        buf = self._buf
        if self._need_banner:
            nl = buf.find(EOL)
            if nl < 0:
                return
            self.banner = buf[:nl].decode("utf-8", errors="replace")
            del buf[: nl + 2]
            self._need_banner = False
        start = 0
        while True:
            end = buf.find(END, start)
            if end < 0:
                break
            block = bytes(buf[start:end])
            start = end + 4
            if not block.strip():
                continue
            try:
                yield parse_frame(block)
            except FrameError as exc:
                self.errors.append(exc)
        del buf[:start]

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back (a partial read)."""
        return len(self._buf)


def agi_encode(text: str) -> str:
    """URL-encode like Asterisk does for AsyncAGI ``Result``/``Env`` (space is %20, hex upper)."""
    return quote(text, safe=_AGI_SAFE)


def agi_decode(text: str) -> str:
    return unquote(text)
