"""The AMI wire format, and nothing else: frames in, frames out.

Asterisk sends a one-line banner (``Asterisk Call Manager/9.0.0\\r\\n``) and then
messages of ``Key: Value\\r\\n`` lines closed by an empty ``\\r\\n`` line. Keys may
repeat (``Variable:`` in Originate, ``ChanVariable`` in some events), so a message
keeps its fields as an ordered tuple of pairs. Values keep everything after the
first ``:`` less one leading space, so ``AccountCode: `` reads as ``""``.

Speed matters here (every event of every call passes through ``FrameParser``), so
the parser decodes each TCP read's complete frames in one go and splits text, and
it only searches the newly arrived bytes for a frame end (a frame fed one byte at
a time costs linear, not quadratic, time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote

BANNER_PREFIX = b"Asterisk Call Manager/"
EOL = b"\r\n"
END = b"\r\n\r\n"
# A frame that grows past this without its blank line is garbage (Asterisk frames
# are a few kB at most); drop it rather than buffer without bound.
MAX_PENDING = 1 << 20

# Asterisk's ast_uri_encode with ast_uri_http keeps exactly these unescaped.
_AGI_SAFE = "-_.!~*'()"


class FrameError(ValueError):
    """A frame that is not valid AMI; the stream goes on after it."""


@dataclass(frozen=True, slots=True)
class Message:
    """One AMI frame: an Event, a Response or an Action, with its fields in wire order."""

    fields: tuple[tuple[str, str], ...]

    def get(self, key: str, default: str | None = None) -> str | None:
        """First value of ``key``; AMI keys are case-insensitive (CommandID vs CommandId).

        The exact spelling is tried first because it is what callers almost always
        pass, and it avoids lower-casing every key of a 20-line event.
        """
        for k, v in self.fields:
            if k == key:
                return v
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


# Keys already seen valid, mapped to one shared string: AMI uses a few hundred
# distinct keys, so one dict lookup replaces per-line validation on the hot path
# (and every Message shares its key strings). Bounded so garbage cannot grow it.
_KNOWN_KEYS: dict[str, str] = {}
_MAX_KNOWN_KEYS = 4096


def _slow_line(line: str, append: Callable[[tuple[str, str]], None]) -> None:
    key, sep, value = line.partition(":")
    if sep and key and key[0] > " " and key[-1] > " ":
        if len(_KNOWN_KEYS) < _MAX_KNOWN_KEYS:
            key = _KNOWN_KEYS.setdefault(key, key)
        # Asterisk writes "Key: Value"; a bare "Key:" or "Key:value" is tolerated.
        append((key, value[1:] if value[:1] == " " else value))
    elif line:
        raise FrameError(f"not a 'Key: Value' line: {line[:80]!r}")


def _parse_text(text: str) -> Message:
    pairs: list[tuple[str, str]] = []
    append = pairs.append
    known = _KNOWN_KEYS.get
    for line in text.split("\r\n"):
        key, sep, value = line.partition(": ")
        shared = known(key)
        if sep and shared is not None:
            append((shared, value))
        else:
            _slow_line(line, append)
    if not pairs:
        raise FrameError("empty frame")
    return Message(tuple(pairs))


def parse_frame(block: bytes) -> Message:
    """Parse one frame's bytes (without the closing blank line)."""
    return _parse_text(block.decode("utf-8", errors="replace"))


class FrameParser:
    """Incremental parser: feed it TCP reads in any cut, get whole messages back.

    Malformed frames do not stop the stream: they are appended to ``errors`` (the
    owner logs one line each and clears the list) and parsing goes on with the next frame.
    """

    def __init__(self, expect_banner: bool = True) -> None:
        self._buf = bytearray()
        # Bytes of _buf already searched for a frame end (minus 3, since END may
        # straddle two reads).
        self._scanned = 0
        self.banner: str | None = None
        self._need_banner = expect_banner
        self.errors: list[FrameError] = []

    def feed(self, data: bytes) -> list[Message]:
        buf = self._buf
        buf += data
        if self._need_banner and not self._take_banner():
            return []
        end = buf.rfind(END, max(self._scanned - 3, 0))
        if end < 0:
            self._scanned = len(buf)
            if len(buf) > MAX_PENDING:
                self.errors.append(FrameError(f"no frame end in {len(buf)} bytes; dropped them"))
                buf.clear()
                self._scanned = 0
            return []
        text = buf[:end].decode("utf-8", errors="replace")
        del buf[: end + 4]
        self._scanned = len(buf)
        out: list[Message] = []
        for block in text.split("\r\n\r\n"):
            if not block or block.isspace():
                # Tolerate stray blank lines between frames.
                continue
            try:
                out.append(_parse_text(block))
            except FrameError as exc:
                self.errors.append(exc)
        return out

    def _take_banner(self) -> bool:
        buf = self._buf
        nl = buf.find(EOL)
        if nl < 0:
            return False
        self.banner = buf[:nl].decode("utf-8", errors="replace")
        del buf[: nl + 2]
        self._need_banner = False
        self._scanned = 0
        return True

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back (a partial read)."""
        return len(self._buf)


def agi_encode(text: str) -> str:
    """URL-encode like Asterisk does for AsyncAGI ``Result``/``Env`` (space is %20, hex upper)."""
    return quote(text, safe=_AGI_SAFE)


def agi_decode(text: str) -> str:
    return unquote(text)
