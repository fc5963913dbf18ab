"""Twenty calls at once, in the same batch as the scenario calls (so 27 are up together):
each is driven on its own, its digits go to its own menus, and its recordings are its own."""

from __future__ import annotations

import wave

import pytest
from pbx_batch import Batch
from pbx_checks import when
from pbx_media import find

from recordings.audio import PHONE_RATE, read_pcm16

pytestmark = pytest.mark.pbx


def test_twenty_concurrent_calls(batch: Batch) -> None:
    rows = {number: batch.rows.get(number) for number in batch.load}
    assert all(rows.values()), f"no call log row for {[n for n, r in rows.items() if r is None]}\n{batch.context()}"
    spans = [(when(r["started_at"]), when(r["ended_at"])) for r in rows.values() if r and r["ended_at"]]
    assert len(spans) == len(rows), f"calls still open: {[n for n, r in rows.items() if r and not r['ended_at']]}"
    assert max(s for s, _ in spans) < min(e for _, e in spans), "the 20 calls were never all up at once"
    wrong = {}
    for number, (_, path) in batch.load.items():
        r = rows[number]
        assert r is not None
        got = (r["status"], r["path"], r["route"], r["hangup_by"], r["error"])
        if got != ("ended", path, "hangup", "system", None):
            wrong[number] = got
    assert not wrong, f"calls that went wrong (status, path, route, hung up by, error): {wrong}\n{batch.context()}"
    phrase = batch.say["load"].pcm
    for number, r in rows.items():
        assert r is not None
        files = [batch.lab.recordings / f"{r['uniqueid']}{suffix}.wav" for suffix in ("", "-rx", "-tx")]
        for f in files:
            with wave.open(str(f)) as w:
                assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, PHONE_RATE), f
        caller, heard = read_pcm16(files[1]), read_pcm16(files[2])
        on_rx = find(caller, phrase, 0.0, 1.0 + 2.5)
        assert on_rx.present, f"{number}: its words not on its caller track ({on_rx.found}/{on_rx.voiced} pieces)"
        on_tx = find(heard, phrase, 0.0, heard.size / PHONE_RATE)
        assert on_tx.absent, f"{number}: its words on the agent track ({on_tx.found}/{on_tx.voiced} pieces)"
