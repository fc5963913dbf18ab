"""Forbidden phrases checked against the audio: recall, false hits and cost of transcribe.verify.

    .venv/bin/python bench/verify.py                    # 3 renderings (as bench/asr_accuracy.py)
    .venv/bin/python bench/verify.py --renderings 1     # quicker, rendering 0 only
    .venv/bin/python bench/verify.py --invented         # + hotword transcripts: false text hits to reject

Material: the calls of bench/asr_accuracy.py (tests/audio_factory.py: 12 agents who say 15
forbidden phrases, 6 who say none; rendered clean, then with inaudible line noise of other
seeds), mu-law round trip, agent track only, shipped AsrOptions. Per call a phrase counts
min(said, found); found beyond what was said is a false hit (on a clean agent, a false
accusation). The baseline is the same accounting on text matches of the free transcript,
measured in the same run on the same transcripts.

Each row adds one piece: text hits confirmed against the audio; garbles found with the
decoder's delta alone; the shipped evidence (delta + pmi, see transcribe/verify.py); the
clash rule off, to show what it does. Rows are decisions over ONE set of decoder scores, so
their cost is the same: the cost line is the shipped scorer (pre-filter, encoding, decoder
passes), in CPU seconds of this process (the machine is shared; wall time is printed too).

Thresholds are not tuned on all of this: the "held out" block picks the lowest evidence
bar that gives no false hit on one part (two renderings; or half the phrases) and shows
what that bar gives on the other part. The shipped bar should sit at or above those picks.

Measured here (`bench/verify.py --invented`, 2 shared cores, load 4.2 -> 2.7):
- text match 23/45 (0.51), 0 false; text hits confirmed 23/45 (none rejected);
  + garbles by delta alone 37/45, 1 false; + pmi in the evidence 38/45, 1 false (不行 in
  不满, evidence 5.95, pmi 0.38); shipped (pmi floor 0.5, bar 0 for 2-syllable garbles)
  37/45 = 0.82, x1.61 the baseline, 0 false on flagged and on clean agents; the clash rule
  changed nothing here (the negation check, before scoring, is not a row).
- cost: 1.53 CPU s of verification per call minute against 8.51 CPU s of agent-track ASR:
  0.18 of the ASR (0.19 wall); 119 encoder and 607 decoder passes for 54 tracks. Against
  both tracks' ASR it would be about half that.
- distributions: text hits said 0.80 .. 3.90 evidence; garbles said -9.98 .. 3.98 (median
  1.71); absent -13.86 .. -0.74 but one 5.95 (the pmi floor stops it). pmi over the bar:
  said 0.85 .. 7.80, absent 0.38.
- held out: bars picked on two renderings were -1.24, -1.68, -1.24 (held-out rendering:
  10/15, 13/15 with 1 false, 14/15), on half the phrases -1.24 and -3.90 (the other half:
  14/21, 23/24 with 2 false). Shipped -0.5 sits above every pick.
- hotword transcripts: text match 35/45 with 3 false hits (invented 这不是我的错 twice, a
  repeated 这不是我们的责任); confirmed 34/45 with 0 false.
- missed: the 2 phrases of an agent track that came out empty, 你找错部门了 where Whisper
  repeated the greeting instead, 不行 written as fluent words (不限价格, 不能; 不见 is under
  the 2-syllable bar), 我们非常忙 as 我们可以长. Speech without text cannot be spotted
  this way.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402
from audio_factory import AGENT_VOICE, CALLER_VOICE, CLEAN_CALLS, FLAGGED_CALLS, FORBIDDEN_PHRASES, build_call  # noqa: E402

from transcribe.engine import Transcriber  # noqa: E402
from transcribe.normalize import canonical  # noqa: E402
from transcribe.options import AsrOptions  # noqa: E402
from transcribe.verdict import VerifyOptions, judge  # noqa: E402
from transcribe.verify import PhraseScorer, Spotted, resolve  # noqa: E402


@dataclass
class Track:
    name: str
    kind: str  # flagged | clean
    rendering: int
    truth: Counter[str]
    text: str  # free transcript (shipped options)
    seconds: float  # call length
    scored: list[Spotted]
    turns: list[tuple[float, float, str]]  # the agent's (start, end, text)
    invented_text: str = ""
    invented_scored: list[Spotted] = field(default_factory=list)


def count(text: str, phrases: Sequence[str]) -> Counter[str]:
    norm = canonical(text)
    return Counter({p: norm.count(canonical(p)) for p in phrases})


def tally(
    tracks: Sequence[Track], got: Callable[[Track], Counter[str]], phrases: Sequence[str]
) -> tuple[int, int, int, int]:
    """(found, expected, false hits on flagged agents, false hits on clean agents)."""
    found = expected = false_flagged = false_clean = 0
    for t in tracks:
        g = got(t)
        for p in phrases:
            expected += t.truth[p]
            found += min(t.truth[p], g[p])
            extra = max(0, g[p] - t.truth[p])
            if t.kind == "clean":
                false_clean += extra
            else:
                false_flagged += extra
    return found, expected, false_flagged, false_clean


def verified(scored: Sequence[Spotted], options: VerifyOptions, clash: bool = True) -> Counter[str]:
    judged = [Spotted(s.phrase, s.segment, s.start, s.end, judge(s.score, options)) for s in scored]
    kept = resolve(judged) if clash else [s for s in judged if s.score.accepted]
    return Counter(s.phrase for s in kept)


def label(track: Track, sp: Spotted) -> str:
    """'said' when an agent turn overlapping the segment holds the phrase, 'absent' when the
    agent never says it in the call, '' otherwise (said elsewhere in the call)."""
    if track.truth[sp.phrase] == 0:
        return "absent"
    near = "".join(text for a, b, text in track.turns if a < sp.end + 0.5 and b > sp.start - 0.5)
    return "said" if canonical(sp.phrase) in canonical(near) else ""


def pick_bar(tracks: Sequence[Track], phrases: Sequence[str], base: VerifyOptions) -> float:
    """The lowest min_evidence (other knobs as shipped) with no false hit on ``tracks``."""
    values = sorted({round(s.score.evidence, 2) for t in tracks for s in t.scored})
    best = 1.0
    for bar in reversed([v for v in values if -4.0 <= v <= 1.0]):
        o = base.with_(min_evidence=bar)
        _, _, ff, fc = tally(tracks, lambda t, o=o: verified(t.scored, o), phrases)
        if ff + fc:
            break
        best = bar
    return best


def quantiles(values: Sequence[float]) -> str:
    if not values:
        return "-"
    q = np.quantile(np.asarray(values), [0.0, 0.1, 0.5, 0.9, 1.0])
    return f"n={len(values):3d} min {q[0]:6.2f}  p10 {q[1]:6.2f}  median {q[2]:6.2f}  p90 {q[3]:6.2f}  max {q[4]:6.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--renderings", type=int, default=3, help="renderings of every call (1 clean + noise seeds)")
    ap.add_argument("--invented", action="store_true",
                    help="also transcribe with hotwords (which invent phrases) and verify those text hits")
    ap.add_argument("--calls", type=int, help="only the first N scripts of each kind (a smoke run)")
    ap.add_argument("--work", type=Path, help="where to write the audio (default: a temp dir)")
    args = ap.parse_args()
    phrases = FORBIDDEN_PHRASES
    shipped = VerifyOptions()
    work = args.work or Path(tempfile.mkdtemp(prefix="hotline-verify-"))
    load_start = os.getloadavg()

    tr = Transcriber()
    scorer = PhraseScorer(tr._model, shipped)  # the transcriber's loaded model, not a second copy
    inventor = tr.with_options(AsrOptions().with_(hotwords="，".join(phrases))) if args.invented else None
    voices = {"caller": CALLER_VOICE, "agent": AGENT_VOICE}
    tracks: list[Track] = []
    asr_cpu = asr_wall = ver_cpu = ver_wall = 0.0
    for seed in range(args.renderings):
        noise_kw = {"line_noise_dbfs": -55.0, "seed": seed} if seed else {}
        for kind, scripts in (("flagged", FLAGGED_CALLS), ("clean", CLEAN_CALLS)):
            for i, script in enumerate(scripts[: args.calls]):
                call = build_call(script, work, f"{kind}{i:02d}-r{seed}", mulaw=True, voices=voices, **noise_kw)
                c0, w0 = time.process_time(), time.perf_counter()
                result = tr.transcribe_track(call.agent, "agent")
                c1, w1 = time.process_time(), time.perf_counter()
                audio = tr.load_audio(call.agent)
                scored = scorer.score_segments(audio, result.segments, phrases)
                c2, w2 = time.process_time(), time.perf_counter()
                asr_cpu += c1 - c0
                asr_wall += w1 - w0
                ver_cpu += c2 - c1
                ver_wall += w2 - w1
                turns = [(t.start, t.end, t.text) for t in call.turns if t.speaker == "agent"]
                track = Track(f"{kind}{i:02d}-r{seed}", kind, seed, count(call.text_of("agent"), phrases),
                              result.text, call.duration, scored, turns)  # fmt: skip
                if inventor is not None:
                    hot = inventor.transcribe_track(call.agent, "agent")
                    track.invented_text = hot.text
                    track.invented_scored = scorer.score_segments(audio, hot.segments, phrases)
                tracks.append(track)
                print(f"  {track.name}: {result.text}", flush=True)
    load_end = os.getloadavg()
    minutes = sum(t.seconds for t in tracks) / 60

    n_flag = sum(t.kind == "flagged" for t in tracks)
    print(f"\n{n_flag} agent tracks with forbidden phrases, {len(tracks) - n_flag} without "
          f"({len(FLAGGED_CALLS)} + {len(CLEAN_CALLS)} scripts x {args.renderings} renderings), "
          f"{minutes:.1f} call minutes; phrases: {', '.join(phrases)}")
    loose = shipped.with_(min_pmi=-99.0, short_min_evidence=shipped.min_evidence)
    rows: list[tuple[str, Callable[[Track], Counter[str]]]] = [
        ("text match (baseline)", lambda t: count(t.text, phrases)),
        ("+ text hits confirmed", lambda t: verified([s for s in t.scored if s.score.exact], shipped)),
        ("+ garbles by delta alone", lambda t: verified(t.scored, loose.with_(pmi_weight=0.0))),
        ("+ pmi in the evidence", lambda t: verified(t.scored, loose)),
        ("+ pmi floor, short bar (shipped)", lambda t: verified(t.scored, shipped)),
        ("  shipped, clash rule off", lambda t: verified(t.scored, shipped, clash=False)),
    ]
    base_found = tally(tracks, rows[0][1], phrases)[0]
    print(f"{'':32s} {'recall':>9s} {'rate':>5s} {'x base':>6s} {'false(flagged)':>14s} {'false(clean)':>12s}")
    for name, got in rows:
        found, expected, ff, fc = tally(tracks, got, phrases)
        ratio = found / base_found if base_found else float("nan")
        print(f"{name:32s} {found:>4d}/{expected:<4d} {found / expected:5.2f} {ratio:6.2f} {ff:14d} {fc:12d}")

    print(f"\ncost: ASR {asr_cpu:.1f} CPU s ({asr_wall:.1f} s wall), verification {ver_cpu:.1f} CPU s "
          f"({ver_wall:.1f} s wall; {scorer.encodes} encoder and {scorer.decoder_passes} decoder passes) "
          f"for {minutes:.1f} call minutes")
    print(f"  per call minute: ASR {asr_cpu / minutes:.2f} CPU s, verification {ver_cpu / minutes:.2f} CPU s; "
          f"verification / ASR = {ver_cpu / asr_cpu:.2f} (CPU), {ver_wall / asr_wall:.2f} (wall)")
    print(f"  load average at start {load_start[0]:.1f}, at end {load_end[0]:.1f} (2 cores; the machine is shared)")

    print("\nevidence (delta + pmi_weight * pmi, nats per token) by what the agent said:")
    groups: dict[str, list[float]] = {"text hit, said": [], "garble, said": [], "garble, absent": [],
                                      "text hit, absent": []}  # fmt: skip
    for t in tracks:
        for s in t.scored:
            lab = label(t, s)
            if lab:
                key = f"{'text hit' if s.score.exact else 'garble'}, {lab}"
                groups[key].append(s.score.evidence)
    for key, values in groups.items():
        print(f"  {key:18s} {quantiles(values)}")
    top_absent = sorted(((s.score.evidence, s.phrase, s.score.heard, t.name) for t in tracks for s in t.scored
                         if label(t, s) == "absent"), reverse=True)[:6]  # fmt: skip
    print("  highest absent:", "; ".join(f"{e:.2f} {p} [{h}] {n}" for e, p, h, n in top_absent))
    said_missed = sorted((s.score.evidence, s.phrase, s.score.heard, t.name) for t in tracks for s in t.scored
                         if label(t, s) == "said" and not s.score.accepted)  # fmt: skip
    print("  said but below the bar:", "; ".join(f"{e:.2f} {p} [{h}] {n}" for e, p, h, n in said_missed) or "-")
    print(f"  shipped bars: {shipped.min_evidence} (garbles of short phrases {shipped.short_min_evidence}), "
          f"pmi_weight {shipped.pmi_weight}, min_pmi {shipped.min_pmi}")
    for lab in ("said", "absent"):
        pmis = [s.score.pmi for t in tracks for s in t.scored
                if label(t, s) == lab and s.score.evidence >= shipped.min_evidence]  # fmt: skip
        print(f"  pmi of candidates over the evidence bar, {lab:6s} {quantiles(pmis)}")

    print("\nheld out (bar picked with no false hit on one part, applied to the other):")
    half = len(phrases) // 2
    splits = [(f"renderings != {r} -> rendering {r}", [t for t in tracks if t.rendering != r],
               [t for t in tracks if t.rendering == r], phrases, phrases) for r in range(args.renderings)
              if args.renderings > 1]  # fmt: skip
    splits += [("phrases 1-4 -> phrases 5-8", tracks, tracks, phrases[:half], phrases[half:]),
               ("phrases 5-8 -> phrases 1-4", tracks, tracks, phrases[half:], phrases[:half])]
    for name, pick_on, test_on, pick_phrases, test_phrases in splits:
        bar = pick_bar(pick_on, pick_phrases, shipped)
        o = shipped.with_(min_evidence=bar)
        found, expected, ff, fc = tally(test_on, lambda t, o=o: verified(t.scored, o), test_phrases)
        b_found = tally(test_on, lambda t, ps=test_phrases: count(t.text, ps), test_phrases)[0]
        print(f"  {name:34s} bar {bar:5.2f}: {found}/{expected} (text {b_found}/{expected}), false {ff}+{fc}")

    if args.invented:
        print("\nhotword transcripts (they invent phrases): text hits, and those confirmed against the audio")
        found, expected, ff, fc = tally(tracks, lambda t: count(t.invented_text, phrases), phrases)
        print(f"  text match      {found}/{expected}, false {ff} (flagged) + {fc} (clean)")
        got = lambda t: verified([s for s in t.invented_scored if s.score.exact], shipped)  # noqa: E731
        found, expected, ff, fc = tally(tracks, got, phrases)
        print(f"  confirmed       {found}/{expected}, false {ff} (flagged) + {fc} (clean)")
        for t in tracks:
            for s in t.invented_scored:
                if s.score.exact and label(t, s) == "absent":
                    print(f"  invented {s.phrase} in {t.name}: pmi {s.score.pmi:.2f}, evidence {s.score.evidence:.2f}, "
                          f"{'kept' if s.score.accepted else 'rejected'}")


if __name__ == "__main__":
    main()
