"""config.yaml's `asr:` section -> the engine's AsrOptions, and a Transcriber built from it.

AsrSettings (settings/transcription.py) is what an admin may change; AsrOptions (options.py) is every knob
the engine has. Fields not in the config keep AsrOptions' measured defaults.
"""

from __future__ import annotations

import gc
from dataclasses import asdict
from pathlib import Path
from typing import Any

from settings import AsrSettings, Config
from transcribe.engine import Transcriber
from transcribe.options import AsrOptions

# AsrSettings field -> AsrOptions field, where both exist under the same meaning.
_SAME = (
    "language", "compute_type", "cpu_threads", "parallel_tracks", "beam_size", "vad", "vad_threshold",
    "vad_speech_pad_ms", "condition_on_previous_text", "no_speech_threshold", "log_prob_threshold",
    "compression_ratio_threshold", "hotwords", "word_timestamps",
)  # fmt: skip


def asr_options(settings: AsrSettings) -> AsrOptions:
    """The engine options the config asks for."""
    return AsrOptions(**{name: getattr(settings, name) for name in _SAME})


def options_record(options: AsrOptions) -> dict[str, Any]:
    """The options as plain JSON (stored with each transcript, so a result can be traced)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(options).items()}


def model_dir_setting(config: Config) -> Path | None:
    """asr.model_dir resolved against the config file's folder (None = the assembled base model)."""
    return config.path(config.asr.model_dir) if config.asr.model_dir is not None else None


def load_transcriber(config: Config) -> Any:
    """A Transcriber with the configured model and options (loads the model: ~0.5 s).

    Raises transcribe.model.ModelError when the model cannot be found or verified."""
    return Transcriber(model_dir_setting(config), asr_options(config.asr))


def load_worker_transcriber(config: Config) -> Any:
    """``load_transcriber`` for a process that transcribes until it stops (a pool worker, `hotline
    worker`). Everything loaded so far is then frozen out of the garbage collector's sweeps
    (gc.freeze): faster-whisper's decode_audio runs a full collection after each file (its issue
    390), which took 71 ms of CPU per file in a worker's heap and 12 ms frozen; a call reads its
    files three times (two tracks, then the agent's again to check phrases). What verification builds
    from the rules is built first, so it is frozen too and the first call does not pay for it."""
    from transcribe.spotting import prepare  # the spotter loads the QA rule machinery: only workers need it

    transcriber = load_transcriber(config)
    prepare(config)
    gc.freeze()
    return transcriber
