"""``qa.scorecard:``: the scorecard form and what can be wrong with it."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Literal

from pydantic import Field

from settings.base import Strict, did_you_mean

# A transcript the ASR could not make out is a flag of its own: no rule section, no breach of the
# opening or any other rule, only a call a person must listen to (qa.rules.review_finding).
REVIEW_RULE, REVIEW_CATEGORY = "transcript.needs-review", "review"
FLAG_CATEGORIES = ("opening", "forbidden", "vague", "closing", "pii", "hangup", "slow-answer", "hold", "conversation",
                   REVIEW_CATEGORY)


class ScorecardItem(Strict):
    """One line of the scorecard form (qa/scorecard.py). Tied to rules (``rules`` ids and/or flag
    ``categories``: the item's points are lost when such a flag counts) or to a reviewer's ``answer``
    (yes_no: all or nothing; points: 0..points). ``instant_fail``: a confirmed flag of its rules makes
    the whole call score 0. What is wrong with an item is checked in QaSettings, which knows the rules."""

    id: Annotated[str, Field(pattern=r"^[\w.-]{1,32}$")]
    label: str
    points: Annotated[float, Field(ge=0, le=1000)] = 0.0
    rules: list[str] = []
    categories: list[str] = []
    answer: Literal["yes_no", "points"] | None = None
    instant_fail: bool = False
    source: str = ""


class ScorecardSettings(Strict):
    # which flags cost an item its points: confirmed ones, or any not dismissed (unreviewed too)
    deduct_on: Literal["confirmed", "any"] = "confirmed"
    teams: dict[str, str] = {}  # agent (as on calls, SIP/agent1001) -> team, for team averages
    items: list[ScorecardItem] = []


def scorecard_problem(card: ScorecardSettings, rule_ids: Collection[str]) -> tuple[tuple[str | int, ...], str] | None:
    """The first thing wrong with the form, as (field under qa.scorecard, message), or None."""
    seen: set[str] = set()
    for n, item in enumerate(card.items):
        at: tuple[str | int, ...] = ("items", n)
        tied = bool(item.rules or item.categories)
        if item.id in seen:
            return (*at, "id"), f"item id '{item.id}' is used twice"
        seen.add(item.id)
        for rule in item.rules:
            if rule not in rule_ids:
                return (*at, "rules"), f"unknown rule '{rule}'{did_you_mean(rule, rule_ids)}"
        for cat in item.categories:
            if cat not in FLAG_CATEGORIES:
                return (*at, "categories"), f"unknown category '{cat}' (one of: {', '.join(FLAG_CATEGORIES)})"
        if item.answer is not None and tied:
            return (*at, "answer"), "an item is scored by its rules or by a reviewer's answer, not both"
        if item.answer is None and not tied:
            return (*at, "rules"), "give rules or categories (points lost on their flags) or answer: yes_no | points"
        if item.instant_fail and not tied:
            return (*at, "instant_fail"), "an instant-fail item needs rules or categories"
        if item.points == 0 and not item.instant_fail:
            return (*at, "points"), "must be above 0 (only an instant-fail item may carry no points)"
    if card.items and not any(item.points for item in card.items):
        return ("items",), "no item carries points: the form cannot give a score"
    return None

