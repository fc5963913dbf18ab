"""Redacted audio: the personal data the transcript holds, covered by a tone in a copy of each track.

After a call is transcribed, the PII detector reads the stored transcript as the masked
views do (``transcribe.pii.find_pii_segments`` over every segment, with speakers, the
config's ``qa.pii.mask_kinds``), so a number split across two segments is covered in both.
Each match's characters are placed in time by the segment's word timestamps and widened by
a margin (Whisper's word edges are loose by a few tenths of a second); a segment without
word times (the IVR's known prompts) or whose words do not spell its text is covered whole.

ASR damage can hide what a number is (我的号是62221234578900: no 卡号 heard, so no card), and
a reviewer would then hear it in full; so any run of ``LONG_RUN`` or more digits the detector
did not name is covered too (an order number among them: audio errs on the side of silence,
the text view keeps its precision). bench/redact_audio.py measures both.

Spans go to the track their speaker is on (the IVR speaks on the agent track); the mix
gets every span. A track with nothing to cover still gets its copy: the copy means
"checked", and reviewers are served copies only (web/calls.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings.redacted import (
    SUFFIX,
    has_ready_copy,
    is_redacted,
    redacted_kind,
    redacted_path,
    register,
    write_redacted,
)
from recordings.store import recording_file, stored_path
from recordings.tables import Recording
from settings import Config
from transcribe.pii import find_pii_segments
from transcribe.pii_numbers import DIGIT_VALUE
from transcribe.pii_stream import Stream, build
from transcribe.store import segments_in_order, transcript_for_call
from transcribe.tables import Segment, Transcript

MARGIN_S = 0.25
LONG_RUN = 7  # digits in a row, in any form, over spaces, commas and into the same speaker's next segment
TRACK_OF = {"caller": "caller", "agent": "agent", "ivr": "agent", "unknown": "mix"}


@dataclass(frozen=True)
class RedactedTrack:
    kind: str  # the original's kind: caller | agent | mix
    path: str
    spans: list[tuple[float, float]]  # seconds covered

    @property
    def seconds(self) -> float:
        return sum(b - a for a, b in self.spans)


def _char_times(text: str, words: Sequence[Any] | None) -> list[tuple[float, float] | None] | None:
    """Each character's word times ([start, end, word, p] rows), None where it is a space;
    None for the whole when the words do not spell the text out."""
    if not words:
        return None
    flat = [(ch, float(w[0]), float(w[1])) for w in words for ch in str(w[2]) if not ch.isspace()]
    out: list[tuple[float, float] | None] = [None] * len(text)
    k = 0
    for i, ch in enumerate(text):
        if ch.isspace():
            continue
        if k >= len(flat) or flat[k][0] != ch:
            return None
        out[i] = flat[k][1:]
        k += 1
    return out if k == len(flat) else None


def _span(seg: Segment, start: int, end: int) -> tuple[float, float]:
    """Seconds that characters [start, end) of a segment were said in."""
    times = _char_times(seg.text, seg.words)
    picked = [t for t in (times or [])[start:end] if t is not None]
    if not picked:
        return seg.start_s, seg.end_s
    return min(a for a, _ in picked), max(b for _, b in picked)


def _runs_on(st: Stream, k: int) -> bool:
    return st.joined(k) or st.digits_may_join(k)


def digit_runs(texts: Sequence[str], speakers: Sequence[str], least: int = LONG_RUN) -> list[tuple[int, int, int]]:
    """(segment, start, end) pieces of every run of at least ``least`` digits, read across the
    segments as the detector reads them (a run goes on over a comma or into the same speaker's next
    segment; clause punctuation ends it)."""
    st = build(texts, speakers)
    out = []
    i = 0
    while i < len(st.text):
        j = i
        while j < len(st.text) and st.text[j] in DIGIT_VALUE and (j == i or _runs_on(st, j - 1)):
            j += 1
        if j - i >= least:
            for seg in sorted({st.seg[k] for k in range(i, j)}):
                ks = [k for k in range(i, j) if st.seg[k] == seg]
                out.append((seg, st.pos[ks[0]], st.end_at(ks[-1])))
        i = max(j, i + 1)
    return out


def pii_spans(segments: Sequence[Segment], kinds: Sequence[str], margin: float = MARGIN_S,
              long_run: int | None = LONG_RUN) -> dict[str, list[tuple[float, float]]]:
    """Track kind -> the seconds to cover, margins included (unmerged, unclipped): the PII found,
    and (``long_run``) every run of that many digits."""
    pieces = [(p.segment, p.start, p.end)
              for m in find_pii_segments([s.text for s in segments], kinds, [s.speaker for s in segments])
              for p in m.pieces]
    if long_run is not None:
        pieces += digit_runs([s.text for s in segments], [s.speaker for s in segments], long_run)
    out: dict[str, list[tuple[float, float]]] = {}
    for k, start, end in pieces:
        seg = segments[k]
        a, b = _span(seg, start, end)
        span = (a - margin, b + margin)
        for kind in {TRACK_OF.get(seg.speaker, "mix"), "mix"}:  # the mix holds every track's speech
            if span not in out.setdefault(kind, []):  # a number found by both ways
                out[kind].append(span)
    return out


def calls_missing_copies(session: Session) -> list[int]:
    """Calls with a transcript and a ready original that has no ready redacted copy (transcribed
    before copies were made, or their redaction failed): what ``recordings redact --missing`` does."""
    transcribed = select(Transcript.id).where(Transcript.call_id == Recording.call_id).exists()
    stmt = (select(Recording.call_id).where(Recording.status == "ready", ~Recording.kind.endswith(SUFFIX),
                                            ~has_ready_copy(), transcribed).distinct().order_by(Recording.call_id))
    return [c for c in session.scalars(stmt) if c is not None]


def redact_call(session: Session, config: Config, call_id: int, *, margin: float = MARGIN_S,
                fill: str = "tone") -> list[RedactedTrack]:
    """Write and register the redacted copy of each of the call's ready recordings."""
    transcript = transcript_for_call(session, call_id)
    if transcript is None:
        raise ValueError(f"call {call_id}: no transcript to redact from")
    spans = pii_spans(segments_in_order(transcript), config.qa.pii.mask_kinds, margin)
    out = []
    rows = session.scalars(select(Recording).where(Recording.call_id == call_id, Recording.status == "ready"))
    for rec in [r for r in rows if not is_redacted(r.kind)]:
        src = recording_file(config, rec.path)
        dst = redacted_path(src)
        covered = write_redacted(src, dst, spans.get(rec.kind, []), fill)
        register(session, call_id, redacted_kind(rec.kind), stored_path(config, dst))  # as serve's host sees it
        out.append(RedactedTrack(rec.kind, str(dst), covered))
    return out
