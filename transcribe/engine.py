"""The ASR engine: one recording track -> timed, speaker-labelled, checked segments.

Shaped like faster-whisper's transcribe.py: immutable typed results (`Word`, `AsrSegment`,
`TrackResult`, `CallResult`) and one options object (`AsrOptions`). Differences that
matter for a call centre:
- each MixMonitor track is transcribed whole and separately (FINDINGS: short pieces are
  each padded to a 30 s window), then the tracks are merged by time;
- Silero VAD runs here, not inside faster-whisper, so we always know how much speech a
  track holds, even with VAD filtering off, and can skip the decoder on empty tracks;
- output is simplified (OpenCC t2s), loops and known hallucinations are dropped and
  counted, and a track with speech but no usable text is marked for manual review;
- the agent track is not all agent (it is everything the caller heard): given a
  :class:`TrackPlan` (plain data the runner makes from the IVR's timeline), only the
  agent's stretches are decoded, the rest is silenced before VAD, and the prompts the
  IVR played are added from their known text as speaker ``ivr``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import decode_audio
from faster_whisper.transcribe import restore_speech_timestamps
from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

from recordings.audio import AudioError, probe_wav
from transcribe.model import resolve_model_dir
from transcribe.normalize import canonical, to_simplified
from transcribe.options import AsrOptions
from transcribe.textguard import TextGuard

SAMPLE_RATE = 16000  # what Whisper and Silero VAD work at; 8 kHz phone audio is resampled
SPEAKERS = ("caller", "agent", "unknown")
FRAMES_PER_S = 100  # Whisper's log-mel frames (10 ms hop); the encoder takes an even count
IVR = "ivr"  # segments of the agent track whose text the IVR knows (its prompts): never decoded


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class AsrSegment:
    start: float
    end: float
    text: str
    speaker: str
    avg_logprob: float
    no_speech_prob: float
    words: tuple[Word, ...] | None = None


@dataclass(frozen=True)
class Dropped:
    """A decoded segment we refused to keep, and why ("hallucination" or "repetition")."""

    start: float
    end: float
    text: str
    speaker: str
    reason: str


@dataclass(frozen=True)
class TrackPlan:
    """What to decode of one track, and what is already known of the rest.

    ``decode``: the only stretches (seconds) that may hold speech to decode; the audio
    outside them is silenced before VAD, so neither VAD nor the decoder spends time on it.
    ``known``: (start, end, text) said there, added as segments of ``known_speaker``."""

    decode: tuple[tuple[float, float], ...]
    known: tuple[tuple[float, float, str], ...] = ()
    known_speaker: str = IVR


@dataclass(frozen=True)
class TrackResult:
    speaker: str
    path: str
    duration: float
    speech_detected_s: float  # audio VAD kept, its padding included
    segments: tuple[AsrSegment, ...]
    dropped: tuple[Dropped, ...]
    needs_review: bool
    review_reason: str | None
    elapsed_s: float
    skipped_s: float = 0.0  # audio not decoded because a TrackPlan said it held no speech to decode
    refilled: int = 0  # VAD stretches the first pass left without text, decoded again on their own
    # VAD's speech stretches (seconds): where someone spoke, whether or not the decoder made
    # text of it (the audio checks of the opening and closing lines look there)
    speech: tuple[tuple[float, float], ...] = ()

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)

    @property
    def hallucinations_dropped(self) -> int:
        return sum(d.reason == "hallucination" for d in self.dropped)

    @property
    def loops_dropped(self) -> int:
        return sum(d.reason == "repetition" for d in self.dropped)


@dataclass(frozen=True)
class CallResult:
    duration: float
    segments: tuple[AsrSegment, ...]  # all tracks, ordered by start time
    tracks: tuple[TrackResult, ...]

    @property
    def needs_review(self) -> bool:
        return any(t.needs_review for t in self.tracks)

    @property
    def review_reasons(self) -> tuple[str, ...]:
        return tuple(f"{t.speaker}: {t.review_reason}" for t in self.tracks if t.review_reason)

    def text_of(self, speaker: str) -> str:
        return "".join(s.text for s in self.segments if s.speaker == speaker)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `hotline transcribe --json`."""
        return {
            "duration": round(self.duration, 3),
            "needs_review": self.needs_review,
            "review_reasons": list(self.review_reasons),
            "segments": [_segment_dict(s) for s in self.segments],
            "dropped": [
                {"speaker": d.speaker, "start": d.start, "end": d.end, "text": d.text, "reason": d.reason}
                for t in self.tracks
                for d in t.dropped
            ],
        }


