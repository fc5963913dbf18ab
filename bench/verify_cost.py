"""What checking a call against the audio costs, next to transcribing it (issue 11: within 0.20).

    .venv/bin/hotline qa eval-calls app/qa_eval_calls.yaml --json --workdir /tmp/ev   # the calls, once
    .venv/bin/python bench/verify_cost.py --workdir /tmp/ev [--limit N] [--asr-cache DIR]
        [--no-share] [--rules config.yaml] [--save rows.json] [--compare rows.json]

Material: the scripted calls of a finished ``qa eval-calls --workdir`` run (the simulator's
MixMonitor-style tracks of espeak-ng speech and the IVR timeline the service recorded). Each
call is transcribed again here, both tracks with the shipped options and plan (the baseline),
then verified as the worker does (transcribe/spotting.py: forbidden and vague phrases, then
the opening and closing lines). Both are CPU seconds of this process, so the ratio holds on a
shared machine; wall seconds are printed too, and the ASR's real-time factor per two-track
call (issue 11: at most 0.06). The verification's CPU is split into the encoder and the
decoder passes (PhraseScorer's counters), which says where a saving must come from.

A change meant to save CPU must not change what verification finds: ``--save`` writes the
rows of every call, ``--compare`` checks a later run's rows against them (same phrases and
parts, same verdict, confidence within 0.02). ``--asr-cache`` keeps each call's transcript and
its ASR CPU seconds, so a re-run scores the very same text (and spends no time on the ASR).
``--rules``: the QA rules of another config file (the shipped one, say) instead of the run's
own copy, so a rule change is measured on recordings made before it.

The worker verifies inside ``PhraseScorer.sharing``: a phrase candidate inside the opening's or the
closing's window (transcribe/lines.py ``shared_windows``) is scored on a cut of that window's
encoding, so the audio is encoded once for both checks. ``--no-share`` verifies without it, to
say what it saves (the figures below call it ``--share`` against none).

CPU seconds of one process grow with the load on the machine (the decoder's threads wait busily),
so an ASR cache's seconds hold only for the load it was made under: make it anew before quoting a
ratio. Measured 2026-12-02 (same cached transcripts throughout): dropping garbles that cannot be
accepted and the text after a phrase whose later tokens do not count cut decoder passes 693 -> 555
(all 32 calls) and 243 -> 203 (12 polite), rows identical. The ratio then read 0.233 against an ASR
cache made under heavy load (11.4 CPU s per call minute); remade on a quieter machine (7.2) it was
0.225, and ``--share`` made it 0.194 (back to back under a load of 5-6: 0.243, 0.249 -> 0.210,
0.219). On a cache made later (ASR 9.13 CPU s per call minute, real-time factor 0.215 wall),
``--share`` against none: all 32 calls 0.193 -> 0.166 of the ASR (1.76 -> 1.52 CPU s per call
minute), encoder passes 156 -> 98, decoder passes 586 -> 584; the 12 polite calls 0.160 -> 0.137,
encoder passes 64 -> 39; rows identical in each run. Then, on a fresh eval's calls and one ASR
cache (7.16 CPU s per call minute, real-time factor 0.119 CPU): sharing in the worker plus the
sound-alike checks read 0.261 of the ASR (102 encoder, 621 decoder passes); leaving two-syllable
candidates a syllable off out of the pre-filter (the verdict refuses them anyway) made it 0.180
(94, 410), 108 rows either way.
2026-12-02 on an Intel Xeon (the encoder 0.67 s for a 30 s window; the ASR now trims its windows and
costs 1.85-1.91 CPU s per call minute): verification 0.73 CPU s per call minute = 0.382 of the ASR
(encoder 0.37 in 100 passes, decoder 0.25 in 412, the rest 0.11); freezing the startup heap out of
the garbage collector as the workers do (faster-whisper's decode_audio runs a full collection per
file) made the rest 0.05: 0.65 = 0.353, rows identical. Tried and not kept: cutting windows from
the ASR's own encoder output instead of encoding them (91 of 100 windows): 0.42 = 0.219, but the
frames had heard 30 s of glued speech around them and the scores moved: the opening's offer fell
from a pmi of 2.4 to 1.3 on several calls and a true 不行 (heard 不见) was lost.
2026-12-04 (a machine whose encoder takes 1.36 s for a 30 s window): the share falls with the
call's length, as the opening's and closing's windows are encoded once a call. The 35 calls of
app/qa_eval_calls.yaml (1.15 min each): ASR 4.12 CPU s per call minute, verification 1.45 = 0.352;
bench/heldout/set9.yaml (1.1 min each): 4.51, 1.64 = 0.364; bench/long/calls.yaml (six calls of 2.45
min, 15 turns): 4.86, 1.01 = 0.207. Fitted to the two lengths, a call costs about 1.3 CPU s plus
0.47 a minute. Tried and not kept: cutting the line checks' windows to the VAD's speech in them
(encoder 0.76 -> 0.70 CPU s per call minute on the 35 calls) moved their pmi by -0.85 to +1.13 and
changed verdicts on both sides of the bars, which were set on whole windows.
Later the same day, bench/long/calls5.yaml (four calls of 4.3 min, 27 turns, fresh ASR): ASR 5.27 CPU s
per call minute (real-time factor 0.060 wall), verification 0.97 = 0.185 (encoder 0.56, 35 passes;
decoder 0.35, 119 passes): within 0.20 on calls of a call centre's length, above it on one-minute ones.
With a hit's second opinion reading its own (already encoded) window first, on an idle machine: those
calls 0.88 = 0.166 (34 encoder passes); app/qa_eval_calls.yaml with fresh ASR (4.13 CPU s per call
minute) 1.39 = 0.336 (encoder 0.73, 102 passes, was 110; decoder 0.59, 484 passes).
2026-12-04, session 20, on a machine with a fast encoder (ASR 1.58 CPU s per call minute, real-time factor
0.022 wall): the 35 calls read 0.37-0.42 of the ASR from run to run (0.58-0.66 CPU s per call minute).
Where it goes (one run, 22.9 CPU s over 40.2 call minutes): phrase candidates' windows 8.1 encoder s (69
passes, 605 s of audio, the opening's window among them when a candidate asks first) and 3.8 decoder s
(226 passes); the opening and closing checks 3.4 encoder s (32 passes) and 4.3 decoder s (284 passes,
100 of them priors over silence); second opinions 1.2. 33 of about 100 candidates were 你等着 over the
greeting 您好,这 (all refused, confidence 0.0). Skipping the line checks where the text rules
already accept the line (a syllable off: 13 of 35 openings) cut decoder passes 545 -> 491, rows' verdicts
unchanged. Tried and not kept: not searching garbles over a courtesy wording the text writes word for
word (您好): 55 fewer decoder passes, but a true 你找错部门了 written 您好,说不闻了 was lost.
2026-12-06, session 29, back to back on session 28's ASR cache of the 35 calls (2.50 CPU s per call
minute): session 28's code and rules read 0.436 and 0.432 of the ASR (119 encoder, 746 decoder passes),
session 29's 0.440 and 0.455 (123, 770). The passes bought: five more phrases searched by sound
(跟我们…没关系, 我…不清楚, 我…不太清楚, 不受理, 没法给您) found six breaches of held-out calls the ASR
had garbled (为我们没关系, 不受礼, 没差给您, 也不太先出…), and no polite call's row changed over seven
runs of recordings (bench/heldout/README.md). The same runs show the noise: one set of passes read
0.44-0.50 within an hour.
2026-12-06, session 30, back to back on the same cache: session 29's code and rules 0.463, session 30's 0.455 (123
encoder, 770 decoder passes both): nothing this session added a pass. Tried and not kept: one align call for several
texts on one window (the encoder output repeated over a batch of 4): 4 texts over a 6 s window cost 1.03 CPU s per 10
rounds against 0.99 one by one (12 s: 1.46 against 1.35), as a batch projects the window's frames for each text,
and padding moved a token's probability by up to 0.096.
2026-12-06, session 31, back to back on the same cache, twice: session 30's rules 0.460, 0.486 of the ASR (123
encoder, 770 decoder passes), session 31's 0.510, 0.527 (124, 810). The passes bought: 估计 searched by sound (35
decoder passes here), which found 7 vague breaches the ASR had garbled on 21 sets of recordings and moved no polite
call's row.
2026-12-06, session 32, on the same cache: 0.473 of the ASR before and 0.486 after searching the phrases with a gap with
their gap garbled (125 encoder, 817 decoder passes, from 124 and 810), which found 7 breaches on 24 sets of recordings.
On the fresh calls of set45 (ASR 3.61 CPU s per call minute, real-time factor 0.050 wall) verification read 0.407-0.444,
on set46 0.306.
2026-12-06, session 33, back to back on the same cache: 0.469 of the ASR before and 0.478 after searching
是不是记错了 by sound and trusting homophones before a phrase in an allowed wording (125 encoder passes, 817 -> 815
decoder passes). Over the recordings of 30 sets (app/qa_eval_calls.yaml, set25-set52) encoder passes went 1846 -> 1851
and decoder passes 15297 -> 15276. On the fresh calls of set49-set52 (ASR 3.3-3.9 CPU s per call minute) verification
read 0.31-0.43.
2026-12-06, session 34, on a fresh eval's calls and ASR cache (1.77 CPU s per call minute, under load): 0.452 of the ASR
before and 0.450 after 感谢您致电 joined the closing phrases and 什么不能/时候不能 the rivals of 我…不能
(114 encoder passes, decoder 772 -> 790), rows identical. On set49 and set54-58's fresh calls it read 0.31-0.48.
2026-12-06, session 35, on session 34's ASR cache (1.77 CPU s per call minute): 0.456 of the ASR before and 0.447
after a homophone of an allowed wording's added words was taken without the audio (114 encoder, 790 decoder passes
both: none of these calls has one), rows identical; on the fresh calls of set59-set62 (ASR 2.7-3.4 CPU s per call
minute, under load) 0.26-0.37.
2026-12-06, session 36, on session 34's ASR cache, under load: 0.456 of the ASR before and 0.475 after the wider margin
for allowed wordings two syllables longer and session 36's rules (114 encoder passes, decoder 790 -> 792); on a fresh
eval's calls (ASR 2.00 CPU s per call minute, under a CI run) 0.412 (108 encoder, 689 decoder passes); on the fresh
calls of set63-set66 and set63-65 run again (ASR 2.6-2.9 CPU s per call minute, under load) 0.34-0.44.
2026-12-07, session 37, back to back on session 36's fresh ASR cache of the 35 calls (2.00 CPU s per call minute):
0.411 of the ASR before; 0.384 with the decoder's median filter set to width 1 (the alignment it filters is never
read, and the token probabilities are the same to the last digit; decoder 0.38 -> 0.34 CPU s per call minute, 689
passes either way); 0.321 with garbles inside a stretch the text reads as the opening line left unscored (108 -> 94
encoder, 689 -> 594 decoder passes: 你等着 over 您好,这 and 估计 over 科技 had needed 14 windows of 8 s encoded in calls
whose opening the text held, so no line check shared them). Rows identical on these calls and on the recordings of
18 runs (app/qa_eval_calls.yaml, set49, set54-set66, set63-65 again), where passes fell less (encoder 1174 -> 1133,
decoder 9751 -> 9319): there the line checks dominate. On set65 they took 412 of 643 decoder passes (293 scoring, 119
priors), as each phrasing of the closing (16) and the offer (19) is tried where none is heard. On a fresh eval's calls
(ASR 1.89 CPU s per call minute, made under a CI run) session 36's code read 0.505 and 0.518 of the ASR (115 encoder,
777 decoder passes), this session's 0.405-0.438 (104, 696), rows identical: the same script's recordings differ by as
much (0.33 on session 36's). Tried and not kept: a part's phrasings in the order the text sounds like them (more
passes, 594 -> 639, and other phrasings named); skipping a place whose pmi could not beat the best so far, bounded by
the prior over silence (the bound never bit: the prior doubts any phrase over silence by several nats); a hit's second
readings cut from a window already encoded (none of these calls' hits lay in one).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import pickle
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from db import transaction  # noqa: E402
from ivr.tables import Call  # noqa: E402
from ivr.timeline import call_timeline  # noqa: E402
from settings import load_config  # noqa: E402
from transcribe.engine import Transcriber  # noqa: E402
from transcribe.runner import agent_plan, call_tracks, transcribe_tracks  # noqa: E402
from transcribe.spotting import prepare, scorer_for, spot_phrases  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, required=True, help="the --workdir of a finished qa eval-calls run")
    ap.add_argument("--limit", type=int, default=None, help="only the first N calls (quicker)")
    ap.add_argument("--asr-cache", type=Path, default=None, help="keep/reuse each call's transcript and ASR seconds")
    ap.add_argument("--save", type=Path, default=None, help="write every call's verification rows (JSON)")
    ap.add_argument("--no-share", action="store_true",
                    help="phrase candidates do not share the opening/closing windows' encoder passes")
    ap.add_argument("--rules", type=Path, default=None, help="take the QA rules from this config file")
    ap.add_argument("--compare", type=Path, default=None, help="check the rows against a --save of an earlier run")
    args = ap.parse_args()
    config = load_config(args.workdir / "config.yaml")
    if args.rules:
        config = config.model_copy(update={"qa": load_config(args.rules).qa})
    transcriber = Transcriber(options=None)
    scorer = scorer_for(transcriber)
    prepare(config)
    gc.freeze()  # as a worker does once loaded (transcribe/settings_map.py load_worker_transcriber)
    asr_cpu = asr_wall = verify_cpu = verify_wall = seconds = 0.0
    rows = 0
    saved: dict[str, list[dict[str, Any]]] = {}
    print(f"{'call':>5s} {'seconds':>8s} {'ASR cpu':>8s} {'verify cpu':>10s} {'ratio':>6s} {'rows':>5s}")
    with transaction(config.database_url) as session:
        calls = session.query(Call).order_by(Call.id).limit(args.limit).all()
        for call in calls:
            tracks = call_tracks(session, config, call.id)
            agent = next((t.path for t in tracks if t.speaker == "agent"), None)
            if agent is None or call.agent_answered_at is None:
                continue
            plan = agent_plan(config, call_timeline(session, call), tracks)
            cached = args.asr_cache / f"{call.id}.pickle" if args.asr_cache else None
            if cached is not None and cached.exists():
                result, asr_c, asr_w = pickle.loads(cached.read_bytes())
            else:
                c0, w0 = time.process_time(), time.perf_counter()
                result = transcribe_tracks(transcriber, tracks, plan)
                asr_c, asr_w = time.process_time() - c0, time.perf_counter() - w0
                if cached is not None:
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    cached.write_bytes(pickle.dumps((result, asr_c, asr_w)))
            c1, w1 = time.process_time(), time.perf_counter()
            found = spot_phrases(transcriber, config, agent, result, plan, share=not args.no_share)
            c2, w2 = time.process_time(), time.perf_counter()
            c0, w0 = c1 - asr_c, w1 - asr_w
            saved[str(call.id)] = found
            asr_cpu, asr_wall = asr_cpu + c1 - c0, asr_wall + w1 - w0
            verify_cpu, verify_wall = verify_cpu + c2 - c1, verify_wall + w2 - w1
            seconds += result.duration
            rows += len(found)
            print(f"{call.id:5d} {result.duration:8.1f} {c1 - c0:8.2f} {c2 - c1:10.2f} {_ratio(c2 - c1, c1 - c0):6.3f} "
                  f"{len(found):5d}")
    minutes = seconds / 60
    print()
    print(f"{minutes:.1f} call minutes, {rows} verification rows")
    print(f"ASR of both tracks: {asr_cpu / minutes:.2f} CPU s per call minute; real-time factor "
          f"{asr_wall / seconds:.3f} wall ({asr_cpu / seconds:.3f} CPU)")
    print(f"verification: {verify_cpu / minutes:.2f} CPU s per call minute = {_ratio(verify_cpu, asr_cpu):.3f} of the "
          f"ASR (wall {_ratio(verify_wall, asr_wall):.3f})")
    print(f"  encoder {scorer.encode_cpu / minutes:.2f} CPU s per call minute ({scorer.encodes} passes), decoder "
          f"{scorer.decode_cpu / minutes:.2f} ({scorer.decoder_passes} passes), the rest "
          f"{(verify_cpu - scorer.encode_cpu - scorer.decode_cpu) / minutes:.2f}")
    if args.save:
        args.save.write_text(json.dumps(saved, ensure_ascii=False, indent=1))
    if args.compare:
        differences = compare(json.loads(args.compare.read_text()), saved)
        print("\n".join(differences) or f"rows as in {args.compare}")
        sys.exit(1 if differences else 0)


def _ratio(part: float, whole: float) -> float:
    """part / whole; nan where an ASR cache kept no seconds (a cache written without timing)."""
    return part / whole if whole > 0 else math.nan


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    if "check" in row:
        return row["check"], row["part"]
    return row["phrase"], row["start"], row["segment_start"]


def compare(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]],
            tolerance: float = 0.02) -> list[str]:
    """What differs between two runs' rows, call by call: a row found in one only, another
    verdict (accepted / said), or a confidence more than ``tolerance`` apart."""
    out: list[str] = []
    for call in sorted(set(before) & set(after), key=int):
        old, new = ({_key(r): r for r in rows} for rows in (before[call], after[call]))
        for key in sorted(set(old) | set(new), key=str):
            a, b = old.get(key), new.get(key)
            if a is None or b is None:
                out.append(f"call {call}: {key} only {'after' if a is None else 'before'}: {a or b}")
            elif a.get("accepted", a.get("said")) != b.get("accepted", b.get("said")) or \
                    abs(a["confidence"] - b["confidence"]) > tolerance:
                out.append(f"call {call}: {key}: {a} -> {b}")
    return out


if __name__ == "__main__":
    main()
