"""Precision and recall of the QA text rules on a labelled set, and the pinyin study.

The labelled set (``tests/qa_labelled.tsv``) holds utterances with the rule ids a
reviewer should see. Each line is judged the way a call would judge it: ``agent``,
``caller`` and ``unknown`` lines by the phrase rules and PII (``scan_text``),
``opening`` lines as the agent's first utterance after pickup, ``closing`` lines as
the agent's last. Per category, a predicted rule id the line expects is a true
positive, one it does not expect a false positive, an expected one not predicted a
false negative.

Homophone matching (``Matcher(pinyin=True)``) was measured three ways before it was
turned on (``qa.scan.USE_PINYIN``, phrases of 3+ characters only): on the labelled
set, on every configured phrase with one character swapped for a same-sounding
character that the seed rulebooks use (ASR-style errors: recall), and on the seed
rulebooks' own sentences, which are clean text, so every hit found by sound but not
by characters is a false alarm (precision). ``hotline qa eval --pinyin-study
SEEDS_DIR`` prints all of it. With the shipped rules: recall on the homophone
variants 18.5% -> 96.3%, labelled forbidden+vague recall 0.880 -> 0.989, precision
0.988 -> 1.000, and 0 false alarms by sound on 3,060 clean seed sentences; letting
two-character phrases match by sound found the last 8 variants but raised 步行 as 不行.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from qa.matcher import Matcher
from qa.rules import CallContext, Utterance, closing_finding, opening_finding, text_hits
from qa.scan import matcher_for
from settings import Config
from transcribe.normalize import canonical
from transcribe.phonetic import syllable

KINDS = ("agent", "caller", "unknown", "opening", "closing")
DEFAULT_LABELLED = Path(__file__).resolve().parent.parent / "tests" / "qa_labelled.tsv"


class LabelError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Labelled:
    line: int
    kind: str
    text: str
    expected: frozenset[str]
    note: str = ""


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Evaluation:
    scores: dict[str, Score] = field(default_factory=dict)
    mistakes: list[tuple[Labelled, frozenset[str]]] = field(default_factory=list)
    lines: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "lines": self.lines,
            "categories": {c: {"tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": round(s.precision, 4),
                               "recall": round(s.recall, 4)} for c, s in sorted(self.scores.items())},
            "mistakes": [{"line": m.line, "kind": m.kind, "text": m.text, "expected": sorted(m.expected),
                          "got": sorted(got)} for m, got in self.mistakes],
        }


def load_labelled(path: Path = DEFAULT_LABELLED) -> list[Labelled]:
    out: list[Labelled] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cols = raw.split("\t")
        if len(cols) < 3:
            raise LabelError(f"{path}:{n}: expected kind<TAB>text<TAB>expected[<TAB>note]")
        kind, text, expected = cols[0].strip(), cols[1], cols[2].strip()
        if kind not in KINDS:
            raise LabelError(f"{path}:{n}: kind {kind!r} is not one of {', '.join(KINDS)}")
        ids = frozenset() if expected == "-" else frozenset(x.strip() for x in expected.split(",") if x.strip())
        out.append(Labelled(n, kind, text, ids, cols[3] if len(cols) > 3 else ""))
    return out


def category_of(config: Config, rule_id: str) -> str:
    qa = config.qa
    known = {r.id: r.category for r in qa.phrases}
    known.update({qa.pii.id: "pii", qa.ask_secret.id: "pii", qa.opening.id: "opening", qa.closing.id: "closing"})
    return known.get(rule_id) or rule_id.split(".", 1)[0]


def predict(config: Config, matcher: Matcher, item: Labelled) -> frozenset[str]:
    """The rules the scan would flag on the line: an opening or closing line is the agent's, so the
    phrase and privacy rules judge it too, as they do in a call."""
    speaker = "agent" if item.kind in ("opening", "closing") else item.kind
    got = {h.rule for h in text_hits(config, matcher, item.text, speaker)}
    if item.kind in ("opening", "closing"):
        u = Utterance(0, "agent", 0.0, 3.0, item.text)
        if item.kind == "opening":
            f = opening_finding(config, [u], 0.0, CallContext(agent_answer_s=0.0, reached_agent=True), (), matcher)
        else:
            f = closing_finding(config, [u], matcher)
        got |= {f.rule} if f else set()
    return frozenset(got)


def evaluate(config: Config, items: Sequence[Labelled], matcher: Matcher | None = None,
             by_category: bool = False) -> Evaluation:
    """``by_category``: a line expecting any rule of a category is right with any flag of it (for
    labellers who know the policy but not how its rules are split into ids)."""
    m = matcher or matcher_for(config)
    ev = Evaluation(lines=len(items))
    for item in items:
        got = predict(config, m, item)
        if by_category:
            got = frozenset(category_of(config, r) for r in got)
            item = replace(item, expected=frozenset(category_of(config, r) for r in item.expected))
        for rule in got | item.expected:
            score = ev.scores.setdefault(category_of(config, rule), Score())
            if rule in got and rule in item.expected:
                score.tp += 1
            elif rule in got:
                score.fp += 1
            else:
                score.fn += 1
        if got != item.expected:
            ev.mistakes.append((item, got))
    return ev


def table(ev: Evaluation) -> str:
    rows = ["| category | TP | FP | FN | precision | recall |", "|---|---|---|---|---|---|"]
    total = Score()
    for cat, s in sorted(ev.scores.items()):
        rows.append(f"| {cat} | {s.tp} | {s.fp} | {s.fn} | {s.precision:.3f} | {s.recall:.3f} |")
        total.tp, total.fp, total.fn = total.tp + s.tp, total.fp + s.fp, total.fn + s.fn
    rows.append(f"| all | {total.tp} | {total.fp} | {total.fn} | {total.precision:.3f} | {total.recall:.3f} |")
    return "\n".join(rows)


# --- the pinyin study --------------------------------------------------------------------

def seed_sentences(seeds_dir: Path) -> list[str]:
    """The seed rulebooks cut into sentences (clean written Chinese, no ASR errors)."""
    out: list[str] = []
    for p in sorted(seeds_dir.glob("*.txt")):
        text = p.read_text(encoding="utf-8", errors="replace")
        out += [s for s in re.split(r"[。！？!?；;，,、：:\n“”\"]+", text) if len(canonical(s)) >= 4]
    return out


def homophone_variants(phrases: Iterable[str], corpus: Iterable[str], min_count: int = 3) -> list[tuple[str, str]]:
    """(phrase, variant): each phrase with one character swapped for the most frequent
    other character of the same toneless syllable in ``corpus`` (what an ASR writes)."""
    freq = Counter(ch for s in corpus for ch in canonical(s) if "\u4e00" <= ch <= "\u9fff")
    by_sound: dict[str, list[str]] = {}
    for ch, n in freq.most_common():
        if n >= min_count:
            by_sound.setdefault(syllable(ch), []).append(ch)
    out: list[tuple[str, str]] = []
    for phrase in phrases:
        p = canonical(phrase)
        for i, ch in enumerate(p):
            others = [c for c in by_sound.get(syllable(ch), []) if c != ch]
            if others:
                out.append((phrase, p[:i] + others[0] + p[i + 1:]))
    return out


@dataclass
class PinyinRow:
    name: str
    labelled: Evaluation
    variants_found: int
    variants: int
    false_alarms: int  # seed sentences with a hit by sound that characters do not give
    sentences: int
    examples: list[str]


def pinyin_study(config: Config, seeds_dir: Path, items: Sequence[Labelled]) -> list[PinyinRow]:
    sentences = seed_sentences(seeds_dir)
    phrases = [p for r in config.qa.phrases for p in r.bare_phrases()]
    variants = homophone_variants(phrases, sentences)
    exact = Matcher(config.qa.phrases)
    exact_hits = [frozenset(h.rule for h in exact.find(s)) for s in sentences]
    rows: list[PinyinRow] = []
    setups = [("characters only", exact), ("+ pinyin, phrases >= 3 chars", Matcher(config.qa.phrases, pinyin=True)),
              ("+ pinyin, phrases >= 2 chars", Matcher(config.qa.phrases, pinyin=True, pinyin_min_chars=2))]
    for name, m in setups:
        found = sum(1 for _p, v in variants if m.find(v))
        alarms: list[str] = []
        for s, before in zip(sentences, exact_hits, strict=True):
            extra = [h for h in m.find(s) if h.rule not in before]
            if extra:
                alarms.append(f"{s.strip()[:40]} -> {extra[0].rule} ({extra[0].match})")
        rows.append(PinyinRow(name, evaluate(config, items, m), found, len(variants), len(alarms), len(sentences),
                              alarms[:8]))
    return rows


def pinyin_table(rows: Sequence[PinyinRow]) -> str:
    out = ["| matching | labelled P (forbidden+vague) | labelled R | homophone variants found | "
           "false alarms on clean seed sentences |", "|---|---|---|---|---|"]
    for r in rows:
        s = Score()
        for cat in ("forbidden", "vague"):
            c = r.labelled.scores.get(cat, Score())
            s.tp, s.fp, s.fn = s.tp + c.tp, s.fp + c.fp, s.fn + c.fn
        out.append(f"| {r.name} | {s.precision:.3f} | {s.recall:.3f} | {r.variants_found}/{r.variants} "
                   f"({r.variants_found / max(1, r.variants):.1%}) | {r.false_alarms}/{r.sentences} |")
    return "\n".join(out)
