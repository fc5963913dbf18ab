"""Pausing a call's recording while card data is said (PCI practice), and the record of it on the call.

AMI ``MixMonitorMute`` (app_mixmonitor, Asterisk 1.8+) on the caller channel, the one MixMonitor
records, with ``Direction: both`` (read = from the caller, the ``r()`` track; write = to the
caller, the ``t()`` track) and ``State: 1`` / ``0``. MixMonitor goes on writing, silence while
muted, so the tracks keep their length and alignment. Asterisk answers ``Response: Success``,
or ``Error`` with ``No such channel`` / ``Cannot set mute flag`` (nothing records the channel).

Each pause and resume is a CallEvent (``recording_paused`` / ``recording_resumed``, data: who
and how) at the time Asterisk acknowledged it.
"""

from __future__ import annotations

from collections.abc import Iterable

from ivr.tables import CallEvent
from pbx.ami import AmiClient

RECORDING_PAUSED = "recording_paused"
RECORDING_RESUMED = "recording_resumed"


NOTHING_RECORDS = "Cannot set mute flag"  # Asterisk's answer when no MixMonitor runs on the channel


class PauseError(RuntimeError):
    """Asterisk refused to mute or unmute the recording; str() is one line, ``reason`` Asterisk's Message."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"MixMonitorMute refused: {reason}")
        self.reason = reason


async def mute_recording(ami: AmiClient, channel: str, on: bool) -> None:
    """Mute (``on``) or unmute both directions of what MixMonitor records on ``channel``."""
    reply = await ami.action("MixMonitorMute", Channel=channel, Direction="both", State="1" if on else "0")
    if (reply.get("Response") or "") != "Success":
        raise PauseError(reply.get("Message") or "no reason given")


def is_paused(events: Iterable[CallEvent]) -> bool:
    """Whether the latest pause/resume event of a call is a pause."""
    marks = sorted((e.at, e.id, e.kind) for e in events if e.kind in (RECORDING_PAUSED, RECORDING_RESUMED))
    return bool(marks) and marks[-1][2] == RECORDING_PAUSED
