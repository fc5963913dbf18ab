"""The IVR service: one AMI link, one session per call, reconcile, hot config reload.

* Events: ``AsyncAGIStart`` starts a :class:`~ivr.session.CallSession` task; every
  other event a session cares about is handed to it synchronously, in stream order,
  by ``Uniqueid`` (the caller leg) or ``Linkedid`` (agent legs link to the caller).
  Events nobody tracks (RTCP, Cdr...) are dropped after one dict lookup; of VarSet only
  ANSWEREDTIME_MS is read (talk time of a call adopted mid-talk).
* Link loss: AmiClient reconnects with backoff. After every re-login the service
  lists the channels (``CoreShowChannels``) and reconciles:
  - a session whose channel is gone is closed as ``lost`` (ended_at = now; its
    recordings, if any, still go to transcription);
  - a session whose channel is still up goes on (see session.py for how a command
    caught by the loss is resumed);
  - a channel that no session drives (it arrived during the gap, or a previous ``serve``
    stopped or died) is probed with an AGI NOOP (ivr/adopt.py: CoreShowChannel's
    ``Application`` is the last app run, not a sign of Async AGI); one that waits in
    Async AGI is adopted where its row says it was, without a second greeting; call rows
    still ``active`` whose channel is gone are closed as ``lost``. The same runs at
    start-up and whenever this service takes the lease over (these steps and the lease
    loop are in ivr/reconcile.py).
* One driver per Asterisk (ivr/lease.py): only the lease holder drives calls. Another
  ``serve`` stays logged in as a standby and takes over, adopting the calls in
  progress, when the holder stops renewing for ``ivr.lease_ttl`` seconds. A holder
  that loses the lease (or cannot renew it in time) stops driving at once; its calls
  stay in Async AGI for the new holder.
* Hot reload: the config file is polled for a new mtime/size. A valid file replaces
  the config for calls that start from then on (prompts rendered first when espeak-ng
  is there); a call in progress keeps the snapshot it started with. An invalid file is
  one log line and the running config stays.
* Each call ends with one log line (``call ...``) and, through the call store, a
  closed row and a queued transcription job.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.adopt import AdoptedSession, Plan, Probe, RowState
from ivr.callstore import CallStore, OnRecordingsReady
from ivr.calltrack import EVENTS, CallFacts, CallInfo, Clock
from ivr.lease import Lease
from ivr.reconcile import Reconciler, lease_for
from ivr.reentry import ReenteredSession
from ivr.session import CallSession
from menus.prompts import prompt_status, render_prompts
from menus.versions import version_of_file
from pbx.agi import AsyncAgi
from pbx.ami import AmiClient
from pbx.protocol import Message
from recordings.redact import mask_number
from recordings.speech import tools_missing
from settings import Config, ConfigError, load_config

log = logging.getLogger("ivr.service")

RECENT_S = 120.0  # a finished call's Uniqueid is not adopted again for this long


@dataclass(frozen=True)
class CallSummary:
    """One finished call, as the service saw it (the demo and tests read these)."""

    uniqueid: str
    channel: str
    caller: str | None
    did: str | None
    path: str
    route: str | None
    agent: str | None
    hangup_by: str | None
    ring_s: float | None
    duration_s: float
    status: str
    error: str | None
    heard: tuple[str, ...]

    def line(self) -> str:
        parts = [f"call {self.uniqueid} {mask_number(self.caller) or '?'} -> {self.did or '?'}",
                 f"path [{self.path or '-'}]", f"route {self.route or '-'}"]
        if self.agent:
            ring = f" (rang {self.ring_s:.1f}s)" if self.ring_s is not None else ""
            parts.append(f"agent {self.agent}{ring}")
        parts.append(f"hung up by {self.hangup_by or '?'}")
        parts.append(f"{self.duration_s:.1f}s {self.status}")
        if self.error:
            parts.append(f"ERROR {self.error}")
        return "; ".join(parts)


def _render(config: Config) -> list[str]:
    """Render missing or stale prompts; one line per prompt that failed or is missing.

    Asterisk drops a caller whose STREAM FILE prompt cannot be opened (the command fails
    and Async AGI ends), so a missing greeting is worth an error line at start and reload.
    """
    if tools_missing():  # a host without espeak-ng: the prompts are managed elsewhere; just check
        return [f"prompt {p.name}: {p.file} is missing (callers would be dropped)"
                for p in prompt_status(config) if p.status == "missing"]
    return [f"prompt {p.name}: {p.detail}" for p in render_prompts(config) if p.status == "error"]


class IvrService(Reconciler):
    """Runs the hotline over one AMI login until stopped."""

    def __init__(
        self,
        config: Config,
        *,
        config_path: Path | None = None,
        store: CallStore | None = None,
        reload_interval: float = 1.0,
        render_prompts: bool = True,
        ami: AmiClient | None = None,
        on_call_end: Callable[[CallSummary], Any] | None = None,
        measure: bool = False,
        time_scale: float = 1.0,
        rx_clock: Callable[[], float] = time.monotonic,
        freeze_gc: bool = False,
        store_process: bool = False,
        on_recordings_ready: OnRecordingsReady | None = None,
        lease: Lease | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path if config_path is not None else config.source
        # The database writer in its own process keeps its CPU off this loop's GIL (serve, bench).
        self.store = store or CallStore(config.database_url, process=store_process,
                                        on_recordings_ready=on_recordings_ready)
        self.reload_interval = reload_interval
        self.render_prompts = render_prompts
        a = config.ami
        self.ami = ami or AmiClient(a.host, a.port, a.username, a.password, ping_interval=a.ping_interval,
                                    backoff_max=a.reconnect_max)
        self.agi = AsyncAgi(self.ami)
        self.ami.on_event(self._on_event)
        self.ami.on_disconnect(self._on_disconnect)
        self.ami.on_reconnect(self._on_reconnect)
        self.on_call_end = on_call_end
        self.sessions: dict[str, CallSession] = {}
        self.finished: deque[CallSummary] = deque(maxlen=10000)
        self.gaps: list[float] | None = [] if measure else None
        self.menu_version: int | None = None
        self.clock = Clock(time_scale)  # 1 on real Asterisk; the simulator's speed in the demo
        self._stopping = False
        self._rx_clock = rx_clock
        self._freeze_gc = freeze_gc
        self.reloads = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._recent: dict[str, float] = {}
        self._channels: dict[str, Message] = {}
        self._reconciled = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._watcher: asyncio.Task[None] | None = None
        self._config_sig: tuple[int, int] | None = None
        self.lease = lease or lease_for(config, self.store.url)
        self.active = False  # holds the lease: drives calls; otherwise a standby
        self._lease_task: asyncio.Task[None] | None = None
        self._entries: dict[str, int] = {}  # Uniqueid -> AsyncAGIStarts seen (a transfer back in)

    # ----- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        """Open the database, log in (AmiAuthError / AmiConnectionError propagate), reconcile."""
        await asyncio.to_thread(self.store.start)
        if self.config_path is not None:
            self._config_sig = self._signature()
            self.menu_version = await asyncio.to_thread(version_of_file, self.store.url, self.config_path)
        if self.render_prompts:
            for line in await asyncio.to_thread(_render, self.config):
                log.error("%s", line)
        # The lease first: a holder drives the AsyncAGIStarts that come right after the login.
        self.active = await self._lease_step()
        await self.ami.connect()
        if self.active:
            await self._promote(startup=True)
        else:
            log.warning("standby: the lease is held by another service; this one drives no call until it stops")
        self._lease_task = asyncio.create_task(self._lease_loop(), name="lease")
        if self._freeze_gc:
            # Everything loaded so far (modules, pinyin tables, SQLAlchemy metadata) lives as
            # long as the process; frozen, it is no longer walked by every full collection,
            # which at 500 calls took 100-300 ms of stalled event loop (bench/ivr_load.py).
            gc.collect()
            gc.freeze()
        if self.config_path is not None and self.reload_interval > 0:
            self._watcher = asyncio.create_task(self._watch_config())

    async def run_forever(self) -> None:
        """Until ``stop()``; raises AmiAuthError if Asterisk refuses a re-login."""
        await self.ami.run_forever()

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no call is in progress; False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def stop(self) -> None:
        """Stop: calls still in progress stay in Asterisk (the next start adopts them)."""
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
        if self._lease_task is not None:
            self._lease_task.cancel()
        await self._abandon_calls()
        await self.ami.close()
        try:  # a standby takes over at once instead of after the ttl
            await asyncio.to_thread(self.lease.release)
        except Exception as exc:
            log.warning("lease not released (a standby takes over after %.0fs): %s", self.lease.ttl, exc)
        await asyncio.to_thread(self.store.close)

    async def _abandon_calls(self) -> None:
        """Stop driving: the rows stay active and the channels in Async AGI for the next driver."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ----- events -------------------------------------------------------------------

    def _on_event(self, msg: Message) -> None:
        name = msg.name
        if name not in EVENTS:
            return
        if not self.active:
            return  # a standby: the lease holder drives every call
        if name == "AsyncAGIStart":
            info = CallInfo.from_start(msg)
            old = self.sessions.get(info.uniqueid)
            if old is not None and old.agi_ended.is_set():
                # Left Async AGI and came back (a transfer to the hotline) while its session
                # still waited for a Hangup that will not come: that session closes now.
                old.hung_up.set()
                del self.sessions[info.uniqueid]
            self._entries[info.uniqueid] = self._entries.get(info.uniqueid, 0) + 1
            self._start(info)
            return
        sessions = self.sessions
        session = sessions.get(msg.get("Uniqueid") or "") or sessions.get(msg.get("Linkedid") or "")
        if session is None:
            return
        try:
            session.on_event(msg)
        except Exception as exc:  # a bug in one call's bookkeeping must not touch the others
            log.error("call %s on %s: event %s not handled: %s: %s", session.uniqueid, session.channel,
                      name, type(exc).__name__, exc)

    def _start(self, info: CallInfo, *, adoption: tuple[Probe, Plan, RowState | None] | None = None) -> None:
        if not info.uniqueid or not info.channel or info.uniqueid in self.sessions:
            return
        kw: dict[str, Any] = {"menu_version": self.menu_version, "gaps": self.gaps, "clock": self.clock,
                              "rx_clock": self._rx_clock}
        session: CallSession
        if adoption is None:
            entry = self._entries.get(info.uniqueid, 1)
            if entry > 1:  # back in on the same channel: recordings of its own
                session = ReenteredSession(info, self.config, self.agi, self.store, self, entry=entry, **kw)
            else:
                session = CallSession(info, self.config, self.agi, self.store, self, **kw)
        else:
            found, plan, row = adoption
            session = AdoptedSession(info, self.config, self.agi, self.store, self, plan=plan,
                                     row=row, probe_=found, **kw)
        self.sessions[info.uniqueid] = session
        self._idle.clear()
        task = asyncio.get_running_loop().create_task(self._drive(session), name=f"call-{info.uniqueid}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drive(self, session: CallSession) -> None:
        try:
            facts = await session.run()
        except asyncio.CancelledError:  # stopped or demoted: the call goes on elsewhere
            self._forget(session)
            raise
        self._forget(session)
        self._recent[session.uniqueid] = time.monotonic()
        if len(self._recent) > 20000:
            self._prune_recent()
        summary = self._summary(session, facts)
        self.finished.append(summary)
        log.info("%s", summary.line())
        if self.on_call_end is not None:
            try:
                self.on_call_end(summary)
            except Exception as exc:
                log.error("on_call_end for %s failed: %s", session.uniqueid, exc)

    def _forget(self, session: CallSession) -> None:
        if self.sessions.get(session.uniqueid) is session:  # not a newer session of the same channel
            del self.sessions[session.uniqueid]
        if not self.sessions:
            self._idle.set()

    @staticmethod
    def _summary(s: CallSession, f: CallFacts) -> CallSummary:
        route = f"{f.route_action} {f.route_target}" if f.route_target else f.route_action
        return CallSummary(s.uniqueid, s.channel, s.info.caller_num, s.info.did, s.menu_path, route, f.agent,
                           f.hangup_by, f.ring_s, round(s.duration_s, 3), f.status, f.error, tuple(s.heard))

    def _prune_recent(self) -> None:
        cutoff = time.monotonic() - RECENT_S
        self._recent = {u: t for u, t in self._recent.items() if t > cutoff}
        self._entries = {u: n for u, n in self._entries.items() if u in self._recent or u in self.sessions}

    # ----- hot reload ---------------------------------------------------------------

    def _signature(self) -> tuple[int, int] | None:
        assert self.config_path is not None
        try:
            st = self.config_path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    async def _watch_config(self) -> None:
        while True:
            await asyncio.sleep(self.reload_interval)
            sig = self._signature()
            if sig is None or sig == self._config_sig:
                continue
            self._config_sig = sig
            await self.reload()

    async def reload(self) -> bool:
        """Read the config file again; True if the new config is now in use."""
        assert self.config_path is not None
        try:
            new = await asyncio.to_thread(load_config, self.config_path)
        except ConfigError as exc:
            log.error("config reload refused, the running config stays: %s", exc)
            return False
        if self.render_prompts:
            for line in await asyncio.to_thread(_render, new):
                log.error("config reload: %s", line)
        if new.ami != self.config.ami or new.database_url != self.config.database_url:
            log.warning("config reload: ami/database settings changed; they apply after a restart")
        self.menu_version = await asyncio.to_thread(version_of_file, self.store.url, self.config_path)
        self.config = new
        self.reloads += 1
        log.info("config reloaded from %s (menu version %s): %d menus; calls in progress keep theirs",
                 self.config_path, self.menu_version or "-", len(new.menus))
        return True


async def wait_for(pred: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    """Poll ``pred`` until true or ``timeout`` (tests and the demo)."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True


