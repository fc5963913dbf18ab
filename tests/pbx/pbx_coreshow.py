"""Snapshots of a caller channel as AMI lists it (``CoreShowChannels`` and ``Status``), taken live.

``ChannelWatch`` is its own AMI login (events on). For every caller channel that enters
Async AGI with one of the watched caller IDs, it asks both list actions right after each
``EXEC <app>`` returned (AsyncAGIExec), and while the running app rings an agent (the first
DialBegin) and bridges the caller (BridgeEnter), and keeps what they said about that channel: the fields the
service reads (ivr/adopt.py, ivr/calltrack.py) and what Status says runs now.
"""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass, field

from pbx_lab import AMI_SECRET, AMI_USER

CORE_FIELDS = ("Application", "ApplicationData", "BridgeId", "Context", "Exten", "CallerIDNum")
STATUS_FIELDS = ("Application", "Data", "BridgeID", "ChannelStateDesc")


def _norm(key: str, value: str) -> str:
    """Without what differs by side and by call: folders, Uniqueids, bridge ids."""
    if key.lower() == "bridgeid":
        return "<bridge>" if value.strip() else ""
    value = re.sub(r"/[^,()]*/", "<dir>/", value)
    return re.sub(r"\d{6,}\.\d+", "<uid>", value)


@dataclass
class Snapshot:
    when: str  # "after EXEC MixMonitor", "ringing EXEC Dial", "bridged by EXEC Dial" ...
    core: dict[str, str] | None = None  # None: the channel was not listed
    status: dict[str, str] | None = None
    pending: set[str] = field(default_factory=set)  # ActionIDs still answering

    def row(self) -> str:
        def part(name: str, got: dict[str, str] | None, keys: tuple[str, ...]) -> str:
            return f"{name}: gone" if got is None else f"{name}: " + " ".join(
                f"{k}={_norm(k, got.get(k, '-'))!r}" for k in keys)

        return f"{self.when} | {part('CoreShowChannel', self.core, CORE_FIELDS)} | " + part(
            "Status", self.status, STATUS_FIELDS)


class ChannelWatch:
    def __init__(self, port: int, numbers: set[str]) -> None:
        self.numbers = numbers
        self.snapshots: dict[str, list[Snapshot]] = {n: [] for n in numbers}  # caller number -> in order
        self._callers: dict[str, str] = {}  # caller channel -> number
        self._running: dict[str, str] = {}  # caller channel -> AGI command running
        self._asked: dict[str, tuple[str, Snapshot]] = {}  # ActionID -> (channel, snapshot)
        self._n = 0
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self._send([("Action", "Login"), ("ActionID", "watch-login"), ("Username", AMI_USER),
                    ("Secret", AMI_SECRET), ("Events", "on")])
        self.sock.settimeout(None)
        self._thread = threading.Thread(target=self._run, name="channel-watch", daemon=True)
        self._thread.start()

    def _send(self, fields: list[tuple[str, str]]) -> None:
        self.sock.sendall("".join(f"{k}: {v}\r\n" for k, v in fields).encode() + b"\r\n")

    def _ask(self, chan: str, when: str) -> None:
        self._n += 1
        snap = Snapshot(when, pending={f"cs-{self._n}", f"st-{self._n}"})
        self.snapshots[self._callers[chan]].append(snap)
        self._asked |= {f"cs-{self._n}": (chan, snap), f"st-{self._n}": (chan, snap)}
        self._send([("Action", "CoreShowChannels"), ("ActionID", f"cs-{self._n}")])
        self._send([("Action", "Status"), ("ActionID", f"st-{self._n}"), ("Channel", chan)])

    def _run(self) -> None:
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            *frames, buf = buf.split(b"\r\n\r\n")
            for raw in frames:
                f: dict[str, str] = {}
                for line in raw.decode("utf-8", "replace").split("\r\n"):
                    key, sep, value = line.partition(": ")
                    if sep and key not in f:
                        f[key] = value
                self._frame(f)

    def _frame(self, f: dict[str, str]) -> None:
        event, chan = f.get("Event", ""), f.get("Channel", "")
        aid = f.get("ActionID", "")
        if aid in self._asked:
            own, snap = self._asked[aid]
            if event == "CoreShowChannel" and chan == own:
                snap.core = f
            elif event == "Status" and chan == own:
                snap.status = f
            elif event.endswith("Complete") or f.get("Response") == "Error":
                snap.pending.discard(aid)
            return
        if event == "AsyncAGIStart" and f.get("CallerIDNum") in self.numbers:
            self._callers[chan] = f["CallerIDNum"]
        if chan not in self._callers:
            return
        if event == "AGIExecStart":
            self._running[chan] = f.get("Command", "")
        elif event == "AsyncAGIExec":
            command = self._running.pop(chan, "")
            # Not after ANSWER: the service sends EXEC MixMonitor at once, and which of that and
            # the list action Asterisk serves first varies from call to call.
            if command.startswith("EXEC "):
                self._ask(chan, "after " + " ".join(command.split()[:2]))
        elif event in ("DialBegin", "BridgeEnter") and self._running.get(chan, "").startswith("EXEC "):
            when = ("ringing " if event == "DialBegin" else "bridged by ") + " ".join(self._running[chan].split()[:2])
            # Once per app: a real ringall Queue sends one DialBegin per free member.
            if when not in self.whens(self._callers[chan]):
                self._ask(chan, when)

    def whens(self, number: str) -> list[str]:
        return [s.when for s in self.snapshots[number]]

    def rows(self, number: str) -> list[str]:
        return [s.row() for s in self.snapshots[number]]

    def unanswered(self) -> list[str]:
        return [s.when for snaps in self.snapshots.values() for s in snaps if s.pending]

    def close(self) -> None:
        try:
            self._send([("Action", "Logoff"), ("ActionID", "watch-logoff")])
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(5)
