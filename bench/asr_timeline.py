"""ASR time saved by decoding only the agent's stretches of the agent track (issue 11, part 1).

    .venv/bin/python bench/asr_timeline.py [--repeats 1] [--agent-after 8]

Places one call through the Asterisk simulator and the real IVR service: the caller
listens to the greeting and the main menu, presses 3 (the complaints queue), hears the
transfer prompt, waits in the queue until the agent answers (``--agent-after`` s), and
talks with the agent. Then both tracks of that call are transcribed twice with the same
loaded model, in the same run: the whole agent track (the baseline), and only the
agent's stretches from the IVR's timeline (the prompts added from their known text).
Prints the ASR seconds of each, their ratio to the call's length, and what was saved.
The simulator's queue is silent while the caller waits; a real Asterisk plays music on
hold there, which VAD partly takes for speech, so a real call saves more than this.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import select  # noqa: E402

import db  # noqa: E402
from app.demo import DemoEnv, demo_env, prompt_seconds  # noqa: E402
from ivr.tables import Call  # noqa: E402
from ivr.timeline import call_timeline  # noqa: E402
from pbx.simulator import Agent, CallScript, Press, Say  # noqa: E402
from recordings.store import recording_file  # noqa: E402
from recordings.tables import Recording  # noqa: E402
from transcribe.engine import Transcriber  # noqa: E402
from transcribe.runner import plan_from  # noqa: E402

AGENT_SAYS = (
    Say(0.5, "您好，这里是海尔斯科技，请问有什么可以帮您？"),
    Say(9.0, "好的，我马上为您查询，请稍等。"),
    Say(15.0, "您的订单已经发货了，感谢您的来电，再见。"),
)
CALLER_SAYS = (Say(5.0, "你好，我的订单还没有收到。"), Say(11.5, "好的，谢谢。"))


def place(work: Path, agent_after: float) -> tuple[Any, Any, float]:
    async def run() -> Any:
        async with demo_env(work, base_config=ROOT / "config.yaml", speed=20.0) as env:
            return await one_call(env, agent_after)

    return asyncio.run(run())


async def one_call(env: DemoEnv, agent_after: float) -> tuple[Any, Any, float]:
    s = prompt_seconds(env.config)
    press = s["greeting"] + s["menu-main"] + 0.5  # heard the whole menu, then chose
    script = CallScript("bench", presses=(Press(press, "3"),), says=CALLER_SAYS,
                        agent=Agent("SIP/agent1001", answer_after=agent_after, says=AGENT_SAYS))
    call = await env.call(script)
    with db.transaction(env.url) as session:
        row = session.scalars(select(Call).where(Call.uniqueid == call.uniqueid)).one()
        timeline = call_timeline(session, row)
        recs = {r.kind: recording_file(env.config, r.path)
                for r in session.scalars(select(Recording).where(Recording.call_id == row.id))}
    return timeline, recs, press


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--agent-after", type=float, default=8.0, help="queue ring time before the agent answers (s)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-timeline-"))
    timeline, recs, press = place(work, args.agent_after)
    assert timeline is not None, "the call recorded no timeline"
    plan = plan_from(timeline)
    print("timeline:", ", ".join(f"{s.kind}{'(' + s.name + ')' if s.name else ''} {s.start:.1f}-{s.end:.1f}"
                                 for s in timeline.stretches))
    engine = Transcriber()
    engine.transcribe_track(recs["caller"], "caller")  # warm-up: VAD model, first allocations
    rows = []
    for label, p in (("whole agent track", None), ("agent stretches only", plan)):
        times, result = [], None
        for _ in range(args.repeats):
            t = time.perf_counter()
            result = engine.transcribe_call(recs["caller"], recs["agent"], p)
            times.append(time.perf_counter() - t)
        assert result is not None
        agent_track = result.tracks[1]
        rows.append((label, statistics.median(times), result, agent_track))
    dur = rows[0][2].duration
    print(f"call {dur:.1f} s (menu key at {press:.1f} s, agent answered {timeline.of('agent')[0].start:.1f} s); "
          f"load average {os.getloadavg()[0]:.2f}; repeats {args.repeats} (median)")
    for label, wall, result, agent_track in rows:
        ivr = sum(s.speaker == "ivr" for s in result.segments)
        print(f"  {label:22s} ASR {wall:6.2f} s  RTF {wall / dur:.3f}  agent track: {agent_track.elapsed_s:6.2f} s, "
              f"VAD speech {agent_track.speech_detected_s:5.1f} s, skipped {agent_track.skipped_s:5.1f} s; "
              f"segments {len(result.segments)} ({ivr} ivr)")
    base, planned = rows[0][1], rows[1][1]
    print(f"saved: {base - planned:.2f} s of {base:.2f} s ({(base - planned) / base:.0%}) on this two-track call")
    for s in rows[1][2].segments:
        print(f"    {s.start:6.2f}-{s.end:6.2f} {s.speaker:6s} {s.text}")


if __name__ == "__main__":
    main()
