"""Forbidden-phrase recall / false hits and character error rate on synthesized calls.

    .venv/bin/python bench/asr_accuracy.py                         # shipped options only
    .venv/bin/python bench/asr_accuracy.py --variant shipped --variant gate-0.6 \
        --variant hotwords --variant beam5                         # the QA trade-off
    .venv/bin/python bench/asr_accuracy.py --phrases 我不能,不行     # another phrase list

Calls come from tests/audio_factory.py: FLAGGED_CALLS (agents say forbidden phrases) and
CLEAN_CALLS (agents never do; some callers do), rendered as MixMonitor tracks with a
G.711 mu-law round trip. Only the agent track is scored, as QA does. A hit is a phrase
found in the normalised text (t2s, no punctuation or spaces); hits beyond what the agent
said are false hits (each one would be a false accusation). CER is over every distinct
script line, synthesized alone, normalised the same way. Synthetic speech is hard for
Whisper base: read the figures as a comparison of settings, not as real-call accuracy.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402
from audio_factory import (  # noqa: E402
    AGENT_VOICE,
    CALLER_VOICE,
    CLEAN_CALLS,
    FLAGGED_CALLS,
    FORBIDDEN_PHRASES,
    build_call,
    mulaw_roundtrip,
    noise,
    tone,
)

from recordings.audio import write_wav  # noqa: E402
from recordings.speech import synthesize_pcm  # noqa: E402
from transcribe.engine import Transcriber  # noqa: E402
from transcribe.normalize import canonical  # noqa: E402
from transcribe.options import AsrOptions  # noqa: E402


def variants(phrases: tuple[str, ...]) -> dict[str, AsrOptions]:
    """Named option sets: the shipped AsrOptions() and one or two changes to it."""
    base = AsrOptions()
    hot = "，".join(phrases)
    ladder = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    b5 = base.with_(beam_size=5)
    return {
        "shipped": base,
        "gate-0.6": base.with_(no_speech_threshold=0.6),
        "hotwords": base.with_(hotwords=hot),
        "hotwords+gate-0.6": base.with_(hotwords=hot, no_speech_threshold=0.6),
        "fallback": base.with_(temperatures=ladder),
        "30s-windows": base.with_(window_pad_s=None),
        "no-refill": base.with_(refill_gaps=False),
        "no-inner-refill": base.with_(refill_inner_min_s=1e9),
        "repeats-allowed": base.with_(no_repeat_ngram_size=0),
        "vad-0.5": base.with_(vad_threshold=0.5, vad_speech_pad_ms=400),
        "no-words": base.with_(word_timestamps=False),
        "beam5": b5,
        "beam5+gate-0.6": b5.with_(no_speech_threshold=0.6),
        "beam5+hotwords": b5.with_(hotwords=hot),
        "beam5+fallback": b5.with_(temperatures=ladder),
        "beam5+vad-0.5": b5.with_(vad_threshold=0.5, vad_speech_pad_ms=400),
    }


def count_phrases(text: str, phrases: tuple[str, ...]) -> dict[str, int]:
    norm = canonical(text)
    return {p: norm.count(canonical(p)) for p in phrases}


def count_phrases_pinyin(text: str, phrases: tuple[str, ...]) -> dict[str, int]:
    """Toneless-pinyin matching: a homophone (我不知到 for 我不知道) still counts.

    Not what QA does today; printed as a hint for the matcher (same false-hit accounting)."""
    from pypinyin import lazy_pinyin

    def py(s: str) -> str:
        return " " + " ".join(lazy_pinyin(canonical(s))) + " "

    norm = py(text)
    return {p: norm.count(py(p)) for p in phrases}


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@dataclass
class Score:
    expected: int = 0
    found: int = 0  # true hits, capped at what was said
    false_flagged: int = 0  # extra hits on calls whose agent says some phrases
    false_clean: int = 0  # any hit on calls whose agent says none
    py_found: int = 0  # the same three with toneless-pinyin matching
    py_false_flagged: int = 0
    py_false_clean: int = 0
    empty_tracks: int = 0
    review: int = 0
    dropped: int = 0
    silent_text: dict[str, str] = field(default_factory=dict)
    cer_edits: int = 0
    cer_chars: int = 0
    seconds: float = 0.0
    misses: list[str] = field(default_factory=list)
    chars_per_s: list[float] = field(default_factory=list)  # kept characters per VAD second
    dropped_texts: list[str] = field(default_factory=list)
    inserts: list[str] = field(default_factory=list)


def score_variant(tr: Transcriber, calls: list[tuple[str, object]], sentences: list[tuple[Path, str]],
                  signals: dict[str, Path], phrases: tuple[str, ...]) -> Score:
    sc = Score()
    started = time.perf_counter()
    for kind, call in calls:
        truth = count_phrases(call.text_of("agent"), phrases)  # type: ignore[attr-defined]
        result = tr.transcribe_track(call.agent, "agent")  # type: ignore[attr-defined]
        got = count_phrases(result.text, phrases)
        py_truth = count_phrases_pinyin(call.text_of("agent"), phrases)  # type: ignore[attr-defined]
        py_got = count_phrases_pinyin(result.text, phrases)
        for p in phrases:
            sc.py_found += min(py_truth[p], py_got[p])
            py_extra = max(0, py_got[p] - py_truth[p])
            if kind == "clean":
                sc.py_false_clean += py_extra
            else:
                sc.py_false_flagged += py_extra
        sc.empty_tracks += not result.segments
        if result.speech_detected_s > 0:
            sc.chars_per_s.append(len(canonical(result.text)) / result.speech_detected_s)
        sc.review += result.needs_review
        sc.dropped += len(result.dropped)
        sc.dropped_texts.extend(f"{d.reason}: {d.text[:40]}" for d in result.dropped)
        for p in phrases:
            sc.expected += truth[p]
            sc.found += min(truth[p], got[p])
            extra = max(0, got[p] - truth[p])
            if kind == "clean":
                sc.false_clean += extra
            else:
                sc.false_flagged += extra
            if got[p] < truth[p]:
                sc.misses.append(p)
            if extra:
                sc.inserts.append(f"{p} in {result.text!r}")
    for name, path in signals.items():
        sc.silent_text[name] = tr.transcribe_track(path, "agent").text
    for path, ref in sentences:
        hyp = tr.transcribe_track(path, "unknown").text
        r, h = canonical(ref), canonical(hyp)
        sc.cer_edits += edit_distance(r, h)
        sc.cer_chars += len(r)
    sc.seconds = time.perf_counter() - started
    return sc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", action="append", help="options variant (repeatable); default: shipped")
    ap.add_argument("--phrases", default=",".join(FORBIDDEN_PHRASES), help="comma-separated phrase list")
    ap.add_argument("--work", type=Path, help="where to write the audio (default: a temp dir)")
    ap.add_argument("--no-cer", action="store_true", help="skip the sentence CER (faster)")
    ap.add_argument("--pitch", type=int, help="override both voices' espeak pitch")
    ap.add_argument("--renderings", type=int, default=3,
                    help="render every call this many times (1 clean + line-noise seeds); default 3")
    args = ap.parse_args()
    phrases = tuple(p.strip() for p in args.phrases.split(",") if p.strip())
    table = variants(phrases)
    chosen = args.variant or ["shipped"]
    unknown = [v for v in chosen if v not in table]
    if unknown:
        ap.error(f"unknown variant(s) {unknown}; choose from {sorted(table)}")

    work = args.work or Path(tempfile.mkdtemp(prefix="hotline-acc-"))
    voices = {"caller": CALLER_VOICE, "agent": AGENT_VOICE}
    if args.pitch is not None:
        voices = {k: v.__class__(**{**v.__dict__, "pitch": args.pitch}) for k, v in voices.items()}
    calls: list[tuple[str, object]] = []
    for seed in range(args.renderings):
        # rendering 0 is clean; others add line noise at -55 dBFS (inaudible next to the
        # -3 dBFS speech) with their own seed: same calls, independent decoding outcomes.
        noise_kw = {"line_noise_dbfs": -55.0, "seed": seed} if seed else {}
        for kind, scripts in (("flagged", FLAGGED_CALLS), ("clean", CLEAN_CALLS)):
            for i, script in enumerate(scripts):
                call = build_call(script, work, f"{kind}{i:02d}-r{seed}", mulaw=True, voices=voices, **noise_kw)
                calls.append((kind, call))
    sentences: list[tuple[Path, str]] = []
    if not args.no_cer:
        lines = {text: speaker for script in FLAGGED_CALLS + CLEAN_CALLS for speaker, _, text in script}
        pad = np.zeros(4000, np.int16)
        for seed in range(args.renderings):
            for n, (text, speaker) in enumerate(lines.items()):
                pcm = synthesize_pcm(text, voices[speaker])
                if seed:
                    hiss = noise(pcm.size / 8000, -55.0, seed=seed * 1000 + n)[: pcm.size]
                    pcm = np.clip(pcm.astype(np.int32) + hiss, -32768, 32767).astype(np.int16)
                wav = write_wav(work / f"sent{n:02d}-r{seed}.wav", np.concatenate([pad, mulaw_roundtrip(pcm), pad]))
                sentences.append((wav, text))
    signals = {
        "silence": write_wav(work / "silence.wav", np.zeros(20 * 8000, np.int16)),
        "noise": write_wav(work / "noise.wav", noise(20.0)),
        "tone": write_wav(work / "tone.wav", tone(20.0)),
    }
    n_flag = sum(k == "flagged" for k, _ in calls)
    n_clean = len(calls) - n_flag
    print(f"{n_flag} agent tracks with forbidden phrases, {n_clean} without ({len(FLAGGED_CALLS)} + "
          f"{len(CLEAN_CALLS)} scripts x {args.renderings} renderings); "
          f"{len(sentences)} sentence renderings for CER; phrases: {', '.join(phrases)}")
    base = Transcriber()
    rows = []
    for name in chosen:
        sc = score_variant(base.with_options(table[name]), calls, sentences, signals, phrases)
        hits = sc.found + sc.false_flagged + sc.false_clean
        precision = sc.found / hits if hits else float("nan")
        cer = sc.cer_edits / sc.cer_chars if sc.cer_chars else float("nan")
        silent = ",".join(k for k, v in sc.silent_text.items() if canonical(v)) or "none"
        rows.append((name, f"{sc.found}/{sc.expected}", f"{sc.found / sc.expected:.2f}", str(sc.false_flagged),
                     str(sc.false_clean), f"{precision:.2f}", str(sc.empty_tracks), str(sc.review), str(sc.dropped),
                     silent, f"{cer:.3f}" if sc.cer_chars else "-", f"{sc.seconds:.0f}",
                     f"{sc.py_found}/{sc.expected}", f"{sc.py_false_flagged}+{sc.py_false_clean}"))
        print(f"[{name}] missed: {', '.join(sc.misses) or '-'}")
        cps = sorted(sc.chars_per_s)
        print(f"[{name}] characters per VAD second on agent tracks: min {cps[0]:.2f}, "
              f"median {cps[len(cps) // 2]:.2f}, max {cps[-1]:.2f}")
        for text in sc.dropped_texts:
            print(f"[{name}] dropped {text}")
        for ins in sc.inserts:
            print(f"[{name}] false hit: {ins}")
    head = ("variant", "recall", "rate", "false(flagged)", "false(clean)", "precision", "empty", "review",
            "dropped", "text on sil/noise/tone", "CER", "s", "recall(pinyin)", "false(pinyin)")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