def _segment_dict(s: AsrSegment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "speaker": s.speaker,
        "start": s.start,
        "end": s.end,
        "text": s.text,
        "avg_logprob": round(s.avg_logprob, 4),
        "no_speech_prob": round(s.no_speech_prob, 4),
    }
    if s.words is not None:
        out["words"] = [[w.start, w.end, w.word, round(w.probability, 4)] for w in s.words]
    return out


class TrimmingWhisper(WhisperModel):
    """faster-whisper's model, but each window's encoder input ends ``pad_frames`` after its audio.

    faster-whisper pads every window to 30 s of features (``pad_or_trim`` adds columns of exact
    zeros, which a log-mel column of real audio never is) and encodes all of it. The encoder's
    cost grows faster than its input, and a track's last window or a second pass often holds a
    few seconds (AsrOptions.window_pad_s). ``pad_frames`` None: the whole 30 s, as shipped."""

    pad_frames: int | None = None

    def encode(self, features: np.ndarray) -> Any:
        if self.pad_frames is not None and features.ndim == 2:
            said = np.flatnonzero(features.any(axis=0))
            content = int(said[-1]) + 1 if said.size else 0
            frames = -(-(content + self.pad_frames) // FRAMES_PER_S) * FRAMES_PER_S  # whole seconds
            features = np.ascontiguousarray(features[:, :max(FRAMES_PER_S, min(features.shape[1], frames))])
        return super().encode(features)


class Transcriber:
    """Loads the model once; transcribes tracks and calls. One per worker process."""

    def __init__(
        self,
        model_dir: str | Path | None = None,
        options: AsrOptions | None = None,
        *,
        cache_dir: str | Path | None = None,
        _model: Any = None,
    ) -> None:
        self.options = options or AsrOptions()
        self.model_dir = resolve_model_dir(model_dir, cache_dir) if _model is None else Path(str(model_dir))
        started = time.perf_counter()
        if _model is None:
            _model = TrimmingWhisper(
                str(self.model_dir),
                device="cpu",
                compute_type=self.options.compute_type,
                cpu_threads=self.options.cpu_threads,
                # one model replica per track decoded at once; CTranslate2 shares the weights
                num_workers=self.options.parallel_tracks,
                local_files_only=True,
            )
        self._model = _model
        self.load_seconds = time.perf_counter() - started
        self._guard = TextGuard(self.options)

    @property
    def whisper(self) -> WhisperModel:
        """The loaded model, for scoring phrases against audio with the same weights."""
        return self._model

    def with_options(self, options: AsrOptions) -> Transcriber:
        """Same loaded model, other decoding options (threads and compute type stay as loaded)."""
        return Transcriber(self.model_dir, options, _model=self._model)

    # -- public API ----------------------------------------------------------------------

    def transcribe_track(self, path: str | Path, speaker: str = "unknown", plan: TrackPlan | None = None
                         ) -> TrackResult:
        """Transcribe one mono recording (a multi-channel file is mixed down).

        With a ``plan``, only its ``decode`` stretches are decoded and its ``known`` text is
        added as segments of its ``known_speaker``."""
        if speaker not in SPEAKERS:
            raise ValueError(f"speaker must be one of {SPEAKERS}, got {speaker!r}")
        started = time.perf_counter()
        audio = self.load_audio(path)
        duration = audio.size / SAMPLE_RATE
        skipped = 0.0
        if plan is not None:
            audio, skipped = silence_outside(audio, plan.decode)
        # nothing to decode (no agent ever answered): not even VAD needs to run
        chunks = self._speech_chunks(audio) if plan is None or plan.decode else []
        speech_s = sum(c["end"] - c["start"] for c in chunks) / SAMPLE_RATE
        raw: Iterable[Any] = ()
        if (chunks or not self.options.vad) and (plan is None or plan.decode):
            raw = self._decode(audio, chunks if self.options.vad else None)
        kept, dropped = self._clean(raw, speaker)
        kept, dropped, refilled = self._refill(audio, chunks, kept, dropped, speaker)
        reason = self._review_reason(speech_s, kept, dropped) or self._uncovered_speech(chunks, kept)
        if plan is not None and plan.known:
            kept = sorted(kept + known_segments(plan, duration), key=lambda s: (s.start, s.end))
        return TrackResult(
            speaker=speaker,
            path=str(path),
            duration=duration,
            speech_detected_s=round(speech_s, 3),
            segments=tuple(kept),
            dropped=tuple(dropped),
            needs_review=reason is not None,
            review_reason=reason,
            elapsed_s=time.perf_counter() - started,
            skipped_s=round(skipped, 3),
            refilled=refilled,
            speech=tuple((round(c["start"] / SAMPLE_RATE, 2), round(c["end"] / SAMPLE_RATE, 2)) for c in chunks),
        )

    def transcribe_call(self, caller_wav: str | Path, agent_wav: str | Path, agent_plan: TrackPlan | None = None
                        ) -> CallResult:
        """Both MixMonitor tracks of a call, merged into one transcript ordered by time.

        ``agent_plan``: the agent track's plan from the IVR's timeline (None: decode it all).
        The two tracks decode at once when ``parallel_tracks`` is 2 (CTranslate2 and Silero
        release the GIL), so a call on an otherwise idle host uses both cores."""
        jobs = ((caller_wav, "caller", None), (agent_wav, "agent", agent_plan))
        if self.options.parallel_tracks < 2:
            return merge([self.transcribe_track(*job) for job in jobs])
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="asr-track") as pool:
            return merge(list(pool.map(lambda job: self.transcribe_track(*job), jobs)))

    def transcribe_file(self, path: str | Path) -> CallResult:
        """A single recording holding both sides (mono, or mixed down): speaker 'unknown'."""
        return merge([self.transcribe_track(path, "unknown")])

    # -- steps ---------------------------------------------------------------------------

    @staticmethod
    def load_audio(path: str | Path) -> np.ndarray:
        """Checked, decoded, resampled to 16 kHz mono float32; AudioError on a bad file."""
        info = probe_wav(path)
        if info.frames == 0:
            raise AudioError(path, "no audio samples in the data chunk")
        try:
            audio = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
        except Exception as exc:  # PyAV raises many types; the worker needs one line
            raise AudioError(path, f"cannot decode: {type(exc).__name__}: {exc}") from None
        if audio.size == 0:
            raise AudioError(path, "decoded to no samples")
        return audio

    def _speech_chunks(self, audio: np.ndarray) -> list[dict[str, int]]:
        o = self.options
        vad = VadOptions(
            threshold=o.vad_threshold,
            speech_pad_ms=o.vad_speech_pad_ms,
            min_silence_duration_ms=o.vad_min_silence_ms,
        )
        return list(get_speech_timestamps(audio, vad, sampling_rate=SAMPLE_RATE))

    def _decode(self, audio: np.ndarray, chunks: list[dict[str, int]] | None) -> list[Any]:
        o = self.options
        if isinstance(self._model, TrimmingWhisper):  # set per call: with_options() shares the model
            self._model.pad_frames = None if o.window_pad_s is None else round(o.window_pad_s * FRAMES_PER_S)
        if chunks:
            pieces, _ = collect_chunks(audio, chunks, sampling_rate=SAMPLE_RATE)
            audio = np.concatenate(pieces)
        segments, _info = self._model.transcribe(
            audio,
            language=o.language,
            task="transcribe",
            beam_size=o.beam_size,
            best_of=o.best_of,
            temperature=list(o.temperatures),
            compression_ratio_threshold=o.compression_ratio_threshold,
            log_prob_threshold=o.log_prob_threshold,
            no_speech_threshold=o.no_speech_threshold,
            condition_on_previous_text=o.condition_on_previous_text,
            initial_prompt=o.initial_prompt,
            hotwords=o.hotwords,
            word_timestamps=o.word_timestamps,
            no_repeat_ngram_size=o.no_repeat_ngram_size,
            vad_filter=False,  # done above, once, so its result is known to us
        )
        if chunks:
            segments = restore_speech_timestamps(segments, chunks, SAMPLE_RATE)
        return list(segments)  # decoded now, while pad_frames holds these options' value

    def _clean(self, raw: Iterable[Any], speaker: str) -> tuple[list[AsrSegment], list[Dropped]]:
        o = self.options
        kept: list[AsrSegment] = []
        dropped: list[Dropped] = []
        for seg in raw:
            text = seg.text.strip()
            if o.traditional_to_simplified:
                text = to_simplified(text)
            start, end = round(float(seg.start), 2), round(float(seg.end), 2)
            reason = self._guard.reject_reason(text)
            if reason is not None:
                dropped.append(Dropped(start, end, text, speaker, reason))
                continue
            if not canonical(text):
                continue  # punctuation only
            words = None
            if seg.words is not None:
                words = tuple(
                    Word(
                        round(float(w.start), 2),
                        round(float(w.end), 2),
                        to_simplified(w.word) if o.traditional_to_simplified else w.word,
                        float(w.probability),
                    )
                    for w in seg.words
                )
            if words is not None and _too_fast(text, words, o.max_chars_per_s):
                dropped.append(Dropped(start, end, text, speaker, "hallucination"))
                continue
            kept.append(AsrSegment(start, end, text, speaker, float(seg.avg_logprob), float(seg.no_speech_prob), words))
        texts = [s.text for s in kept]
        copies = set(self._guard.repeated_segments(texts)) | set(self._guard.copied_segments(texts))
        if copies:
            dropped += [Dropped(s.start, s.end, s.text, speaker, "repetition")
                        for i, s in enumerate(kept) if i in copies]
            dropped.sort(key=lambda d: (d.start, d.end))
            kept = [s for i, s in enumerate(kept) if i not in copies]
        return kept, dropped

    def _refill(self, audio: np.ndarray, chunks: list[dict[str, int]], kept: list[AsrSegment],
                dropped: list[Dropped], speaker: str) -> tuple[list[AsrSegment], list[Dropped], int]:
        """A second pass over the VAD speech the first left without text, each lost stretch
        decoded alone. Whisper's window-by-window decoding skips speech, most often the last
        sentence before a window ends (the closing line), and a decoding loop swallows what
        follows it in its window; decoded apart from its neighbours it usually comes out
        (tests/test_engine.py; compare with bench/asr_accuracy.py --variant no-refill)."""
        o = self.options
        if not o.refill_gaps:
            return kept, dropped, 0
        lost = [{"start": a, "end": b} for a, b in _lost_stretches(chunks, kept, o.refill_min_s, o.refill_inner_min_s)]
        if not lost or (len(chunks) == 1 and lost == [{"start": chunks[0]["start"], "end": chunks[0]["end"]}]):
            return kept, dropped, 0  # the track's one stretch, lost whole: the same audio would decode the same
        # Each alone: glued, the lost stretches of one track lost their text together again (measured on
        # the 32 scripted calls, same recordings: calls needing review 7 -> 4, CPU 204 -> 198 s),
        # and a whole track glued again is the first pass over (a whole agent track came out as one loop).
        for stretch in lost:
            more, junk = self._clean(self._decode(audio, [stretch]), speaker)
            kept = sorted(kept + more, key=lambda s: (s.start, s.end))
            dropped = sorted(dropped + junk, key=lambda d: (d.start, d.end))
        return kept, dropped, len(lost)

    def _review_reason(self, speech_s: float, kept: Sequence[AsrSegment], dropped: Sequence[Dropped]) -> str | None:
        o = self.options
        if speech_s < o.review_min_speech_s:
            return None
        chars = sum(len(canonical(s.text)) for s in kept)
        if chars == 0:
            extra = f" ({len(dropped)} segment(s) dropped as loops/hallucinations)" if dropped else ""
            return f"VAD found {speech_s:.1f} s of speech but no usable text{extra}"
        if chars / speech_s < o.review_min_chars_per_s:
            return f"only {chars} characters for {speech_s:.1f} s of speech"
        return None


    def _uncovered_speech(self, chunks: Sequence[dict[str, int]], kept: Sequence[AsrSegment]) -> str | None:
        """VAD speech still without words after the second pass (a whole stretch, or a long part
        of one): the decoder skipped or lost it (measured: faster-whisper's no-speech gate dropped
        a whole agent answer while the rest of the track had text, which the whole-track checks
        above cannot see). Judged by words, as the second pass is: a segment's span can stretch
        over speech it never wrote."""
        o = self.options
        gaps = [(a / SAMPLE_RATE, b / SAMPLE_RATE)
                for a, b in _lost_stretches(chunks, kept, o.review_min_speech_s, o.refill_inner_min_s)]
        if not gaps:
            return None
        a, b = gaps[0]
        total = sum(y - x for x, y in gaps)
        return f"no text for {len(gaps)} stretch(es) of VAD speech ({total:.1f} s), first at {a:.1f}-{b:.1f} s"


