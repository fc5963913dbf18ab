"""An agent's line said by the synthetic voice, written as the ASR wrote it, and verified with the shipped rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audio_factory import agent_says

from settings import load_config
from transcribe.engine import AsrSegment, CallResult, Transcriber
from transcribe.spotting import spot_phrases

CFG = load_config(Path(__file__).resolve().parent.parent / "config.yaml")


def phrase_rows(tmp_path: Path, said: str, written: str, phrase: str,
                transcriber: Transcriber | None = None) -> list[dict[str, Any]]:
    """The verification rows of ``phrase`` (transcribe.spotting.spot_phrases) for a call whose agent said ``said``
    and whose transcript is one segment reading ``written``."""
    wav, end = agent_says(tmp_path / "agent.wav", said, pad_s=1.0)
    result = CallResult(end, (AsrSegment(0.8, end - 0.8, written, "agent", -0.5, 0.1),), ())
    return [r for r in spot_phrases(transcriber or Transcriber(), CFG, wav, result) if r.get("phrase") == phrase]
