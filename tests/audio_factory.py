"""Synthesized call recordings and bad files for tests and benchmarks.

A call is rendered the way Asterisk's MixMonitor with r()/t() records it: two mono
tracks of the same length, sample-aligned, the caller on one and the agent on the other,
each digital zero while only the other side speaks. Optionally the speech goes through a
G.711 mu-law round trip, as it would on a phone line.

Scripts are [(speaker, start_s, text), ...] with speaker "caller" or "agent"; a start of
None means "after the previous turn, plus `gap` seconds".

Import it as `from audio_factory import ...` (pytest puts tests/ on sys.path; the bench
scripts add it themselves).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recordings.audio import PHONE_RATE, write_wav
from recordings.speech import Voice, synthesize_pcm

# Slightly different pitches so the two sides do not sound like one person; DESIGN.md's
# tuned settings otherwise (compare with `bench/asr_accuracy.py --pitch 50`).
CALLER_VOICE = Voice(pitch=58)
AGENT_VOICE = Voice(pitch=45)

ScriptLine = tuple[str, float | None, str]

FORBIDDEN_PHRASES: tuple[str, ...] = (
    "我不能", "我不知道", "这不是我们的责任", "你找错部门了", "我们非常忙", "这不是我的错", "不行", "快点",
)  # fmt: skip

OPENING = "您好，这里是客服中心，请问有什么可以帮您？"

# Agents who say a forbidden phrase (the phrases land in ordinary sentences, as they would).
FLAGGED_CALLS: tuple[tuple[ScriptLine, ...], ...] = (
    (("agent", None, OPENING), ("caller", None, "我想退掉上个月买的洗衣机。"),
     ("agent", None, "对不起，超过七天我不能给您办理退货。"), ("caller", None, "那我该怎么办呢？"),
     ("agent", None, "您可以申请维修，我帮您登记一下。")),
    (("agent", None, OPENING), ("caller", None, "我的快递三天了还没到，到底在哪里？"),
     ("agent", None, "我不知道，您自己去问快递公司吧。"), ("caller", None, "你们怎么这样？")),
    (("agent", None, OPENING), ("caller", None, "你们送来的杯子是碎的。"),
     ("agent", None, "这不是我们的责任，是运输的时候摔坏的。")),
    (("agent", None, OPENING), ("caller", None, "我要开一张发票。"),
     ("agent", None, "你找错部门了，发票要打财务的电话。")),
    (("caller", None, "我已经等了半个小时了。"), ("agent", None, "我们非常忙，请您再等一等。"),
     ("caller", None, "那要等到什么时候？")),
    (("agent", None, OPENING), ("caller", None, "你上次告诉我的地址是错的。"),
     ("agent", None, "这不是我的错，系统里就是这么写的。")),
    (("agent", None, OPENING), ("caller", None, "能不能明天再送货？"),
     ("agent", None, "不行，明天没有司机。")),
    (("agent", None, "快点说，后面还有很多人在排队。"), ("caller", None, "好的，我的手机屏幕坏了。"),
     ("agent", None, "您把手机寄过来吧。")),
    (("agent", None, OPENING), ("caller", None, "可以给我打个折吗？"),
     ("agent", None, "不行，价格是公司定的，我不能改。")),
    (("agent", None, OPENING), ("caller", None, "我的会员积分怎么没有了？"),
     ("agent", None, "我不知道，你找错部门了。")),
    (("caller", None, "快点帮我查一下订单。"), ("agent", None, "好的，请稍等。"),
     ("caller", None, "我的包裹丢了。"), ("agent", None, "包裹丢了，这不是我们的责任。")),
    (("agent", None, OPENING), ("caller", None, "我想问一下保修的事情。"),
     ("agent", None, "我们非常忙，你快点说。")),
)  # fmt: skip

# Agents who never say a forbidden phrase (callers sometimes do: they must not count).
CLEAN_CALLS: tuple[tuple[ScriptLine, ...], ...] = (
    (("agent", None, OPENING), ("caller", None, "我想查一下我的订单。"),
     ("agent", None, "好的，请您告诉我订单号码。"), ("caller", None, "一二三四五六。"),
     ("agent", None, "您的订单明天下午送到。")),
    (("agent", None, OPENING), ("caller", None, "我的热水器不热了。"),
     ("agent", None, "非常抱歉给您带来不便，我马上安排师傅上门。"), ("caller", None, "什么时候能来？"),
     ("agent", None, "明天上午十点之前。")),
    (("agent", None, OPENING), ("caller", None, "你们怎么还不送货？快点！"),
     ("agent", None, "很抱歉让您久等了，我现在就帮您催一下。")),
    (("agent", None, OPENING), ("caller", None, "我要投诉你们的快递员。"),
     ("agent", None, "好的，我记录下来，会有专人在两天内联系您。")),
    (("agent", None, OPENING), ("caller", None, "我想改一下收货地址。"),
     ("agent", None, "没问题，请告诉我新的地址。"), ("caller", None, "北京市海淀区中关村大街一号。"),
     ("agent", None, "已经帮您改好了。")),
    (("agent", None, OPENING), ("caller", None, "这个手机能用多久？"),
     ("agent", None, "电池可以用一整天，保修期是一年。"), ("caller", None, "谢谢。"),
     ("agent", None, "不客气，祝您生活愉快。")),
)  # fmt: skip


def all_sentences() -> list[str]:
    """Every distinct line of the scripts above (for character error rate)."""
    seen: dict[str, None] = {}
    for script in FLAGGED_CALLS + CLEAN_CALLS:
        for _, _, text in script:
            seen.setdefault(text, None)
    return list(seen)


@dataclass(frozen=True)
class Turn:
    speaker: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class CallAudio:
    caller: Path
    agent: Path
    duration: float
    turns: tuple[Turn, ...]

    def text_of(self, speaker: str) -> str:
        return "".join(t.text for t in self.turns if t.speaker == speaker)


def mulaw_roundtrip(pcm: np.ndarray) -> np.ndarray:
    """Encode int16 samples to G.711 mu-law and back (the quantisation of a phone line)."""
    x = pcm.astype(np.int32)
    sign = np.where(x < 0, 0x80, 0x00)
    mag = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    mantissa = (mag >> (exponent + 3)) & 0x0F
    code = ~(sign | (exponent << 4) | mantissa) & 0xFF
    u = ~code & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    out = np.where(u & 0x80, 0x84 - t, t - 0x84)
    return out.astype(np.int16)


def agent_says(path: str | Path, text: str, pad_s: float = 0.5) -> tuple[Path, float]:
    """``text`` in the agent's voice over a phone line (mu-law round trip), with ``pad_s`` of quiet
    either side: the WAV written to ``path``, and its length in seconds."""
    pad = np.zeros(round(pad_s * PHONE_RATE), np.int16)
    pcm = np.concatenate([pad, mulaw_roundtrip(synthesize_pcm(text, AGENT_VOICE)), pad])
    return write_wav(path, pcm), pcm.size / PHONE_RATE


def render_call(
    script: Sequence[ScriptLine],
    *,
    rate: int = PHONE_RATE,
    gap: float = 0.8,
    lead_in: float = 0.5,
    tail: float = 1.0,
    min_duration: float = 0.0,
    mulaw: bool = False,
    voices: dict[str, Voice] | None = None,
    line_noise_dbfs: float | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, tuple[Turn, ...]]:
    """Caller and agent tracks (int16, same length) and the timed turns of a script.

    line_noise_dbfs adds white noise at that RMS level to each spoken turn (the sender's
    line is open while they talk; the track stays digital zero between turns). Different
    seeds give different renderings of the same call: Whisper's output on synthetic speech
    changes with noise far below hearing, so benchmarks average over several."""
    voices = voices or {"caller": CALLER_VOICE, "agent": AGENT_VOICE}
    placed: list[tuple[Turn, np.ndarray]] = []
    cursor = lead_in
    for speaker, start, text in script:
        if speaker not in ("caller", "agent"):
            raise ValueError(f"speaker must be 'caller' or 'agent', not {speaker!r}")
        voice = voices[speaker]
        if voice.rate != rate:
            raise ValueError(f"voice rate {voice.rate} != call rate {rate}")
        pcm = synthesize_pcm(text, voice)
        begin = cursor if start is None else float(start)
        turn = Turn(speaker, begin, begin + pcm.size / rate, text)
        placed.append((turn, pcm))
        cursor = turn.end + gap
    end = max([t.end for t, _ in placed], default=0.0) + tail
    total = round(max(end, min_duration) * rate)
    tracks = {"caller": np.zeros(total, np.int16), "agent": np.zeros(total, np.int16)}
    for index, (turn, pcm) in enumerate(placed):
        at = round(turn.start * rate)
        track = tracks[turn.speaker]
        if np.any(track[at : at + pcm.size]):
            raise ValueError(f"{turn.speaker} turn at {turn.start:.2f}s overlaps the previous one")
        if line_noise_dbfs is not None:
            hiss = noise(pcm.size / rate, line_noise_dbfs, rate, seed=seed * 1000 + index)
            pcm = np.clip(pcm.astype(np.int32) + hiss[: pcm.size], -32768, 32767).astype(np.int16)
        track[at : at + pcm.size] = mulaw_roundtrip(pcm) if mulaw else pcm
    return tracks["caller"], tracks["agent"], tuple(t for t, _ in placed)


def build_call(script: Sequence[ScriptLine], out_dir: str | Path, name: str = "call", **kw: object) -> CallAudio:
    """Write <name>-caller.wav and <name>-agent.wav (see render_call for the options)."""
    caller, agent, turns = render_call(script, **kw)  # type: ignore[arg-type]
    rate = int(kw.get("rate", PHONE_RATE))  # type: ignore[call-overload]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return CallAudio(
        caller=write_wav(out / f"{name}-caller.wav", caller, rate),
        agent=write_wav(out / f"{name}-agent.wav", agent, rate),
        duration=caller.size / rate,
        turns=turns,
    )


def long_call(seconds: float = 60.0, scripts: Iterable[Sequence[ScriptLine]] = FLAGGED_CALLS) -> list[ScriptLine]:
    """Lines from several scripts, back to back, until about `seconds` of conversation."""
    lines: list[ScriptLine] = []
    spoken = 0.0
    for script in scripts:
        for speaker, _, text in script:
            voice = CALLER_VOICE if speaker == "caller" else AGENT_VOICE
            length = synthesize_pcm(text, voice).size / voice.rate + 0.8
            if spoken + length > seconds - 1.5:
                return lines
            lines.append((speaker, None, text))
            spoken += length
    return lines


# -- signals and broken files ------------------------------------------------------------


def noise(seconds: float, level_dbfs: float = -30.0, rate: int = PHONE_RATE, seed: int = 7) -> np.ndarray:
    """White noise at a given RMS level."""
    rng = np.random.default_rng(seed)
    rms = 32768.0 * 10 ** (level_dbfs / 20)
    return np.clip(rng.normal(0.0, rms, round(seconds * rate)), -32768, 32767).astype(np.int16)


def tone(seconds: float, freq: float = 425.0, level_dbfs: float = -12.0, rate: int = PHONE_RATE) -> np.ndarray:
    """A steady sine (425 Hz is the Chinese dial/ringback tone)."""
    t = np.arange(round(seconds * rate)) / rate
    amp = 32768.0 * 10 ** (level_dbfs / 20) * np.sqrt(2)
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def write_noise(path: str | Path, seconds: float = 20.0, **kw: float) -> Path:
    return write_wav(path, noise(seconds, **kw))  # type: ignore[arg-type]


def write_tone(path: str | Path, seconds: float = 20.0, **kw: float) -> Path:
    return write_wav(path, tone(seconds, **kw))


def write_silence(path: str | Path, seconds: float = 20.0, rate: int = PHONE_RATE) -> Path:
    return write_wav(path, np.zeros(round(seconds * rate), np.int16), rate)


def write_empty(path: str | Path) -> Path:
    p = Path(path)
    p.write_bytes(b"")
    return p


def write_corrupt(path: str | Path, size: int = 4096, seed: int = 3) -> Path:
    """Random bytes with a .wav name (a damaged or mislabelled upload)."""
    p = Path(path)
    p.write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    return p


def write_truncated(path: str | Path, seconds: float = 2.0, keep: float = 0.5) -> Path:
    """A valid 8 kHz WAV cut after `keep` of its bytes: the header promises more than is there."""
    p = write_wav(path, tone(seconds))
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * keep)])
    return p


def write_header_only(path: str | Path, fmt_tag: int = 1, bits: int = 16, channels: int = 1,
                      rate: int = PHONE_RATE, data: bytes = b"") -> Path:
    """A WAV with any format tag (e.g. 0x31 GSM) and the given data bytes."""
    block = channels * max(bits // 8, 1)
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    p = Path(path)
    p.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return p
