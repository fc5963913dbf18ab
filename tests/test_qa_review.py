"""review(): verdicts on flags, every one kept as an audit row."""

from __future__ import annotations

from pathlib import Path

import pytest
from qa_calls import IVR, POLITE, add_call, config, replace
from sqlalchemy import select

import db
from qa.review import ReviewError, review
from qa.scan import scan_call
from qa.tables import Review


def test_new_then_confirmed_then_dismissed_with_every_review_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    with db.transaction(url) as s:
        [flag] = scan_call(s, config(), add_call(s, replace(IVR + POLITE, 4, "我们非常忙。")).id)
        assert flag.status == "new"
        review(s, flag.id, "lin", "confirm", "  rude  ")
        fid = flag.id
    with db.transaction(url) as s:
        row = review(s, fid, "wang", "dismissed", "")
        assert row.flag.status == "dismissed"
    with db.transaction(url) as s:
        rows = s.scalars(select(Review).where(Review.flag_id == fid).order_by(Review.id)).all()
        assert [(r.reviewer, r.decision, r.note) for r in rows] == [("lin", "confirmed", "rude"),
                                                                  ("wang", "dismissed", None)]
        assert rows[0].at <= rows[1].at


@pytest.mark.parametrize(("flag", "reviewer", "decision", "msg"), [
    (1, "lin", "maybe", "decision"), (1, "  ", "confirmed", "reviewer"), (42, "lin", "confirmed", "flag 42"),
])
def test_bad_reviews_are_refused_and_change_nothing(tmp_path: Path, flag: int, reviewer: str, decision: str,
                                                    msg: str) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    with db.transaction(url) as s:
        scan_call(s, config(), add_call(s, replace(IVR + POLITE, 4, "我们非常忙。")).id)
    with db.transaction(url) as s, pytest.raises(ReviewError, match=msg):
        review(s, flag, reviewer, decision)
    with db.transaction(url) as s:
        assert s.scalars(select(Review)).all() == []
