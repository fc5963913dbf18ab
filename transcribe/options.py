"""All ASR settings in one immutable, typed object (config.yaml's `asr:` section maps onto it).

Numbers quoted below come from ../shared/FINDINGS.md ("FINDINGS") or from this repo's
benchmarks (`bench/asr.py`, `bench/asr_accuracy.py`, "measured here"), all on 2 vCPU with
Whisper base int8 and synthetic 8 kHz Mandarin (espeak-ng via pinyin, G.711 round trip).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from settings import AsrSettings

# Text Whisper is known to invent on silence, music or noise (its training data was full of
# subtitle credits). A segment containing one of these is dropped and counted.
KNOWN_HALLUCINATIONS: tuple[str, ...] = (
    "字幕由Amara.org社群提供",
    "Amara.org",
    "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
    "明镜与点点",
    "点赞订阅",
    "订阅我的频道",
    "www.",  # not ".com": a caller may spell out an e-mail address
    "字幕志愿者",
    "中文字幕",
    "字幕制作",
    "本字幕",
    "优优独播剧场",
    "YoYo Television Series",
)

# Sign-offs Whisper emits on near-silence; dropped only when they are the whole segment,
# because a caller can say "谢谢" for real.
SILENCE_HALLUCINATIONS: tuple[str, ...] = (
    "谢谢观看",
    "感谢观看",
    "谢谢收看",
    "感谢收看",
    "谢谢大家观看",
    "谢谢大家收看",
    "请订阅",
)


_CFG = AsrSettings()  # the admin-settable knobs' defaults live with the config schema


@dataclass(frozen=True)
class AsrOptions:
    """How a track is turned into text.

    Measured here with `bench/asr_accuracy.py` (12 scripts whose agent says 45 forbidden
    phrases in all and 6 whose agent says none, each rendered 3 times: 36 + 18 agent
    tracks; CER over 52 sentences x 3 renderings) and `bench/asr.py` (60 s two-track call):

        setting (rest as shipped)       recall  false hits  CER    loops dropped / empty tracks
        shipped (beam 1)                25/45   0           0.555  0
        no_speech gate 0.6              25/45   0           0.555  0  (speech lost on 2 tracks)
        temperature fallback ladder     24/45   0           0.566  1  (2x time; random: 0.604 on a rerun)
        hotwords = the phrase list      33/45   3           0.560  37 / 3 empty
        VAD 0.5 / 400 ms                25/45   0           0.569  2 / 1 empty
        beam 5                          24/45   0           0.620  2
        beam 5 + hotwords               32/45   41 (18 on clean calls)  1.404*  12 / 4 empty
        beam 5 + VAD 0.5 / 400 ms       27/45   0           0.602  1
        (* CER over one rendering of the 52 sentences)

    Decoding
      language: "zh". Fixed, not detected: detection on an 8 kHz robot voice or a track that
        starts with silence is unreliable, and the hotline is Mandarin.
      beam_size: 1. Measured here: beam 1 lowered CER (0.555 vs 0.620), found as many
        phrases (25 vs 24 of 45), produced no decoding loops (beam 5: 2), and is faster
        (bench/asr.py: RTF 0.045 vs 0.052, 0.053 vs 0.058 in an earlier run; FINDINGS:
        0.074 vs 0.097). Re-measure on real
        recordings, where beam search usually helps a little.
      best_of: candidates per sampled temperature during fallback.
      temperatures: the fallback ladder: a window whose text compresses too well
        (compression_ratio_threshold) or scores too low (log_prob_threshold) is decoded
        again at the next temperature. Default (0.0,): no sampling fallback. Measured
        here, faster-whisper's ladder (0.0 ... 1.0) found fewer phrases (24 vs 25 of 45),
        raised CER (0.566 and 0.604 in two runs on the same audio, vs 0.555), about doubled
        the time, and made results random: sampling differs run to run, so a QA flag could
        come and go on a re-transcription. The repetition guard handles loops instead.
      compression_ratio_threshold: gzip ratio above which a decode counts as repetitive
        (faster-whisper's 2.4); also our loop guard: a kept segment above it is dropped.
      log_prob_threshold: average token log-probability below which a decode counts as
        failed (faster-whisper's -1.0); matters together with no_speech_threshold.
      no_speech_threshold: None (gate off). faster-whisper's default 0.6 drops a whole
        30 s window when its no-speech probability is > 0.6 *and* avg log-prob < -1.0.
        FINDINGS: that gate silently emptied an agent track VAD had found speech in.
        Measured here: same recall and CER with and without, but with the gate 2 of 54
        agent tracks lost real speech (one lost the agent's whole answer: no-speech 0.75,
        log-prob -1.15; the other "明天上午十点之前": 0.73, -1.02), and neither was
        caught by needs_review because some text remained. With VAD in front, silence,
        noise and a tone never reach the decoder (all came out empty without the gate),
        so the gate can only remove speech.
      condition_on_previous_text: False. FINDINGS: True repeated earlier sentences.
      initial_prompt: None. FINDINGS: a phrase list in the prompt was copied into the text.
      hotwords: None. The forbidden phrases as hotwords raised recall (33/45 vs 25/45)
        but gave 3 false hits, 37 segments looping on the phrases ("这不是我的错，这不是
        我的错，…": without the loop guard each would be several false hits) and 3 agent
        tracks with no text at all; at beam 5 it was 32/45 with 41 false hits, 18 of them on calls whose agent
        never said any forbidden phrase (precision 0.44: "这不是我的错，这不是我的错"
        appended to the end of tracks). Each false hit is a false accusation; FINDINGS saw
        the same on 2 of 8 tracks. Do not enable without verifying each hit on the audio.
      word_timestamps: True: per-character times let QA play audio from the exact word;
        they cost 0-3% (bench/asr.py: RTF 0.045 vs 0.045, 0.058 vs 0.056 in an earlier
        run) and change no text (same recall and CER with and without).

    Voice activity detection (Silero, bundled with faster-whisper)
      vad: True. FINDINGS: without VAD, beam 5 looped on silence and hotwords fired on
        noise; VAD also cuts decoding time because each MixMonitor track is digital zero
        while the other side talks.
      vad_threshold: 0.35, not Silero's 0.5. FINDINGS: 0.5 clipped sentence starts and
        dropped speech at 8 kHz; 0.35 kept all speech and left silence, noise and a tone
        empty. Here 0.5/400 ms found 27/45 at beam 5 (vs 24) but at beam 1 found no more
        (25/45), looped twice and left one agent track empty (caught by needs_review);
        0.35/600 did neither. Synthetic audio; re-check on real calls.
      vad_speech_pad_ms: 600 (Silero's default 400): same finding; first syllables of
        slow phone speech start soft.
      vad_min_silence_ms: 2000 (Silero's default): a pause must last this long to split.

    Runtime
      compute_type: "int8" on CPU (bench/asr.py: load 0.4 s, 395 MB RSS after load,
        455-460 MB peak; faster-whisper's own defaults, float32 with 4 threads on 2 cores,
        took 4.9x-14x as long on the same call, depending on the machine's other load).
      cpu_threads: 1. FINDINGS: a 2nd thread in one process does not help; two
        single-thread worker processes double throughput. One worker process per core.
      parallel_tracks: 2: a call's caller and agent tracks decode at once, each on its own
        model replica (CTranslate2 shares the weights). A second thread within one decode does
        not help, but two decodes do: bench/asr.py, a 60 s call, 2.22 s at once vs 2.88 s one
        after the other (0.037x vs 0.048x real time, the same 3.2 CPU s). A full pool gains
        nothing from it (bench/asr_pool.py, 2 workers: 19.7x vs 20.4x real time, within the
        noise) and each worker's peak RSS grows 581-609 -> 757-773 MB; one worker: 1.19x.

    Guards (ours, applied after decoding)
      loop_min_repeats / loop_max_ngram: a segment whose text is mostly one n-gram of up to
        loop_max_ngram characters (or a quarter of the text, if longer) repeated at least
        loop_min_repeats times in a row is a decoding loop (FINDINGS: a 75x "请问" loop;
        here "曼曼曼…", "啪,啪,啪…"); it is dropped and counted. 4 repeats: people say
        "不行不行不行" (3), rarely four.
      loop_long_ngram / loop_long_repeats: an n-gram of at least loop_long_ngram characters
        (up to a third of the text) said loop_long_repeats times in a row is a loop too: a
        fixed 8-character bound let "这么多年,我只能理解," (9) loop through. People repeat
        short words (好的好的好的, 对不起对不起对不起), not a 6+ character clause three
        times running. Checked on every sentence the repo's scripts, prompts and labelled QA
        set say (tests/test_loop_guard.py): none is dropped. Such an n-gram said that often with
        up to two other characters between each two (textguard.LOOP_GAP) is a loop as well: the
        decoder garbles a loop a little each time round (held-out set70, over an agent's breach).
        Of 9504 stored segments of 24 runs' calls that caught only that one; of 39198 labelled
        sentences, alone or said twice, none.
      The same counts apply across segments: a run of consecutive segments that each say one
        unit once or more (loop_min_repeats units in all, loop_long_repeats for a unit of
        loop_long_ngram+ characters) keeps its first segment and drops the copies ("我已不知" in
        8 segments; "此理事,此理事," twice then "此理事," twice). On 193 cached transcripts of
        the scripted and held-out calls counting units dropped 3 more segments, all in that one call.
      hallucinations / silence_hallucinations: see the lists above.
      copy_min_chars / copy_similarity: a segment of that many characters or more whose text
        is that similar (difflib ratio) to an earlier segment's is a copy: dropped, and its
        audio decoded again apart by the refill below (TextGuard.copied_segments).
      max_spelled_letters: a segment spelling out more single Latin letters in a row than this
        (dots or hyphens between them) is dropped as a hallucination, and the refill below decodes
        its audio apart. Whisper base, having written 海尔斯 as "I-20" or "I.E.S", went on spelling
        letters over the rest of its window: "这里是I.R.C.K.K.K.K.W.N.Y.O.C.M.K.E.PANNIN", and the
        next sentence, the agent's breach, as "说可以因当W.W.N.Y.PANNIN" (2 of 32 scripted calls in
        one run). Decoded apart, the first came out as 这里是海儿斯科技,前文也有什么可以办您.
        People spell codes, but rarely more than a few letters with stops between them.
      max_chars_per_s: a segment of 6+ characters whose words span less time than this rate
        allows is dropped as a hallucination: Whisper wrote a fluent 11-character question in
        0.08 s at a window's end, where the agent had said something else (people say 4-7 a
        second; word times are rough, hence the margin).
      refill_gaps / refill_min_s: a VAD stretch of at least refill_min_s seconds (padding
        included) that the first pass left without text is decoded again, glued only to the
        other such stretches. On the scripted calls 11 of 13 "needs review" tracks were a
        sentence Whisper skipped, most often the closing at the end of a window; on four of
        those tracks the refill gave the lost stretch text (the hurry-up call's 快点 among
        them). bench/asr_accuracy.py --variant no-refill compares without it.
      refill_inner_min_s: the same for a part of a stretch with no word on it (its start, its
        end, or between two sentences). Such a part of 3 s or more held speech: VAD splits at
        pauses of vad_min_silence_ms (2 s), and word times are rough by a few tenths. Measured:
        a decoding loop (此此此…) swallowed the last 10 s of a stretch whose first 7 s had text.
      no_repeat_ngram_size: no run of this many tokens twice in one 30 s window (CTranslate2;
        0 = off). A greedy decoding loop (此此此…, a sentence over and over) otherwise runs to
        the window's 448-token limit: on bench/asr.py's call one such loop cost the agent track
        8.6 CPU s where the rest took about 4. Measured (same run, bench/asr_accuracy.py, 54
        tracks): recall 23/45 either way, CER 0.607 vs 0.601; CPU on that call -44% (17.6 ->
        9.85 s with the refill). 12 tokens is about ten characters: a sentence said twice in
        one window keeps its words but for one token.
      window_pad_s: the encoder sees a window's audio and this much of faster-whisper's
        padding after it, not always 30 s (None: 30 s, faster-whisper's way). A track's last
        window and each second pass are often a few seconds long, and the encoder's cost grows
        faster than its input (one thread: 30 s 1.6 s, 15 s 0.55 s, 10 s 0.34 s). Measured
        (bench/asr_accuracy.py, 54 tracks): 30 s recall 23/45, CER 0.607; 2 s the same (encoder
        input 11.9 s a window on average); 4 s recall 25/45, CER 0.602, no false hits either way.
        2 s put word ends early at window ends (a scripted call's silences 17% too long, 4 s
        within 1%). bench/asr.py's call: 30 s windows take 1.78x as long as 4 s pads.
      review_min_speech_s: a track with at least this much VAD speech (padding included,
        so a cough with 2 x 600 ms padding stays under it) but no usable text is marked
        needs_review (FINDINGS: a whole agent track came out empty).
      review_min_chars_per_s: fewer kept characters per second of VAD speech than this also
        marks the track for review. Measured here: agent tracks gave 0.98-2.48 characters
        per VAD second (median 1.68); 0.3 means "almost nothing came out".
      traditional_to_simplified: OpenCC t2s. FINDINGS: 18 of 20 sentences came out in
        Traditional characters without a prompt.
    """

    language: str = _CFG.language
    beam_size: int = _CFG.beam_size
    best_of: int = 5
    temperatures: tuple[float, ...] = (0.0,)
    compression_ratio_threshold: float | None = _CFG.compression_ratio_threshold
    log_prob_threshold: float | None = _CFG.log_prob_threshold
    no_speech_threshold: float | None = _CFG.no_speech_threshold
    condition_on_previous_text: bool = _CFG.condition_on_previous_text
    initial_prompt: str | None = None
    hotwords: str | None = _CFG.hotwords
    word_timestamps: bool = _CFG.word_timestamps

    vad: bool = _CFG.vad
    vad_threshold: float = _CFG.vad_threshold
    vad_speech_pad_ms: int = _CFG.vad_speech_pad_ms
    vad_min_silence_ms: int = 2000

    compute_type: str = _CFG.compute_type
    cpu_threads: int = _CFG.cpu_threads
    parallel_tracks: int = _CFG.parallel_tracks

    loop_min_repeats: int = 4
    loop_max_ngram: int = 8
    loop_long_ngram: int = 6
    loop_long_repeats: int = 3
    hallucinations: tuple[str, ...] = field(default=KNOWN_HALLUCINATIONS)
    silence_hallucinations: tuple[str, ...] = field(default=SILENCE_HALLUCINATIONS)
    max_spelled_letters: int = 3
    max_chars_per_s: float = 25.0
    copy_min_chars: int = 8
    copy_similarity: float = 0.8
    refill_gaps: bool = True
    refill_min_s: float = 1.5
    refill_inner_min_s: float = 3.0
    no_repeat_ngram_size: int = 12
    window_pad_s: float | None = 4.0
    review_min_speech_s: float = 2.0
    review_min_chars_per_s: float = 0.3
    traditional_to_simplified: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.beam_size < 1:
            problems.append(f"beam_size must be >= 1, got {self.beam_size}")
        if not self.temperatures or any(t < 0 for t in self.temperatures):
            problems.append(f"temperatures must be a non-empty list of values >= 0, got {self.temperatures}")
        if not 0.0 < self.vad_threshold < 1.0:
            problems.append(f"vad_threshold must be between 0 and 1, got {self.vad_threshold}")
        if self.no_speech_threshold is not None and not 0.0 <= self.no_speech_threshold <= 1.0:
            problems.append(f"no_speech_threshold must be between 0 and 1 or null, got {self.no_speech_threshold}")
        if self.cpu_threads < 0:
            problems.append(f"cpu_threads must be >= 0, got {self.cpu_threads}")
        if self.parallel_tracks not in (1, 2):
            problems.append(f"parallel_tracks must be 1 or 2, got {self.parallel_tracks}")
        if self.loop_min_repeats < 2 or self.loop_long_repeats < 2:
            problems.append(f"loop_min_repeats and loop_long_repeats must be >= 2, got {self.loop_min_repeats}, "
                            f"{self.loop_long_repeats}")
        if self.refill_inner_min_s < self.refill_min_s:
            problems.append(f"refill_inner_min_s must be >= refill_min_s ({self.refill_min_s}), "
                            f"got {self.refill_inner_min_s}")
        if not 0.0 < self.copy_similarity <= 1.0:
            problems.append(f"copy_similarity must be in (0, 1], got {self.copy_similarity}")
        if self.window_pad_s is not None and self.window_pad_s < 0:
            problems.append(f"window_pad_s must be >= 0 or None, got {self.window_pad_s}")
        if self.no_repeat_ngram_size < 0:
            problems.append(f"no_repeat_ngram_size must be >= 0, got {self.no_repeat_ngram_size}")
        if self.max_spelled_letters < 1:
            problems.append(f"max_spelled_letters must be >= 1, got {self.max_spelled_letters}")
        if self.loop_long_ngram < 1 or self.loop_max_ngram < 1:
            problems.append("loop_long_ngram and loop_max_ngram must be >= 1")
        if problems:
            raise ValueError("; ".join(problems))

    def with_(self, **changes: object) -> AsrOptions:
        """A copy with some fields changed (the object itself is immutable)."""
        return replace(self, **changes)  # type: ignore[arg-type]
