"""What a simulated caller and agent do: frozen, validated dataclasses.

Times are call seconds (not wall seconds: the simulator's ``speed`` divides every wait,
but scripts, recordings and the durations Asterisk reports stay in call time).

- ``Press.at`` and ``CallScript.hangs_up_at`` count from the moment the call is
  answered, which is also when ``AsyncAGIStart`` is sent (the dialplan is
  ``Answer(), AGI(agi:async), Hangup()``, so the two are the same instant; with
  ``AsteriskSimulator(answer_first=False)`` the call is answered by AGI ANSWER, and
  they count from that).
- ``CallScript.says`` count from the agent answering; with ``agent=None`` they count
  from the call being answered. ``Agent.says`` and ``Agent.hangs_up_after`` count from
  the agent answering.
- ``hangs_up_at=None``: the caller stays until we hang up, except that once bridged
  to an agent it hangs up 2 s after the conversation's last line ends (2 s after the
  answer if nobody says anything). When the agent is scripted to hang up
  (``hangs_up_after``), the agent ends the conversation instead: the caller is back in
  the IVR (still in Async AGI) and stays until we hang up.
"""

from __future__ import annotations

from dataclasses import dataclass

DTMF_DIGITS = "0123456789*#ABCD"


def _check_time(where: str, value: float | None) -> None:
    if value is not None and (value != value or value < 0):  # NaN or negative
        raise ValueError(f"{where}: time must be >= 0 seconds, got {value!r}")


@dataclass(frozen=True)
class Say:
    """One line of speech, synthesized (espeak-ng via pinyin) for the recordings."""

    at: float
    text: str

    def __post_init__(self) -> None:
        _check_time("Say.at", self.at)
        if not self.text.strip():
            raise ValueError("Say.text: empty line")


@dataclass(frozen=True)
class Press:
    """One DTMF key: DTMFBegin at ``at``, DTMFEnd 200 ms later (RFC 2833, as SIPp sent them)."""

    at: float
    digit: str

    def __post_init__(self) -> None:
        _check_time("Press.at", self.at)
        if len(self.digit) != 1 or self.digit not in DTMF_DIGITS:
            raise ValueError(f"Press.digit: one of {DTMF_DIGITS!r} expected, got {self.digit!r}")


@dataclass(frozen=True)
class Agent:
    """The agent leg a Dial or Queue reaches. ``answer_after=None``: rings and never answers."""

    interface: str = "SIP/agent1001"
    answer_after: float | None = 2.0
    says: tuple[Say, ...] = ()
    hangs_up_after: float | None = None

    def __post_init__(self) -> None:
        tech, sep, peer = self.interface.partition("/")
        if not (tech and sep and peer) or "-" in peer:
            raise ValueError(f"Agent.interface: 'TECH/peer' expected (e.g. SIP/agent1001), got {self.interface!r}")
        _check_time("Agent.answer_after", self.answer_after)
        _check_time("Agent.hangs_up_after", self.hangs_up_after)
        object.__setattr__(self, "says", tuple(sorted(self.says, key=lambda s: s.at)))


@dataclass(frozen=True)
class CallScript:
    """One scripted inbound call to the hotline context."""

    name: str
    caller_num: str = "5551230001"
    caller_name: str = "Test Caller"
    exten: str = "400"
    presses: tuple[Press, ...] = ()
    says: tuple[Say, ...] = ()
    hangs_up_at: float | None = None
    agent: Agent | None = Agent()  # a frozen (immutable) default is safe to share
    # Other peers a Dial may ring, matched by interface (a Dial to an unlisted interface
    # reaches ``agent``); Queue rings only ``agent``, its one member.
    others: tuple[Agent, ...] = ()

    def agent_for(self, interface: str) -> Agent | None:
        """The agent a Dial to ``interface`` reaches: the one of ``others`` with that interface, else ``agent``."""
        return next((a for a in self.others if a.interface.lower() == interface.lower()), self.agent)

    def __post_init__(self) -> None:
        if not self.exten or any(c in self.exten for c in " \r\n/,"):
            raise ValueError(f"CallScript.exten: a dialplan extension expected, got {self.exten!r}")
        for field_name in ("caller_num", "caller_name", "name"):
            if any(c in getattr(self, field_name) for c in "\r\n"):
                raise ValueError(f"CallScript.{field_name}: line breaks are not allowed")
        _check_time("CallScript.hangs_up_at", self.hangs_up_at)
        if self.others and self.agent is None:
            raise ValueError("CallScript.others: needs an agent (the queue member and the default Dial peer)")
        object.__setattr__(self, "presses", tuple(sorted(self.presses, key=lambda p: p.at)))
        object.__setattr__(self, "others", tuple(self.others))
        object.__setattr__(self, "says", tuple(sorted(self.says, key=lambda s: s.at)))
