"""What AMI lists for a caller in Async AGI after each EXEC'd application, real Asterisk 20 vs simulator (issue 10).

The service EXECs ``MixMonitor`` at the start of every call, then ``Dial`` (extension route)
or ``Queue`` (queue route); everything else it sends is an AGI command (STREAM FILE, GET
DATA...), not an application. Two calls run on both sides, each agent hanging up first so
the caller is back in Async AGI after the app returned. Right after each ``EXEC`` returned,
and while the app rings an agent and bridges the caller, ``ChannelWatch`` asks
``CoreShowChannels`` and ``Status`` on the same PBX; the rows (what the service reads:
Application, ApplicationData, BridgeId...) must agree, in order. The known real fact
(../shared/asterisk-traces, after-kill): CoreShowChannel keeps naming the last EXEC'd app
(``MixMonitor``) while the channel waits in AGI; Status names what runs now.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from conftest import ROOT, SHARED
from pbx_batch import PHASES, Lab, Service
from pbx_coreshow import ChannelWatch
from pbx_twin import SimSide, TwinCall, run_real

pytestmark = pytest.mark.pbx

# The snapshots each call must give: the apps the service EXECs on that route.
WHENS = {
    "dial": ["after EXEC MixMonitor", "ringing EXEC Dial", "bridged by EXEC Dial", "after EXEC Dial"],
    "queue": ["after EXEC MixMonitor", "ringing EXEC Queue", "bridged by EXEC Queue", "after EXEC Queue"],
}
CALLS = [
    # 2: Dial agent1002 (aftersales), answered after 1.5 s; the agent hangs up 4 s later.
    TwinCall("dial", "5550311", presses=(("2", 13.0),), answers={"agent1002": (1.5, 4.0)}),
    # 3: Queue complaints, agent1001 answers after 2 s and hangs up 4 s later.
    TwinCall("queue", "5550312", presses=(("3", 13.0),), answers={"agent1001": (2.0, 4.0)}),
]


@dataclass
class Rows:
    real: dict[str, list[str]]  # call name -> snapshot rows
    sim: dict[str, list[str]]
    whens: dict[str, list[list[str]]]  # call name -> each side's snapshot labels
    unanswered: list[str]
    sipp: dict[str, int]


@pytest.fixture(scope="module")
def rows(lab: Lab, service: Service) -> Iterator[Rows]:
    t0 = time.monotonic()
    numbers = {c.number for c in CALLS}
    real_watch = ChannelWatch(lab.asterisk.ports.ami, numbers)
    sim = SimSide(ROOT / "config.yaml", lab.folder / "coreshow-sim", service.sounds)
    sim_watch = ChannelWatch(sim.sim.port, numbers)
    try:
        with ThreadPoolExecutor(1) as pool:
            real_run = pool.submit(run_real, lab, service.serve, CALLS, lab.folder / "coreshow-sipp",
                                   SHARED / "asterisk20" / "mkpcap.py")
            sim.serve.wait_ready()
            placed = sim.place(CALLS)
            sipp = real_run.result(120)
        placed.result(60)
        sim.side.wait_ended([c.number for c in CALLS])
        time.sleep(0.5)  # the last list answers
    finally:
        real_watch.close()
        sim_watch.close()
        sim.close()
    PHASES["CoreShowChannels after EXEC: both sides' calls"] = time.monotonic() - t0
    # Evidence beside ami.log: every snapshot of both sides.
    (lab.folder / "coreshow.txt").write_text("".join(
        f"{side} {c.name}: {r}\n" for side, w in (("real", real_watch), ("simulator", sim_watch))
        for c in CALLS for r in w.rows(c.number)))
    yield Rows({c.name: real_watch.rows(c.number) for c in CALLS}, {c.name: sim_watch.rows(c.number) for c in CALLS},
               {c.name: [w.whens(c.number) for w in (real_watch, sim_watch)] for c in CALLS},
               real_watch.unanswered() + sim_watch.unanswered(), sipp)


def test_every_party_played_its_part(rows: Rows) -> None:
    assert all(rc == 0 for rc in rows.sipp.values()), f"SIPp exit statuses {rows.sipp}"
    assert not rows.unanswered, f"list actions never completed: {rows.unanswered}"
    for call, expected in WHENS.items():
        for side, got in zip(("real", "simulator"), rows.whens[call], strict=True):
            assert got == expected, f"{call} ({side}): snapshots taken {got}, expected {expected}"


@pytest.mark.parametrize("call", [c.name for c in CALLS])
def test_channel_lists_match_after_each_exec(rows: Rows, call: str) -> None:
    real, sim = rows.real[call], rows.sim[call]
    assert real == sim, f"{call}: CoreShowChannels/Status differ from the real Asterisk 20\n" + "\n".join(
        difflib.unified_diff(real, sim, "real", "simulator", lineterm=""))


@pytest.mark.parametrize("call", [c.name for c in CALLS])
def test_the_last_execd_app_stays_listed_while_in_agi(rows: Rows, call: str) -> None:
    """The real fact the service's adoption depends on, seen on both sides: after EXEC X returned
    CoreShowChannel still names X, while Status names AGI (what runs now)."""
    for side in (rows.real[call], rows.sim[call]):
        after = [r for r in side if r.startswith("after EXEC ")]
        assert after, f"{call}: no snapshot after an EXEC\n" + "\n".join(side)
        for r in after:
            app = r.split()[2]
            assert f"CoreShowChannel: Application={app!r}" in r, r
            assert "Status: Application='AGI'" in r, r
