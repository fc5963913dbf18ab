"""Who spoke when on a real Asterisk 20 (issue 11, part 1): the IVR's timeline against the
``t()`` file MixMonitor wrote.

For the calls of the batch that reach an agent (a queue, a Dial after digits typed during
the greeting, a Dial the agent hangs up first): the timeline's stretches are in the
expected order, each prompt's own audio starts inside its ``ivr`` stretch, the agent's
words start inside the agent's spans, and no prompt audio lies in those spans (so neither
the transcriber nor QA can take a prompt for the agent).
"""

from __future__ import annotations

from typing import Any

import pytest
from pbx_batch import Batch
from pbx_checks import prompt
from pbx_media import find
from sqlalchemy import select

import db
from ivr.tables import Call
from ivr.timeline import Timeline, call_timeline
from recordings.audio import PHONE_RATE, read_pcm16
from transcribe.align import align_to_file

NAMES = ("queue", "typeahead", "agent_first")


def expected(detail: dict[str, Any]) -> list[str]:
    """What the caller heard, in order: a menu prompt only for a step not answered by a key typed ahead."""
    menus = [f"menu-{st['menu']}" for st in detail["steps"] if not st["typeahead"]]
    tail = ["goodbye"] if detail["hangup_by"] == "agent" else []
    return ["greeting", *menus, "transfer", "ringback", "agent", *tail]


def _timeline(batch: Batch, detail: dict[str, Any]) -> Timeline:
    with db.transaction(f"sqlite:///{batch.lab.folder / 'hotline.db'}") as s:
        call = s.scalars(select(Call).where(Call.uniqueid == detail["uniqueid"])).one()
        tl = call_timeline(s, call)
    assert tl is not None, f"no timeline recorded: {[e['kind'] for e in detail['events']]}"
    return tl


@pytest.mark.pbx
@pytest.mark.parametrize("name", NAMES)
def test_the_timeline_matches_what_the_caller_heard(batch: Batch, name: str) -> None:
    d = batch.detail(name)
    why = batch.context(name)
    tl = _timeline(batch, d)
    got = [s.name if s.kind == "ivr" else s.kind for s in tl.stretches]
    assert got == expected(d), f"{got}\n{why}"
    agent_wav = next(r["path"] for r in d["recordings"] if r["kind"] == "agent")
    track = read_pcm16(agent_wav)  # not pbx_checks.recordings: its length check fails under load, the point here
    seconds = track.size / PHONE_RATE
    raw = tl
    tl = align_to_file(raw, agent_wav, batch.service.sounds)  # what the transcriber uses
    print(f"\n{name}: shifts {[round(a.start - b.start, 2) for a, b in zip(tl.stretches, raw.stretches, strict=True)]}")
    spans = tl.agent_spans()
    for s in tl.of("ivr"):
        if s.end - s.start < 1.0:
            continue  # a menu cut short by a key at once: too little of it played to look for
        ref = prompt(batch.service.sounds, s.name or "", min(1.0, s.end - s.start - 0.05))  # its first second
        m = find(track, ref, s.start - 0.5, s.end)
        if not m.present:
            anywhere = find(track, ref, 0.0, seconds)
            stretches = [(x.kind, x.name, round(x.start, 2), round(x.end, 2)) for x in tl.stretches]
            raise AssertionError(f"{s.name} not heard in its stretch {s.start:.2f}-{s.end:.2f}; on the track at "
                                 f"{anywhere.at_s:.2f} ({anywhere.found}/{anywhere.voiced}); recording "
                                 f"{seconds:.1f} s; timeline {stretches}")
        assert s.start - 0.1 <= m.at_s <= s.end, f"{s.name} at {m.at_s:.2f}, stretch {s.start:.2f}-{s.end:.2f}"
        assert not any(a <= m.at_s < b for a, b in spans), f"{s.name} at {m.at_s:.2f} is in the agent spans {spans}"
    agent = batch.say["agent1002" if name == "agent_first" else "agent1001"].pcm
    answered = tl.of("agent")[0].start
    m = find(track, agent, answered - 1.0, answered + 2.0)
    assert m.present, f"the agent's words not near {answered + 0.5:.2f} s ({m.found}/{m.voiced} at {m.at_s:.2f})"
    at = m.at_s
    assert any(a <= at <= b for a, b in spans), f"the agent's words at {at:.2f} outside the agent spans {spans}"
