"""The IVR service's hold on Asterisk: the lease, link loss, and reconcile with adoption.

One driver per Asterisk (ivr/lease.py): `_lease_loop` renews the lease, takes it over when
the holder stops renewing (then reconciles, adopting the calls in progress) and lets go of
the calls when it is lost. After a re-login, at start-up and at a takeover `_reconcile` lists
the channels: sessions whose channel is gone close as ``lost``, stale ``active`` rows close,
and channels nobody drives are probed and adopted where their row says they were
(ivr/adopt.py). Kept out of service.py, which starts, drives and ends the calls; this is a
mixin of :class:`ivr.service.IvrService` and works on its state (declared below).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from typing import Any

from ivr.adopt import call_states, plan_for, probe
from ivr.callstore import CallStore, active_calls
from ivr.calltrack import CallInfo
from ivr.lease import Lease
from ivr.session import CallSession
from pbx.agi import AsyncAgi
from pbx.ami import AmiClient, AmiError
from pbx.protocol import Message
from settings import Config

# The service's logger: operators and tests read these lines under "ivr.service".
log = logging.getLogger("ivr.service")


class Reconciler:
    """Lease, link-loss and reconcile steps of the IVR service (mixed into IvrService)."""

    # What IvrService holds and these steps use.
    ami: AmiClient
    agi: AsyncAgi
    store: CallStore
    lease: Lease
    active: bool
    sessions: dict[str, CallSession]
    _stopping: bool
    _recent: dict[str, float]
    _channels: dict[str, Message]
    _reconciled: asyncio.Event

    def _start(self, info: CallInfo, *, adoption: Any = None) -> None:
        raise NotImplementedError

    async def _abandon_calls(self) -> None:
        raise NotImplementedError

    def _prune_recent(self) -> None:
        raise NotImplementedError

    # ----- the lease ------------------------------------------------------------------

    async def _lease_step(self) -> bool:
        try:
            return await asyncio.to_thread(self.lease.step)
        except Exception as exc:  # the database is away: a holder fences itself after lease.fence
            log.warning("lease %s: %s: %s", "renew" if self.lease.held else "check", type(exc).__name__, exc)
            return self.lease.held and not self.lease.fenced()

    async def _lease_loop(self) -> None:
        retry = False  # a takeover whose reconcile failed (database away): adopt on the next beat
        while True:
            await asyncio.sleep(self.lease.interval)
            try:
                held = await self._lease_step()
                if held and (retry or not self.active):
                    if not self.active:
                        log.warning("lease taken: this service drives calls from now on")
                    retry = False
                    try:
                        await self._promote(startup=False)
                    except AmiError as exc:  # the link is down: the reconnect reconciles
                        log.warning("takeover reconcile failed: %s", exc)
                    except Exception as exc:
                        log.error("takeover reconcile failed, retried in %.1fs: %s: %s", self.lease.interval,
                                  type(exc).__name__, exc)
                        retry = True
                elif not held and self.active:
                    await self._demote()
            except Exception as exc:  # the lease loop must outlive any error
                log.error("lease loop: %s: %s", type(exc).__name__, exc)

    async def _promote(self, *, startup: bool) -> None:
        self.active = True
        closing: Collection[str] = ()
        if not startup:  # the store took over at its start; now the journal of the service it replaces
            closing = await asyncio.to_thread(self.store.take_over_journals)
        await self._reconcile(startup=startup, closing=closing)

    async def _demote(self) -> None:
        log.error("lease lost: stopping %d call(s); the service that holds it adopts them", len(self.sessions))
        self.active = False
        self.lease.drop()
        await self._abandon_calls()

    # ----- link loss and reconcile --------------------------------------------------

    def _on_disconnect(self, reason: str) -> None:
        self._reconciled.clear()
        if self._stopping:
            return
        log.warning("AMI link lost (%s): %d call(s) in progress wait for it", reason, len(self.sessions))
        for session in list(self.sessions.values()):
            session.link_down()

    async def _on_reconnect(self) -> None:
        if not self.active:
            return
        try:
            await self._reconcile(startup=False)
        except AmiError as exc:  # the link dropped again: the next reconnect tries again
            log.warning("reconcile after reconnect failed: %s", exc)

    async def channel_after_reconnect(self, channel: str) -> Message | None:
        """For sessions whose command the link loss cut: wait for reconcile, then the channel or None."""
        await self._reconciled.wait()
        return self._channels.get(channel)

    async def _reconcile(self, *, startup: bool, closing: Collection[str] = ()) -> None:
        """``closing``: calls whose close a replayed journal op is writing (not lost, just late)."""
        items = await self.ami.action_list("CoreShowChannels")
        live = {m.get("Uniqueid") or "": m for m in items}
        self._channels = {m.get("Channel") or "": m for m in items}
        lost = [s for uid, s in self.sessions.items() if uid not in live]
        for session in lost:
            session.hung_up.set()  # its Hangup event fell into the gap: do not wait for it
        # Rows left active by an earlier process, and channels nobody drives.
        rows = await asyncio.to_thread(active_calls, self.store.url)
        closed = 0
        for _id, uid, _channel in rows:
            # _recent: a call that just ended here; its own close may still be on its way to the DB
            if uid not in live and uid not in self.sessions and uid not in self._recent and uid not in closing:
                self.store.close_call(uid, status="lost", error="channel gone while the service was away")
                closed += 1
        self._prune_recent()
        adopted = await self._adopt(live, rows)
        self._reconciled.set()
        log.info("%s: %d channel(s) up, %d call(s) in progress, %d lost, %d stale row(s) closed, %d adopted",
                 "start-up reconcile" if startup else "reconciled after reconnect", len(items),
                 len(self.sessions) - adopted, len(lost), closed, adopted)

    async def _adopt(self, live: dict[str, Message], rows: list[tuple[int, str, str]]) -> int:
        """Probe every channel nobody here drives; adopt those in Async AGI (ivr/adopt.py)."""
        todo = {uid: item for uid, item in live.items()
                if uid and uid not in self.sessions and uid not in self._recent and item.get("Channel")}
        if not todo:
            return 0
        probes = await asyncio.gather(*(probe(self.agi, item.get("Channel") or "") for item in todo.values()))
        found = {uid: p for uid, p in zip(todo, probes, strict=True) if p.state in ("idle", "busy")}
        states = await asyncio.to_thread(call_states, self.store.url, list(found))
        active_rows = {uid for _id, uid, _channel in rows}
        for uid, p in zip(todo, probes, strict=True):
            if p.state in ("idle", "busy"):
                continue
            if p.pending is not None:
                p.pending.cancel()
            if uid in active_rows:  # up, but not in Async AGI: nobody can drive it any more
                self.store.close_call(uid, status="lost", error=f"channel not in Async AGI at adoption: {p.reply}")
        adopted = 0
        for uid, p in found.items():
            if not self.active or uid in self.sessions:
                if p.pending is not None:
                    p.pending.cancel()
                continue
            item = todo[uid]
            self._start(CallInfo.from_channel(item), adoption=(p, plan_for(item, states.get(uid)), states.get(uid)))
            adopted += 1
        return adopted


def lease_for(config: Config, url: str) -> Lease:
    ivr = config.ivr
    ttl = getattr(ivr, "lease_ttl", 5.0)
    interval = getattr(ivr, "lease_interval", 1.0)
    if not 0 < interval < ttl:
        log.error("%s: ivr.lease_interval (%s) must be below ivr.lease_ttl (%s); using 1 and 5",
                  config.source or "config", interval, ttl)
        ttl, interval = 5.0, 1.0
    return Lease(url, ttl=ttl, interval=interval)
