"""The opening and closing lines checked against the audio: separation and cost of transcribe/lines.py.

    .venv/bin/hotline qa eval-calls app/qa_eval_calls.yaml --json --workdir /tmp/ev   # the calls, once
    .venv/bin/python bench/verify_lines.py --workdir /tmp/ev [--script app/qa_eval_calls.yaml]

Material: the scripted calls of a finished ``qa eval-calls --workdir`` run (the simulator's real
MixMonitor-style tracks of espeak-ng speech, the IVR timeline the service recorded). Each call
is transcribed again here (both tracks, the shipped options and plan) and its lines checked, so
the cost is measured in this process, against the ASR of the same call in the same run.

What is said where: an opening part is said when the script's agent says it in its first
line within the opening rule's window (the company name; one of the offer phrases). Every scripted agent closes, so the
closing's "not said" side is a control window: the 8 s of agent speech before the closing
window. A part the transcript already holds word for word is not scored ("text"). Printed: pmi per
part and call, the lowest said and highest not-said per part (the
margin the bars in transcribe/lines.py sit in), the decisions at those bars, and the cost.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

import yaml  # noqa: E402

from db import transaction  # noqa: E402
from ivr.tables import Call  # noqa: E402
from ivr.timeline import call_timeline  # noqa: E402
from settings import load_config  # noqa: E402
from transcribe.engine import Transcriber  # noqa: E402
from transcribe.lines import BARS, CLOSING_S, check_lines, closing_phrases, text_in  # noqa: E402
from transcribe.runner import agent_plan, call_tracks, transcribe_tracks  # noqa: E402
from transcribe.verify import SAMPLE_RATE, PhraseScorer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, required=True, help="the --workdir of a finished qa eval-calls run")
    ap.add_argument("--script", type=Path, default=ROOT / "app" / "qa_eval_calls.yaml")
    ap.add_argument("--limit", type=int, default=None, help="only the first N calls (quicker)")
    args = ap.parse_args()
    config = load_config(args.workdir / "config.yaml")
    scripted = yaml.safe_load(args.script.read_text(encoding="utf-8"))["calls"]
    transcriber = Transcriber(options=None)
    scorer = PhraseScorer(transcriber.whisper)
    said: dict[str, list[float]] = {"company": [], "offer": [], "closing": []}
    unsaid: dict[str, list[float]] = {"company": [], "offer": [], "closing": []}
    asr_cpu = lines_cpu = minutes = 0.0
    print(f"{'call':34s} {'company':>8s} {'offer':>8s} {'closing':>8s} {'control':>8s}")
    with transaction(config.database_url) as session:
        calls = session.query(Call).order_by(Call.id).limit(args.limit).all()
        for spec, call in zip(scripted, calls, strict=False):
            if call.agent_answered_at is None:
                continue
            tracks = call_tracks(session, config, call.id)
            plan = agent_plan(config, call_timeline(session, call), tracks)
            t0 = time.process_time()
            result = transcribe_tracks(transcriber, tracks, plan)
            t1 = time.process_time()
            agent = next(t.path for t in tracks if t.speaker == "agent")
            audio = transcriber.load_audio(agent)
            rows = check_lines(scorer, config, audio, result, plan)
            t2 = time.process_time()
            asr_cpu, lines_cpu, minutes = asr_cpu + t1 - t0, lines_cpu + t2 - t1, minutes + result.duration / 60
            # a part the transcript holds word for word is not scored (pmi None): shown as "text"
            pmi = {r["part"]: float(r["pmi"]) for r in rows if r["pmi"] is not None}
            by_text = {r["part"] for r in rows if r["pmi"] is None}
            control = _control(scorer, config, audio, rows, [s for s in result.segments if s.speaker == "agent"])
            heard = _opening_parts_said(config, spec)
            for part in ("company", "offer"):
                if part in pmi:
                    (said if heard[part] else unsaid)[part].append(pmi[part])
            if "closing" in pmi:
                said["closing"].append(pmi["closing"])
            if control is not None:
                unsaid["closing"].append(control)
            cells = [f"{pmi[p]:+8.2f}" if p in pmi else f"{'text' if p in by_text else '-':>8s}"
                     for p in ("company", "offer", "closing")]
            cells.append(f"{control:+8.2f}" if control is not None else f"{'-':>8s}")
            missing = ", ".join(p for p, ok in heard.items() if not ok)
            print(f"{spec['name'][:34]:34s} {' '.join(cells)}{f'   (not said: {missing})' if missing else ''}")
    print()
    for part in said:
        lo = min(said[part], default=float("nan"))
        hi = max(unsaid[part], default=float("nan"))
        missed = sum(v < BARS.said for v in said[part])
        false = sum(v >= BARS.said for v in unsaid[part])
        print(f"{part:8s} said {len(said[part]):2d}: lowest {lo:+.2f}, {missed} under the bar {BARS.said}; "
              f"not said {len(unsaid[part]):2d}: highest {hi:+.2f}, {false} over it")
    print(f"cost: lines {lines_cpu / minutes:.2f} CPU s per call minute, ASR of both tracks {asr_cpu / minutes:.2f}: "
          f"{lines_cpu / asr_cpu:.3f} of the ASR ({minutes:.1f} call minutes)")


def _opening_parts_said(config: Any, spec: dict[str, Any]) -> dict[str, bool]:
    """Which opening parts the script's agent says in its first line within the rule's window."""
    says = (spec.get("agent") or {}).get("says") or []
    first = says[0]["text"] if says and float(says[0]["at"]) <= config.qa.opening.within_s else ""
    return {"company": config.company in first, "offer": any(p in first for p in config.qa.opening.offer_phrases)}


def _control(scorer: PhraseScorer, config: Any, audio: Any, rows: list[dict[str, Any]], agent: list[Any]
             ) -> float | None:
    """The best closing phrase's pmi over the 8 s of agent audio before the closing window."""
    window = next(((float(r["start"]), float(r["end"])) for r in rows if r["part"] == "closing"), None)
    opening_end = max((float(r["end"]) for r in rows if r["check"] == "opening"), default=0.0)
    if window is None or window[0] - CLOSING_S < opening_end:
        return None
    lo, hi = window[0] - CLOSING_S, window[0]
    encoded = scorer.encode(audio[round(lo * SAMPLE_RATE): round(hi * SAMPLE_RATE)])
    return max(scorer.presence(encoded, text_in(agent, lo, hi), p)[0] for p in closing_phrases(config))


if __name__ == "__main__":
    main()
