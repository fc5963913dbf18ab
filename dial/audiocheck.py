"""What a test call heard: pyVoIP's received audio made usable, and the greeting found in it.

Pure numpy, no SIP: kept apart from ``dial/sipcall.py`` so the checks can be tested and reused
on any recording (an operator's own capture of a call, say).
"""

from __future__ import annotations

import numpy as np

RATE = 8000
FRAME = 160  # samples per 20 ms RTP packet


def heard_pcm16(u8: bytes, covered: list[tuple[int, int]] | None = None) -> tuple[np.ndarray, int]:
    """pyVoIP's received buffer (8-bit unsigned, 0x80 = zero) as int16, gaps made silent.

    ``covered`` lists (first sample, count) that RTP packets filled; everything else is a gap
    that pyVoIP's BytesIO left as 0x00 (-128, full scale). Without it, runs of 0x00 of a
    frame or longer are taken as gaps (speech never holds full-scale negative for 20 ms).
    Returns the samples and how many were gap.
    """
    raw = np.frombuffer(u8, dtype=np.uint8)
    pcm = ((raw.astype(np.int16) - 128) << 8).astype(np.int16)
    gap = np.ones(raw.size, dtype=bool)
    if covered is not None:
        for start, count in covered:
            gap[max(start, 0) : start + count] = False
    else:
        gap[:] = False
        zero = np.concatenate(([0], (raw == 0).astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(zero))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            if stop - start >= FRAME:
                gap[start:stop] = True
    pcm[gap] = 0
    return pcm, int(gap.sum())


def greeting_match(
    heard: np.ndarray, prompt: np.ndarray, *, skip_s: float = 0.5, window_s: float = 2.0, max_late_s: float = 5.0
) -> tuple[float, float]:
    """Best normalised cross-correlation of the prompt's opening seconds within the heard audio.

    The template is ``prompt[skip_s : skip_s + window_s]`` (skipping the start, which pyVoIP
    may lose); it is searched in the first ``skip_s + window_s + max_late_s`` of ``heard``.
    Returns (correlation in [-1, 1], offset s): the offset is where the prompt's first
    sample falls in the recording (negative = the recording began after the prompt did).
    Gain-invariant, so line level does not matter; 0.0 if there is too little audio.
    """
    p = prompt.astype(np.float64)
    skip = int(skip_s * RATE) if p.size > int((skip_s + 0.5) * RATE) else 0
    width = min(int(window_s * RATE), p.size - skip)
    x = heard.astype(np.float64)[: skip + width + int(max_late_s * RATE)]
    if width < FRAME or x.size < width:
        return 0.0, 0.0
    t = p[skip : skip + width]
    t = t - t.mean()
    t_norm = float(np.sqrt(np.dot(t, t)))
    if t_norm == 0.0:
        return 0.0, 0.0
    n = 1 << int(np.ceil(np.log2(x.size + width)))
    corr = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(t, n)), n)[: x.size - width + 1]
    s1 = np.concatenate(([0.0], np.cumsum(x)))
    s2 = np.concatenate(([0.0], np.cumsum(x * x)))
    local_sum = s1[width:] - s1[:-width]
    local_var = (s2[width:] - s2[:-width]) - local_sum**2 / width  # sum of squares about the local mean
    den = t_norm * np.sqrt(np.maximum(local_var, 0.0))
    ncc = np.where(den > 1e-6 * t_norm * np.sqrt(width), corr / np.maximum(den, 1e-12), 0.0)
    best = int(np.argmax(ncc))
    return float(ncc[best]), (best - skip) / RATE
