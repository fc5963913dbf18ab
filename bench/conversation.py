"""What the conversation figures (qa/conversation.py) cost per call minute, next to the ASR's.

    .venv/bin/python bench/conversation.py [--seconds 60] [--repeats 200]

One synthesized two-track call (mu-law, DESIGN.md's voices) is transcribed once by the shipped
engine (Whisper base, the shipped options): that is the ASR's cost, measured in this run on this
machine. Its segments are then measured ``--repeats`` times, twice over:
- ``measure``: the pure figures and the rules on them (qa.conversation);
- ``stored``: what a QA scan adds, the same plus writing the call_metrics row to SQLite
  (qa.conversation_store.scan_conversation, flushed; the transaction is rolled back at the end).
The issue asks that this be negligible next to the ASR.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from audio_factory import CLEAN_CALLS, FLAGGED_CALLS, build_call, long_call  # noqa: E402
from qa_calls import add_call, config  # noqa: E402

import db  # noqa: E402
from qa.conversation import connected_spans, conversation_findings, measure  # noqa: E402
from qa.conversation_store import scan_conversation  # noqa: E402
from qa.rules import agent_part  # noqa: E402
from qa.scan import call_facts, utterances  # noqa: E402
from transcribe.engine import Transcriber  # noqa: E402
from transcribe.store import transcript_for_call  # noqa: E402


def median_s(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=200)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hotline-bench-conv-"))
    call = build_call(long_call(args.seconds, FLAGGED_CALLS + CLEAN_CALLS), work, "bench", mulaw=True,
                      min_duration=args.seconds)
    minutes = call.duration / 60
    load1, _, _ = os.getloadavg()
    print(f"call: {call.duration:.1f} s, {len(call.turns)} turns; cpus {os.cpu_count()}, load average {load1:.2f}")

    transcriber = Transcriber()
    t = time.perf_counter()
    result = transcriber.transcribe_call(call.caller, call.agent)
    asr_s = time.perf_counter() - t
    segments = [(s.speaker, s.start, s.end, s.text, [[w.start, w.end, w.word, w.probability] for w in s.words or ()])
                for s in result.segments]

    cfg = config()
    with db.sessions(f"sqlite:///{work}/bench.db")() as session:
        row = add_call(session, segments, agent_answer_s=0.3, menu_end_s=None)
        utts = utterances(transcript_for_call(session, row.id))
        facts = call_facts(session, row, transcript_for_call(session, row.id))
        _, agent = agent_part(cfg, utts, facts)
        caller = [u for u in utts if u.speaker == "caller"]
        min_overlap = cfg.qa.conversation.interruptions.min_overlap_s

        def pure() -> object:
            return conversation_findings(cfg, measure(agent, caller, connected_spans(facts, agent),
                                                      min_overlap_s=min_overlap))

        def stored() -> object:
            out = scan_conversation(session, cfg, row.id, utts, agent, facts)
            session.flush()
            return out

        pure_s = median_s(pure, args.repeats)
        stored_s = median_s(stored, args.repeats)
        conv = measure(agent, caller, connected_spans(facts, agent), min_overlap_s=min_overlap).as_dict()
        session.rollback()

    print(f"segments: {len(segments)} ({len(agent)} agent, {len(caller)} caller); figures: "
          f"talk agent {conv['agent_talk_s']} s caller {conv['caller_talk_s']} s, longest silence "
          f"{conv['longest_silence_s']} s, interruptions {conv['interruptions']}, agent {conv['agent_cpm']} chars/min")
    print(f"{'step':<34}{'per call':>12}{'per call minute':>18}{'share of ASR':>14}")
    for name, secs in (("ASR (Whisper base, both tracks)", asr_s), ("conversation: measure + rules", pure_s),
                       ("conversation: + call_metrics row", stored_s)):
        print(f"{name:<34}{secs * 1000:>10.2f}ms{secs / minutes * 1000:>16.2f}ms{secs / asr_s:>14.5%}")


if __name__ == "__main__":
    main()
