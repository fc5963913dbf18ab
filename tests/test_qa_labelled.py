"""Precision and recall of the text rules on the labelled set (tests/qa_labelled.tsv).

Prints the per-category table (run with -s to see it; `hotline qa eval` prints the same).
"""

from __future__ import annotations

from collections import Counter

from qa_calls import config

from qa.evaluate import DEFAULT_LABELLED, Labelled, evaluate, load_labelled, predict, table
from qa.scan import matcher_for

CFG = config()
CATEGORIES = {"forbidden", "vague", "pii", "opening", "closing"}


def test_labelled_set_is_large_and_covers_the_traps() -> None:
    items = load_labelled(DEFAULT_LABELLED)
    kinds = Counter(i.kind for i in items)
    assert len(items) >= 150
    assert kinds["agent"] >= 100 and kinds["caller"] >= 20 and kinds["opening"] >= 10 and kinds["closing"] >= 8
    notes = " ".join(i.note for i in items)
    for trap in ("Traditional", "spaced", "numerals", "homophone", "caller"):
        assert trap in notes, trap
    assert sum(1 for i in items if not i.expected) >= 60  # polite speech and near misses


def test_precision_and_recall_per_category_are_at_least_95_percent() -> None:
    ev = evaluate(CFG, load_labelled(DEFAULT_LABELLED))
    print("\n" + table(ev))
    for item, got in ev.mistakes:
        print(f"  line {item.line}: {item.text} expected {sorted(item.expected)} got {sorted(got)}")
    assert set(ev.scores) == CATEGORIES
    for category, score in ev.scores.items():
        assert score.precision >= 0.95, (category, score)
        assert score.recall >= 0.95, (category, score)


def test_an_opening_or_closing_line_is_judged_by_the_phrase_rules_too() -> None:
    def judged(kind: str, text: str) -> set[str]:
        return set(predict(CFG, matcher_for(CFG), Labelled(1, kind, text, frozenset(), "")))

    busy = "您好，海尔斯科技，请问有什么可以帮您？我们现在很忙，请长话短说。"
    assert judged("opening", busy) == {"forbidden.bad-answers", "forbidden.rude"}  # 很忙, and 长话短说 hurries
    assert judged("closing", "那就这样，您等着吧。") == {"closing.courtesy", "forbidden.rude"}
    assert judged("closing", "感谢您的来电，再见。") == set()


def test_by_category_a_flag_of_the_expected_category_is_right_whatever_its_rule_id() -> None:
    # a labeller who calls 我不知道 "uncertain" and the rules' forbidden.refusal agree that it is forbidden
    item = Labelled(1, "agent", "师傅几点能到，我也不知道。", frozenset({"forbidden.uncertain"}), "")
    by_rule = evaluate(CFG, [item])
    by_category = evaluate(CFG, [item], by_category=True)
    assert (by_rule.scores["forbidden"].tp, by_rule.scores["forbidden"].fp, by_rule.scores["forbidden"].fn) == (0, 1, 1)
    assert (by_category.scores["forbidden"].tp, by_category.mistakes) == (1, [])
