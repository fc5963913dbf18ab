"""A transcript as people see it: personal data masked unless asked for, and who asked.

Every reader that prints transcript text (``hotline transcribe``, ``hotline calls show``,
the QA views) masks it over the whole transcript with each segment's speaker
(``transcribe.pii.mask_segments``): a number split across two segments is hidden in both,
and an agent's own name stays. Word timings spell the text out again, so a masked
transcript carries none.

Seeing a call's data in full (``--unmask``) is recorded on the call as an ``unmasked``
event: who, and through which command.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable, Sequence
from typing import Any

import db
from ivr.tables import CallEvent
from transcribe.pii import KINDS, mask_segments

UNMASKED = "unmasked"  # the CallEvent kind


def mask_transcript(data: dict[str, Any], kinds: Sequence[str] = KINDS) -> dict[str, Any]:
    """A transcript dict (``to_dict`` / ``transcript_dict`` shape) with its text masked and no word timings."""
    out = dict(data)
    segs = [dict(s) for s in data.get("segments") or []]
    masked = mask_segments([s.get("text") or "" for s in segs], kinds, [str(s.get("speaker")) for s in segs])
    for s, text in zip(segs, masked, strict=True):
        s["text"] = text
        s.pop("words", None)
    out["segments"] = segs
    if data.get("dropped"):  # what the hallucination filter left out is speech too
        dropped = [dict(d) for d in data["dropped"]]
        masked = mask_segments([d.get("text") or "" for d in dropped], kinds, [str(d.get("speaker")) for d in dropped])
        for d, text in zip(dropped, masked, strict=True):
            d["text"] = text
        out["dropped"] = dropped
    return out


def note_unmasked(url: str, call_ids: Iterable[int], via: str) -> None:
    """Record who saw these calls' personal data in full, and how (an audit trail on each call)."""
    who = getpass.getuser()
    with db.transaction(url) as s:
        s.add_all(CallEvent(call_id=cid, at=db.now(), kind=UNMASKED, data={"by": who, "via": via})
                  for cid in call_ids)
