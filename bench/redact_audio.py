"""Redacted audio heard again: what Whisper base makes of a caller track after redaction.

Four caller scripts that say a phone, card or ID number between other words, each in two
voices (pitch 40 and 58), with and without the mu-law line: 16 tracks. Each is transcribed,
the spans come from ``transcribe.redact_audio.pii_spans`` on that transcript (every kind,
0.25 s margin): the detector's matches alone, or with every run of LONG_RUN digits too; a
copy is written (tone or silence) and transcribed again. Per mode: in how many copies digits
are still heard (a 一 alone is the word 一下, not counted), and how much of the original
transcript's other text comes out the same (matching characters / characters, digits left
out of both).

Run: .venv/bin/python bench/redact_audio.py   (about 3 minutes on 2 cores)
"""

from __future__ import annotations

import difflib
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from audio_factory import AGENT_VOICE, build_call

from recordings.redacted import write_redacted
from recordings.speech import Voice
from transcribe.engine import Transcriber
from transcribe.pii import KINDS
from transcribe.redact_audio import LONG_RUN, pii_spans
from transcribe.tables import Segment

DIGITS = re.compile(r"[0-9]|[〇零幺一二三四五六七八九十]{2,}")
SCRIPTS = [
    ["我要投诉。", "我的手机号码是，138，1234，5678。", "我明天再打过来。"],
    ["我想查一下我的订单。", "我的电话号码是13812345678。", "谢谢你。"],
    ["你好，我要办理退款。", "我的卡号是，6222，0212，3456，7890。", "请帮我处理一下。"],
    ["我的身份证号码是，110101，19900307，1234。", "请帮我查一下。"],
]


def kept(before: str, after: str) -> float:
    a, b = DIGITS.sub("", before), DIGITS.sub("", after)
    same = sum(m.size for m in difflib.SequenceMatcher(None, a, b).get_matching_blocks())
    return same / max(1, len(a))


MODES = {  # name: (digit runs covered too, fill)
    "detector, tone": (None, "tone"),
    "+ runs, tone": (LONG_RUN, "tone"),
    "+ runs, silence": (LONG_RUN, "silence"),
}


def main() -> None:
    tr = Transcriber()
    results: dict[str, list[tuple[float, int]]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory() as tmp:
        for si, lines in enumerate(SCRIPTS):
            script = [("agent", None, "您好，请问有什么可以帮您？")] + [("caller", None, t) for t in lines]
            for pitch in (40, 58):
                for mulaw in (False, True):
                    voices = {"caller": Voice(pitch=pitch), "agent": AGENT_VOICE}
                    call = build_call(script, tmp, f"s{si}-{pitch}-{mulaw}", mulaw=mulaw, gap=1.0, voices=voices)
                    heard = tr.transcribe_track(call.caller, "caller")
                    segs = [Segment(seq=i, speaker=s.speaker, start_s=s.start, end_s=s.end, text=s.text,
                                    words=[[w.start, w.end, w.word, w.probability] for w in s.words or ()])
                            for i, s in enumerate(heard.segments)]
                    print(f"script {si} pitch {pitch} mu-law {mulaw}: {heard.text}")
                    for mode, (runs, fill) in MODES.items():
                        spans = pii_spans(segs, KINDS, long_run=runs).get("caller", [])
                        text = heard.text  # nothing found: the copy is the original
                        if spans:
                            out = Path(tmp) / f"r{si}{pitch}{mulaw}{fill}{runs}.wav"
                            write_redacted(call.caller, out, spans, fill)
                            text = tr.transcribe_track(out, "caller").text
                        results[mode].append((kept(heard.text, text), len(DIGITS.findall(text))))
                        print(f"  {mode:16} {len(spans)} span(s): {text}")
    for mode, out in results.items():
        print(f"{mode:16}: digits heard in {sum(1 for _, d in out if d)} of {len(out)} redacted tracks, "
              f"other text kept {sum(k for k, _ in out) / len(out):.2f} (mean), min {min(k for k, _ in out):.2f}")


if __name__ == "__main__":
    main()