def _too_fast(text: str, words: Sequence[Word], max_chars_per_s: float) -> bool:
    """A sentence whose words all fall in an instant: no one said it there. Whisper writes such
    text at the end of a window (measured: 这次是什么时候发生的事? in 0.08 s, word probabilities
    0.02-0.3, where the agent said a closing it lost). People say 4-7 characters a second."""
    chars = len(canonical(text))
    said = [w for w in words if w.word.strip()]
    if chars < 6 or not said:
        return False
    return chars > max_chars_per_s * max(0.0, said[-1].end - said[0].start)


def _lost_stretches(chunks: Sequence[dict[str, int]], kept: Sequence[AsrSegment], whole_min_s: float,
                    inner_min_s: float) -> list[tuple[int, int]]:
    """The VAD speech no kept word covers, as sample ranges: a whole stretch of ``whole_min_s``
    seconds or more, or a part of one of ``inner_min_s`` or more."""
    out = []
    for chunk in chunks:
        a, b = chunk["start"], chunk["end"]
        said = sorted((max(a, round(x * SAMPLE_RATE)), min(b, round(y * SAMPLE_RATE)))
                      for s in kept for x, y in _said_spans(s) if x * SAMPLE_RATE < b and y * SAMPLE_RATE > a)
        if not said:
            if b - a >= whole_min_s * SAMPLE_RATE:
                out.append((a, b))
            continue
        at = a
        for x, y in [*said, (b, b)]:
            if x - at >= inner_min_s * SAMPLE_RATE:
                out.append((at, x))
            at = max(at, y)
    return out


