"""Channel state and the field blocks Asterisk 20 puts in every channel event.

Layouts are copied from the real traces (tests/fixtures/asterisk): a channel event is
``Event``, ``Privilege`` and then the 14-field channel block in this order, then the
event's own fields; events about two channels (DialBegin, AgentCalled, ...) add the
same block with a ``Dest`` prefix. Bridge events start with the 7-field bridge block.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pbx.simulator.call import SimCall

Fields = list[tuple[str, str]]

STATE_DESC = {
    0: "Down", 1: "Rsrvd", 2: "OffHook", 3: "Dialing", 4: "Ring", 5: "Ringing", 6: "Up", 7: "Busy",
    8: "Dialing Offhook", 9: "Pre-ring",
}  # fmt: skip
DOWN, RING, RINGING, UP = 0, 4, 5, 6

# ast_cause2str() texts for the Q.850 causes a hotline meets.
CAUSE_TEXT = {
    0: "Unknown", 1: "Unallocated (unassigned) number", 16: "Normal Clearing", 17: "User busy",
    18: "No user responding", 19: "User alerting, no answer", 21: "Call Rejected",
    27: "Destination out of order", 31: "Normal, unspecified", 34: "Circuit/channel congestion",
    38: "Network out of order", 41: "Temporary failure", 127: "Interworking, unspecified",
}  # fmt: skip

UNKNOWN = "<unknown>"


def cause_text(cause: int) -> str:
    return CAUSE_TEXT.get(cause, "Unknown")


class Channel:
    """One Asterisk channel: what its events show and what AMI/AGI can ask about it."""

    def __init__(
        self,
        *,
        name: str,
        uniqueid: str,
        linkedid: str,
        caller_num: str,
        caller_name: str,
        context: str,
        exten: str,
        loop_time: float,
        dnid: str = "",
    ) -> None:
        self.name = name
        self.uniqueid = uniqueid
        self.linkedid = linkedid
        self.state = DOWN
        self.caller_num = caller_num or UNKNOWN
        self.caller_name = caller_name or UNKNOWN
        self.connected_num = UNKNOWN
        self.connected_name = UNKNOWN
        self.language = "en"
        self.accountcode = ""
        self.context = context
        self.exten = exten
        self.priority = 1
        self.dnid = dnid
        self.vars: dict[str, str] = {}
        self.created_wall = time.time()
        self.created_loop = loop_time
        # What the channel runs now (ast_channel_appl/data: AMI Status shows these) and what its
        # last published snapshot says (CoreShowChannel shows that). pbx_exec sets the first and
        # publishes; when the application returns it puts the caller's back WITHOUT publishing
        # (main/pbx_app.c), so the snapshot keeps naming the application that ran last (after
        # ``EXEC MixMonitor`` over Async AGI: MixMonitor, not AGI) until something else publishes.
        self.application = ""
        self.appdata = ""
        self.shown_app = ("", "")
        self.bridge_id = ""
        self.alive = True
        # None until the channel first enters Async AGI; Asterisk keeps the datastore
        # (and accepts queued commands) after AsyncAGI ends while the channel lives.
        self.agi_queue: deque[tuple[str, str]] | None = None
        self.call: SimCall | None = None  # the scripted call this channel belongs to
        self.is_agent = False

    def start_app(self, app: str, data: str) -> None:
        """pbx_exec starts ``app`` (or app_dial names an outgoing leg): set, and publish a snapshot."""
        self.application, self.appdata = app, data
        self.publish()

    def end_app(self, app: str, data: str) -> None:
        """pbx_exec restores the caller's application after ``app`` returned: no snapshot is published."""
        self.application, self.appdata = app, data

    def set_state(self, state: int) -> None:
        """ast_setstate: the new state, and a snapshot (Newstate comes from it)."""
        self.state = state
        self.publish()

    def publish(self) -> None:
        """ast_channel_publish_snapshot: the cached snapshot (CoreShowChannels) catches up with the channel.

        Asterisk publishes on a state change, a caller-ID or connected-line change, a bridge
        enter/leave and at the start of every application; the simulator calls this where the
        application shown can differ from the one running (state and caller-ID changes, app starts).
        """
        self.shown_app = (self.application, self.appdata)

    @property
    def tech(self) -> str:
        return self.name.split("/", 1)[0]

    def block(self, prefix: str = "") -> Fields:
        return [
            (prefix + "Channel", self.name),
            (prefix + "ChannelState", str(self.state)),
            (prefix + "ChannelStateDesc", STATE_DESC.get(self.state, "Unknown")),
            (prefix + "CallerIDNum", self.caller_num),
            (prefix + "CallerIDName", self.caller_name),
            (prefix + "ConnectedLineNum", self.connected_num),
            (prefix + "ConnectedLineName", self.connected_name),
            (prefix + "Language", self.language),
            (prefix + "AccountCode", self.accountcode),
            (prefix + "Context", self.context),
            (prefix + "Exten", self.exten),
            (prefix + "Priority", str(self.priority)),
            (prefix + "Uniqueid", self.uniqueid),
            (prefix + "Linkedid", self.linkedid),
        ]

    def event(self, name: str, privilege: str, *extra: tuple[str, str]) -> Fields:
        return [("Event", name), ("Privilege", privilege), *self.block(), *extra]

    def dest_event(self, name: str, privilege: str, dest: Channel, *extra: tuple[str, str]) -> Fields:
        return [("Event", name), ("Privilege", privilege), *self.block(), *dest.block("Dest"), *extra]


class Bridge:
    """A basic two-party bridge (Dial/Queue): what BridgeCreate/Enter/Leave/Destroy show."""

    def __init__(self, uniqueid: str) -> None:
        self.uniqueid = uniqueid
        self.technology = "simple_bridge"
        self.channels: list[Channel] = []

    def block(self) -> Fields:
        return [
            ("BridgeUniqueid", self.uniqueid),
            ("BridgeType", "basic"),
            ("BridgeTechnology", self.technology),
            ("BridgeCreator", UNKNOWN),
            ("BridgeName", UNKNOWN),
            ("BridgeNumChannels", str(len(self.channels))),
            ("BridgeVideoSourceMode", "none"),
        ]

    def event(self, name: str, channel: Channel | None = None) -> Fields:
        fields: Fields = [("Event", name), ("Privilege", "call,all"), *self.block()]
        if channel is not None:
            fields += channel.block()
        return fields
