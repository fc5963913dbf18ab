"""After the batch: every SIP party played its part, no call or channel is left open, serve logged no error."""

from __future__ import annotations

import pytest
from pbx_batch import Batch

pytestmark = pytest.mark.pbx


def test_sipp_callers_and_agents_saw_what_they_expected(batch: Batch) -> None:
    # A caller waiting for Asterisk's BYE that never came, a BYE arriving before the caller's
    # own, an agent offered a call it was not scripted for: each fails that SIPp call.
    failed = {proc: errors[-3000:] for proc, (rc, errors) in batch.sipp.items() if rc != 0}
    assert not failed, "\n".join(f"--- {p} exited {batch.sipp[p][0]}\n{e}" for p, e in failed.items())


def test_every_call_closed_and_no_channel_left(batch: Batch) -> None:
    expected = {p.caller.number for p in batch.plans.values()} | set(batch.load)
    assert len(batch.calls) == len(expected), f"{len(batch.calls)} call log rows for {len(expected)} calls placed"
    assert set(batch.rows) == expected, f"no row for {sorted(expected - set(batch.rows))}"
    still = [(r["caller"], r["status"]) for r in batch.calls if r["ended_at"] is None or r["status"] != "ended"]
    assert not still, f"calls not closed: {still}\n{batch.context()}"
    channels = batch.lab.asterisk.cli("core show channels count")
    assert "0 active channels" in channels, channels


def test_serve_logged_one_line_per_call_and_no_error(batch: Batch) -> None:
    assert not batch.unlogged, f"serve never logged the end of the calls from {sorted(batch.unlogged)}"
    log = batch.log  # as the batch left it: test_pbx_coreshow and others call through this serve too
    bad = [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line or " WARNING " in line]
    assert not bad, "\n".join(bad[:20])
    ended = [line for line in log.splitlines() if "ivr.service: call " in line]
    assert len(ended) == len(batch.plans) + len(batch.load), "\n".join(ended)