def _said_spans(seg: AsrSegment) -> list[tuple[float, float]]:
    """Where ``seg`` says something: its words when it has them, since a segment's span can
    stretch over speech it never wrote (measured: 小道乐 spanning 51.0-62.6 s, its last "word"
    blank, the closing said at 59 s lost)."""
    if seg.words is None:
        return [(seg.start, seg.end)]
    return [(w.start, w.end) for w in seg.words if w.word.strip()]


def silence_outside(audio: np.ndarray, keep: Sequence[tuple[float, float]]) -> tuple[np.ndarray, float]:
    """A copy of 16 kHz ``audio`` with digital zero outside the ``keep`` stretches (seconds),
    and how many seconds were zeroed. VAD finds nothing in zeros, so nothing there is decoded."""
    mask = np.zeros(audio.size, dtype=bool)
    for a, b in keep:
        i, j = max(0, int(a * SAMPLE_RATE)), min(audio.size, int(np.ceil(b * SAMPLE_RATE)))
        if j > i:
            mask[i:j] = True
    out = np.where(mask, audio, np.float32(0.0)).astype(audio.dtype, copy=False)
    return out, float((~mask).sum()) / SAMPLE_RATE


def known_segments(plan: TrackPlan, duration: float) -> list[AsrSegment]:
    """The plan's known text as segments (certain: log-prob 0, no-speech 0, no words)."""
    out = []
    for a, b, text in plan.known:
        a, b = round(max(0.0, a), 2), round(min(duration, b), 2)
        if b > a and text.strip():
            out.append(AsrSegment(a, b, text.strip(), plan.known_speaker, 0.0, 0.0))
    return out


def merge(tracks: Sequence[TrackResult]) -> CallResult:
    """One transcript from separately transcribed tracks, ordered by start time."""
    order = {name: i for i, name in enumerate((*SPEAKERS, IVR))}
    segments = sorted(
        (s for t in tracks for s in t.segments), key=lambda s: (s.start, s.end, order.get(s.speaker, 9))
    )
    return CallResult(
        duration=max((t.duration for t in tracks), default=0.0),
        segments=tuple(segments),
        tracks=tuple(tracks),
    )
