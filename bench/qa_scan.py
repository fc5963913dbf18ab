"""QA text-scan throughput: Aho-Corasick against a naive substring loop, in the same run.

    .venv/bin/python bench/qa_scan.py                    # 20,000 utterances, best of 3
    .venv/bin/python bench/qa_scan.py --sentences 5000 --repeat 5

Utterances are the labelled set's lines (tests/qa_labelled.tsv: polite speech, near
misses, violations, Traditional, spaced, numbers) cycled to --sentences. Two rule sets:
the shipped config's phrase rules, and the same plus synthetic phrases up to 1,000
(3-6 characters: a tenth cut from the corpus so they hit, the rest random strings of
the corpus's own characters, so the automaton and the loop see partial matches).

Rows, per rule set (sentences per second, one core, best of --repeat):
- naive loop: for each phrase, ``str.find`` every occurrence in the normalised text
  (the baseline: raw hits only, no allow/subsumption);
- Aho-Corasick raw: one automaton pass, raw hits only (same work as the loop);
- Matcher.find: the automaton plus allow phrases, subsumption, speaker scope;
- Matcher.find + pinyin: as shipped (homophone automaton for phrases of 3+ chars);
- scan_text: the whole `hotline qa scan` path, PII included, normalisation included.
The first four run on pre-normalised text (normalisation is shared by all methods and
timed on its own row). Ratios are against the naive loop of the same rule set.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from qa.evaluate import DEFAULT_LABELLED, load_labelled  # noqa: E402
from qa.matcher import Matcher  # noqa: E402
from qa.scan import scan_text  # noqa: E402
from settings import Config, PhraseRule, load_config  # noqa: E402
from transcribe.normalize import Normalized, canonical, normalize  # noqa: E402


def corpus(n: int) -> list[str]:
    lines = [i.text for i in load_labelled(DEFAULT_LABELLED) if i.kind in ("agent", "caller", "unknown")]
    return [lines[k % len(lines)] for k in range(n)]


def with_phrases(rules: Sequence[PhraseRule], total: int, texts: Sequence[str]) -> list[PhraseRule]:
    """The rules plus synthetic ones until there are ``total`` phrases: a tenth are pieces
    of the corpus itself (so they hit), the rest random strings of its characters."""
    have = sum(len(r.phrases) for r in rules)
    norm = sorted({canonical(t) for t in texts})
    alphabet = sorted({ch for t in norm for ch in t if "\u4e00" <= ch <= "\u9fff"})
    rng = random.Random(5)
    extra: set[str] = set()
    while len(extra) < (total - have) // 10:
        t = rng.choice(norm)
        k = rng.randint(3, 6)
        if len(t) > k:
            i = rng.randrange(len(t) - k)
            extra.add(t[i:i + k])
    while len(extra) < total - have:
        extra.add("".join(rng.choice(alphabet) for _ in range(rng.randint(3, 6))))
    chunk = 50
    phrases = sorted(extra)
    synthetic = [PhraseRule(id=f"synthetic.{i // chunk}", category="forbidden", severity="low",
                            phrases=phrases[i:i + chunk], source="bench") for i in range(0, len(phrases), chunk)]
    return [*rules, *synthetic]


def naive_loop(rules: Sequence[PhraseRule]) -> Callable[[Normalized], int]:
    table = [(canonical(p), r.id) for r in rules for p in r.phrases]

    def run(norm: Normalized) -> int:
        text, found = norm.text, 0
        for phrase, _rule in table:
            at = text.find(phrase)
            while at >= 0:
                found += 1
                at = text.find(phrase, at + 1)
        return found

    return run


def ac_raw(m: Matcher) -> Callable[[Normalized], int]:
    automaton = m._exact  # the same automaton Matcher.find walks

    def run(norm: Normalized) -> int:
        return sum(len([e for e in entries if not e.allow]) for _end, entries in automaton.iter(norm.text))

    return run


def best_rate(fn: Callable[[object], object], items: Sequence[object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for x in items:
            fn(x)
        best = min(best, time.perf_counter() - t)
    return len(items) / best


def bench_set(name: str, cfg: Config, rules: list[PhraseRule], texts: list[str], norms: list[Normalized],
              repeat: int) -> list[tuple[str, int, str, float]]:
    phrases = sum(len(r.phrases) for r in rules)
    exact = Matcher(rules)
    sound = Matcher(rules, pinyin=True)
    naive = naive_loop(rules)
    raw = ac_raw(exact)
    n_naive = sum(naive(x) for x in norms)
    n_raw = sum(raw(x) for x in norms)
    if n_naive != n_raw:
        raise SystemExit(f"{name}: the loop found {n_naive} hits, the automaton {n_raw}: they must agree")
    cfg_n = cfg.model_copy(update={"qa": cfg.qa.model_copy(update={"phrases": rules})})
    rows = [
        ("naive substring loop (baseline)", best_rate(naive, norms, repeat)),  # type: ignore[arg-type]
        ("Aho-Corasick, raw hits", best_rate(raw, norms, repeat)),  # type: ignore[arg-type]
        ("Matcher.find (allow, subsumption, scope)", best_rate(exact.find, norms, repeat)),  # type: ignore[arg-type]
        ("Matcher.find + pinyin (shipped)", best_rate(sound.find, norms, repeat)),  # type: ignore[arg-type]
        ("scan_text (normalise + pinyin + PII)", best_rate(lambda t: scan_text(cfg_n, t), texts, repeat)),  # type: ignore[arg-type]
    ]
    print(f"  {name}: {phrases} phrases, {n_naive} raw hits in {len(norms)} utterances (loop and automaton agree)",
          file=sys.stderr)
    return [(name, phrases, label, rate) for label, rate in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    args = ap.parse_args()
    cfg = load_config(args.config)
    texts = corpus(args.sentences)
    norm_rate = best_rate(normalize, texts, args.repeat)  # type: ignore[arg-type]
    norms = [normalize(t) for t in texts]
    rows = bench_set("shipped rules", cfg, list(cfg.qa.phrases), texts, norms, args.repeat)
    rows += bench_set("1,000 phrases", cfg, with_phrases(cfg.qa.phrases, 1000, texts), texts, norms, args.repeat)
    print(f"{len(texts)} utterances, mean {sum(map(len, texts)) / len(texts):.1f} characters, best of {args.repeat}")
    print(f"normalise (t2s, NFKC, punctuation, offset map): {norm_rate:,.0f} utterances/s (shared by every row)\n")
    print("| rule set | phrases | method | utterances/s | vs naive loop |")
    print("|---|---|---|---|---|")
    base: dict[str, float] = {}
    for name, phrases, label, rate in rows:
        base.setdefault(name, rate)
        print(f"| {name} | {phrases} | {label} | {rate:,.0f} | {rate / base[name]:.2f}x |")


if __name__ == "__main__":
    main()
