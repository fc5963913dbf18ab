"""A transcript as people see it: personal data masked unless asked for, and who asked.

Every reader that prints transcript text (``hotline transcribe``, ``hotline calls show``,
the QA views) masks it over the whole transcript with each segment's speaker
(``transcribe.pii.mask_segments``): a number split across two segments is hidden in both,
and an agent's own name stays. Word timings spell the text out again, so a masked
transcript carries none.

Seeing personal data in full (``--unmask``) takes an account whose role may (accounts.roles.UNMASK:
lead, admin), named by ``--as`` or $HOTLINE_USER, never the OS user: :func:`unmasker` checks it
before anything is shown, and :func:`record_unmask` writes each call or file shown into the access
log (accounts.tables.AccessLog, action ``unmask``, via ``cli``), the one audit trail the web app's
unmasking and listening also write. (The ``unmasked`` call events of earlier versions stay where
they are; nothing writes them any more.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import db
from accounts.identity import cli_identity
from accounts.roles import UNMASK
from accounts.users import record_access
from transcribe.pii import KINDS, mask_segments

AS_OPTION = "--as"  # the commands' option naming the account that unmasks


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


def unmasker(url: str, who: str | None) -> str:
    """The account unmasking: ``who`` (--as), else $HOTLINE_USER, enabled and allowed to unmask.

    Raises accounts.identity.IdentityError (one line saying what to do) otherwise."""
    with db.transaction(url) as s:
        return cli_identity(s, who, None, UNMASK, option=AS_OPTION).name


def record_unmask(url: str, account: str, targets: Iterable[str], via: str) -> None:
    """Log that ``account`` saw ``targets`` (``call 12``, ``file a.wav``) in full through command ``via``."""
    with db.transaction(url) as s:
        for target in targets:
            record_access(s, account, "unmask", f"{target} ({via})", "cli")
