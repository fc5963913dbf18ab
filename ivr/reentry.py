"""A caller back in the hotline on the same channel (a blind transfer to the hotline number).

The channel keeps its Uniqueid, so the call row is the same and the default recording
names (``<uniqueid>.wav``, ``-rx``, ``-tx``) would be the first entry's: MixMonitor
opens them without append and overwrites the first recording. Entry n >= 2 records to
``<uniqueid>-e<n>...`` instead.
"""

from __future__ import annotations

import logging
from typing import Any

from ivr.session import CallSession
from pbx import agi
from recordings import store as rec_store

log = logging.getLogger("ivr.reentry")


def entry_stem(uniqueid: str, entry: int) -> str:
    """The name recordings of this entry are made from (the Uniqueid itself for the first)."""
    return uniqueid if entry <= 1 else f"{uniqueid}-e{entry}"


class ReenteredSession(CallSession):
    """The normal flow, with recording files of its own."""

    def __init__(self, *args: Any, entry: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.entry = entry

    async def _start_recording(self) -> None:
        self._event("reentered", entry=self.entry)
        try:
            files = rec_store.tracks(self.config, entry_stem(self.uniqueid, self.entry))
            args = rec_store.mixmonitor_args(files)
        except ValueError as exc:
            self._event("recording_failed", error=str(exc))
            log.error("call %s on %s: not recorded: %s", self.uniqueid, self.channel, exc)
            return
        res = await self._cmd(agi.exec_("MixMonitor", args))
        if res.ok and not res.hungup:
            # The call store keeps one row per kind and call (recordings.tables): the rows of
            # this entry are refused there until that key includes the entry.
            self.store.add_recordings(self.uniqueid, files, at=self._now())
        else:
            self._event("recording_failed", result=res.raw.strip())
