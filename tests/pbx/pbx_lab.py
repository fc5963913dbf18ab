"""The lab's real Asterisk 20 (``../shared/asterisk20``): free ports, start, stop, CLI, AMI tap.

``start.sh DIR`` unpacks the build under DIR, writes its configuration with the ports it
is given, starts it and waits until it is fully booted; ``stop.sh DIR`` stops it. The
shared folder is read-only (in CI too): everything is written under DIR.

``AmiTap`` is a second AMI login that writes every byte Asterisk sends to a file, so a
failing test can show the events behind it (evidence for a bug report).
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import os
import random
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

RT_PRIORITY = 5  # SCHED_RR priority of the lab's real-time parts (Asterisk, SIPp): see boost()
PRIORITY = -10  # their nice value where real-time scheduling is not allowed
AMI_USER = "hotline"
AMI_SECRET = "hotline-secret"  # manager.conf in ../shared/asterisk20/conf


def shared_dir(repo_root: Path) -> Path:
    """The shared folder beside the repository (a read-only copy in CI)."""
    return repo_root.parent / "shared"


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_udp_block(count: int, low: int = 20000, high: int = 32000) -> int:
    """The first port of ``count`` consecutive free UDP ports, below the ephemeral range."""
    rng = random.Random(os.getpid())
    for _ in range(200):
        base = rng.randrange(low, high - count) & ~1
        if all(_udp_free(p) for p in range(base, base + count)):
            return base
    raise RuntimeError(f"no {count} consecutive free UDP ports in {low}-{high}")


@functools.cache
def realtime_allowed() -> bool:
    """Whether this process may start others under SCHED_RR (root, and no container rule against it)."""
    try:
        return subprocess.run(["chrt", "-r", str(RT_PRIORITY), "true"], capture_output=True).returncode == 0
    except OSError:  # no chrt
        return False


def boost(pid: int) -> None:
    """Every thread of ``pid`` to SCHED_RR (else nice -10); threads it starts later inherit it.

    Asterisk plays prompts, SIPp sends RTP, on the clock. On a 2-core machine busy with other
    work a starved Asterisk played a 9.8 s greeting in 12.5 s of wall time, and RTP sent in
    bursts made MixMonitor drop and insert frames in what it recorded. A PBX runs with real-
    time priority in production too (``asterisk -p``); both mostly sleep, so this takes
    little from the rest of the machine."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setscheduler(int(task.name), os.SCHED_RR, os.sched_param(RT_PRIORITY))
        except (PermissionError, ProcessLookupError, OSError):
            with contextlib.suppress(PermissionError, ProcessLookupError):
                os.setpriority(os.PRIO_PROCESS, int(task.name), PRIORITY)


def boosted(cmd: list[str]) -> list[str]:
    """``cmd`` run under SCHED_RR when allowed, else at nice -10 (``nice`` just warns if it may not)."""
    return ["chrt", "-r", str(RT_PRIORITY), *cmd] if realtime_allowed() else ["nice", "-n", str(PRIORITY), *cmd]


@dataclass(frozen=True)
class Ports:
    ami: int
    sip: int
    caller: int
    agent1001: int
    agent1002: int
    media: int  # SIPp media ports: media (callers), media+4, media+8 (agents)
    rtp_start: int
    rtp_end: int

    @classmethod
    def pick(cls) -> Ports:
        base = free_udp_block(16, 20000, 26000)
        rtp = free_udp_block(400, 26000, 32000)
        return cls(free_tcp_port(), base, base + 1, base + 2, base + 3, base + 4, rtp, rtp + 399)


@dataclass
class Asterisk:
    """A running lab Asterisk under ``folder``."""

    shared: Path
    folder: Path
    ports: Ports
    sounds: Path  # SOUNDS_CUSTOM: where the prompts go
    pid: int

    @classmethod
    def start(cls, shared: Path, folder: Path, ports: Ports) -> Asterisk:
        env = {**os.environ, "AMI_PORT": str(ports.ami), "SIP_PORT": str(ports.sip),
               "CALLER_PORT": str(ports.caller), "RTP_START": str(ports.rtp_start), "RTP_END": str(ports.rtp_end)}
        res = subprocess.run([str(shared / "asterisk20" / "start.sh"), str(folder)], env=env,
                             capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            log = folder / "log" / "stdout.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"start.sh failed ({res.returncode}): {res.stderr.strip()}\n{tail}")
        info = dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)
        boost(int(info["ASTERISK_PID"]))
        return cls(shared, folder, ports, Path(info["SOUNDS_CUSTOM"]), int(info["ASTERISK_PID"]))

    def cli(self, command: str) -> str:
        res = subprocess.run([str(self.shared / "asterisk20" / "cli.sh"), str(self.folder), command],
                             capture_output=True, text=True, timeout=30)
        return res.stdout + res.stderr

    def stop(self) -> None:
        subprocess.run([str(self.shared / "asterisk20" / "stop.sh"), str(self.folder)],
                       capture_output=True, timeout=60)

    def log_tail(self, chars: int = 3000) -> str:
        full = self.folder / "log" / "full"
        return full.read_text(errors="replace")[-chars:] if full.exists() else ""


class AmiTap:
    """Logs in to AMI and appends everything Asterisk sends to ``path`` until closed.

    Events carry no timestamp (``timestampevents`` is off), so the tap notes when each read
    ended (byte offset, monotonic seconds) and gives every frame the time it arrived."""

    def __init__(self, port: int, path: Path) -> None:
        self.path = path
        self.t0 = time.monotonic()
        self._ends: list[int] = []  # byte offset after each read
        self._times: list[float] = []  # seconds since the tap started, at that read
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(f"Action: Login\r\nActionID: tap-1\r\nUsername: {AMI_USER}\r\n"
                          f"Secret: {AMI_SECRET}\r\nEvents: on\r\n\r\n".encode())
        self.sock.settimeout(None)
        self._thread = threading.Thread(target=self._run, name="ami-tap", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        size = 0
        with open(self.path, "wb") as out:
            while True:
                try:
                    data = self.sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                out.write(data)
                out.flush()
                size += len(data)
                self._times.append(round(time.monotonic() - self.t0, 3))
                self._ends.append(size)

    def close(self) -> None:
        try:
            self.sock.sendall(b"Action: Logoff\r\nActionID: tap-2\r\n\r\n")
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(5)

    def events_for(self, uniqueid: str, names: tuple[str, ...] = ()) -> list[dict[str, str]]:
        """The frames that name ``uniqueid`` (as Uniqueid or Linkedid), optionally only some events;
        each with ``t``, when it arrived (seconds since the tap started)."""
        data = self.path.read_bytes()
        ends, times = list(self._ends), list(self._times)
        out = []
        pos = 0
        for raw in data.split(b"\r\n\r\n"):
            pos += len(raw) + 4
            frame = raw.decode("utf-8", "replace")
            i = bisect.bisect_left(ends, min(pos, len(data)))
            fields: dict[str, str] = {"t": f"{times[i]:.3f}" if i < len(times) else "?"}
            for line in frame.split("\r\n"):
                key, sep, value = line.partition(": ")
                if sep and key not in fields:
                    fields[key] = value
            if uniqueid in (fields.get("Uniqueid"), fields.get("Linkedid")) and (
                    not names or fields.get("Event") in names):
                out.append(fields)
        return out
