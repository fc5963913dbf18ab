"""``asr:`` (the ASR knobs an admin may set) and ``workers:`` (where transcription runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from settings.base import FieldError, Strict


class AsrSettings(Strict):
    """The ASR knobs an admin may set. Their defaults are the engine's (transcribe.options.AsrOptions
    takes them from here), and why each is what it is, measured, is written there."""

    model_dir: Path | None = None  # a CTranslate2 Whisper directory; default: base from PyPI parts
    workers: Annotated[int, Field(ge=0, le=64)] = 0  # 0 = one per core
    language: str = "zh"
    compute_type: str = "int8"
    cpu_threads: Annotated[int, Field(ge=1, le=64)] = 1
    parallel_tracks: Annotated[int, Field(ge=1, le=2)] = 2  # a call's two tracks decode at once
    beam_size: Annotated[int, Field(ge=1, le=10)] = 1
    vad: bool = True
    vad_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.35
    vad_speech_pad_ms: Annotated[int, Field(ge=0, le=5000)] = 600
    condition_on_previous_text: bool = False
    no_speech_threshold: float | None = None
    log_prob_threshold: float | None = -1.0
    compression_ratio_threshold: float | None = 2.4
    hotwords: str | None = None
    word_timestamps: bool = True


class WorkersSettings(Strict):
    """Where transcription runs: this host's process pool, or workers on many hosts (Procrastinate)."""

    engine: Literal["pool", "procrastinate"] = "pool"  # procrastinate needs database.url on PostgreSQL
    # A recording path as serve's host stores it -> where this host mounts the same folder.
    path_map: dict[str, str] = {}
    heartbeat_s: Annotated[float, Field(gt=0, le=300)] = 10.0  # a busy worker marks itself alive this often
    stalled_after_s: Annotated[float, Field(gt=0, le=3600)] = 60.0  # no heartbeat this long: taken over
    recover_every_s: Annotated[float, Field(gt=0, le=600)] = 10.0  # each worker looks for dead ones this often

    @model_validator(mode="after")
    def _beats_before_stalling(self) -> WorkersSettings:
        # A worker is taken for dead after stalled_after_s without a beat, and its job given to another
        # while it still runs: one late beat (a busy database) must not do that, so two fit in the wait.
        if self.stalled_after_s < 2 * self.heartbeat_s:
            raise FieldError(("workers", "stalled_after_s"), f"{self.stalled_after_s:g} is less than twice heartbeat_s "
                             f"({self.heartbeat_s:g}): a live worker's job would be taken over")
        return self
