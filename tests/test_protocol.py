"""The AMI frame codec against every byte recorded from a real Asterisk 20.

Each trace is replayed with the TCP read cuts Asterisk really produced
(``<name>.chunks.jsonl``), and the result must equal the per-frame fields the
recorder wrote down (``<name>.jsonl``) and re-encode to the wire bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pbx.protocol import (
    MAX_PENDING,
    FrameParser,
    Message,
    agi_decode,
    agi_encode,
    encode_frame,
    parse_frame,
)

FIXTURES = Path(__file__).parent / "fixtures" / "asterisk"
SCENARIOS = sorted(p.name[: -len(".jsonl")] for p in FIXTURES.glob("*.jsonl") if ".chunks." not in p.name)

Fields = tuple[tuple[str, str], ...]


def records(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / f"{name}.jsonl").read_text().splitlines()]


def chunks(name: str, direction: str) -> list[bytes]:
    out = []
    for line in (FIXTURES / f"{name}.chunks.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["dir"] == direction and rec["n"] > 0:
            data = rec["bytes"].encode("latin-1")
            assert len(data) == rec["n"]
            out.append(data)
    return out


def expected_frames(name: str, direction: str) -> list[Fields]:
    return [
        tuple((k, v) for k, v in rec["fields"])
        for rec in records(name)
        if rec["dir"] == direction and rec["kind"] == "frame"
    ]


def test_all_scenarios_present() -> None:
    # 16 recorded sessions; a lost fixture must not silently shrink the replay.
    assert len(SCENARIOS) == 16
    for name in SCENARIOS:
        for suffix in (".ami", ".sent.ami", ".chunks.jsonl"):
            assert (FIXTURES / f"{name}{suffix}").is_file()


@pytest.mark.parametrize("name", SCENARIOS)
def test_received_stream_replayed_with_real_read_cuts(name: str) -> None:
    wire = (FIXTURES / f"{name}.ami").read_bytes()
    reads = chunks(name, "in")
    assert b"".join(reads) == wire
    parser = FrameParser()
    got: list[Message] = []
    for data in reads:
        got.extend(parser.feed(data))
    assert parser.errors == []
    assert parser.pending == 0
    assert parser.banner == "Asterisk Call Manager/9.0.0"
    assert [m.fields for m in got] == expected_frames(name, "in")
    raws = [r["raw"].encode() for r in records(name) if r["dir"] == "in" and r["kind"] == "frame"]
    assert [m.encode() for m in got] == raws
    assert (parser.banner + "\r\n").encode() + b"".join(m.encode() for m in got) == wire


@pytest.mark.parametrize("name", SCENARIOS)
def test_sent_stream_parses_without_banner(name: str) -> None:
    wire = (FIXTURES / f"{name}.sent.ami").read_bytes()
    reads = chunks(name, "out")
    assert b"".join(reads) == wire
    parser = FrameParser(expect_banner=False)
    got = [m for data in reads for m in parser.feed(data)]
    assert parser.errors == [] and parser.pending == 0 and parser.banner is None
    assert [m.fields for m in got] == expected_frames(name, "out")
    assert all(m.kind == "action" for m in got)
    # The ActionID is the second line of every action we send, as in the traces.
    assert all(m.fields[1][0] == "ActionID" for m in got)
    assert b"".join(encode_frame(m.fields) for m in got) == wire


def test_killed_trace_really_has_a_split_frame() -> None:
    # The replay above is only worth something if a frame does straddle two reads.
    parser = FrameParser()
    held = []
    for data in chunks("killed-while-connected", "in"):
        parser.feed(data)
        held.append(parser.pending)
    assert max(held) == 55  # "Response: Success\r\nActionID: ...\r\n" waiting for its tail


def _all_in_bytes() -> tuple[bytes, list[Fields]]:
    body, frames = b"", []
    for name in SCENARIOS:
        wire = (FIXTURES / f"{name}.ami").read_bytes()
        body += wire[wire.index(b"\r\n") + 2 :]
        frames += expected_frames(name, "in")
    return body, frames


def test_every_trace_fed_one_byte_at_a_time() -> None:
    body, frames = _all_in_bytes()
    parser = FrameParser(expect_banner=False)
    got = []
    for i in range(len(body)):
        got.extend(parser.feed(body[i : i + 1]))
    assert [m.fields for m in got] == frames
    assert parser.errors == [] and parser.pending == 0


def test_every_trace_fed_in_one_read() -> None:
    body, frames = _all_in_bytes()
    parser = FrameParser()
    got = parser.feed(b"Asterisk Call Manager/9.0.0\r\n" + body)
    assert [m.fields for m in got] == frames


PING = (
    b"Response: Success\r\nActionID: t-2\r\nPing: Pong\r\nTimestamp: 1795335311.621273\r\n\r\n"
)
DTMF = (
    b"Event: DTMFEnd\r\nPrivilege: dtmf,all\r\nChannel: SIP/caller-00000000\r\nAccountCode: \r\n"
    b"Digit: 2\r\nDurationMs: 200\r\nDirection: Received\r\n\r\n"
)


def feed_all(parser: FrameParser, *parts: bytes) -> list[Message]:
    return [m for part in parts for m in parser.feed(part)]


def test_line_without_colon_skips_only_that_frame() -> None:
    bad = b"Event: Newstate\r\nthis line has no colon\r\nChannel: SIP/x\r\n\r\n"
    parser = FrameParser(expect_banner=False)
    got = feed_all(parser, PING, bad, DTMF)
    assert [m.name for m in got] == ["Success", "DTMFEnd"]
    assert len(parser.errors) == 1
    assert "this line has no colon" in str(parser.errors[0])
    assert got[1]["Digit"] == "2" and got[1]["AccountCode"] == ""


def test_garbage_bytes_between_frames_are_skipped() -> None:
    garbage = b"\x00\xff\xfe\x80\x01garbage\x07\r\n\r\n"
    parser = FrameParser(expect_banner=False)
    got = feed_all(parser, DTMF, garbage, PING)
    assert [m.name for m in got] == ["DTMFEnd", "Success"]
    assert len(parser.errors) == 1


def test_garbage_glued_to_a_frame_loses_that_frame_only() -> None:
    # Without a blank line the garbage and the next frame are one block: dropping
    # the block is the safe choice (its fields cannot be trusted), the stream resyncs.
    parser = FrameParser(expect_banner=False)
    got = feed_all(parser, b"\x16\x03\x01 TLS hello?\r\n" + DTMF, PING)
    assert [m.name for m in got] == ["Success"]
    assert len(parser.errors) == 1


def test_malformed_stream_split_at_every_byte_boundary() -> None:
    bad = b"Event: Broken\r\nno colon here\r\n\r\n"
    stream = DTMF + bad + b"\r\n" + PING + DTMF
    for cut in range(1, len(stream)):
        parser = FrameParser(expect_banner=False)
        got = feed_all(parser, stream[:cut], stream[cut:])
        assert [m.name for m in got] == ["DTMFEnd", "Success", "DTMFEnd"], cut
        assert len(parser.errors) == 1, cut
        assert parser.pending == 0


def test_banner_split_at_every_byte_boundary() -> None:
    stream = b"Asterisk Call Manager/9.0.0\r\n" + PING
    for cut in range(1, len(stream)):
        parser = FrameParser()
        got = feed_all(parser, stream[:cut], stream[cut:])
        assert parser.banner == "Asterisk Call Manager/9.0.0", cut
        assert [m["ActionID"] for m in got] == ["t-2"], cut


def test_unknown_event_is_an_ordinary_frame() -> None:
    unknown = b"Event: HotlineFutureThing\r\nPrivilege: call,all\r\nWeird-Key: a: b: c\r\nEmpty:\r\n\r\n"
    parser = FrameParser(expect_banner=False)
    got = feed_all(parser, unknown, DTMF)
    assert parser.errors == []
    assert got[0].event == "HotlineFutureThing"
    assert got[0].fields[2:] == (("Weird-Key", "a: b: c"), ("Empty", ""))
    assert got[1].event == "DTMFEnd"


def test_runaway_frame_is_dropped_and_stream_resyncs() -> None:
    parser = FrameParser(expect_banner=False)
    junk = b"X" * 65536
    for _ in range(MAX_PENDING // len(junk) + 1):
        assert parser.feed(junk) == []
    assert parser.pending < len(junk) and len(parser.errors) == 1
    got = feed_all(parser, b"\r\n\r\n", DTMF)
    assert [m.event for m in got] == ["DTMFEnd"]


def test_stray_blank_lines_and_bare_colon_are_tolerated() -> None:
    parser = FrameParser(expect_banner=False)
    got = feed_all(parser, b"\r\n\r\n", DTMF, b"\r\n", b"Response: Success\r\nActionID:x\r\n\r\n")
    assert [m.name for m in got] == ["DTMFEnd", "Success"]
    assert got[1]["ActionID"] == "x"
    assert parser.errors == []


def test_non_utf8_value_is_replaced_not_fatal() -> None:
    # A GBK-encoded caller name must not take the stream down.
    frame = b"Event: Newchannel\r\nCallerIDName: \xd5\xc5\xc8\xfd\r\n\r\n"
    parser = FrameParser(expect_banner=False)
    got = feed_all(parser, frame, DTMF)
    assert [m.event for m in got] == ["Newchannel", "DTMFEnd"]
    assert "\ufffd" in got[0]["CallerIDName"]


def test_message_lookup_duplicates_and_encoding() -> None:
    msg = parse_frame(
        b"Event: AsyncAGIExec\r\nCommandId: b-cmd1\r\nResult: 200%20result%3D0%0A\r\n"
        b"ChanVariable: A=1\r\nChanVariable: B=2"
    )
    assert msg.get("CommandID") == "b-cmd1"  # the event spells it CommandId
    assert msg.getall("chanvariable") == ["A=1", "B=2"]
    assert "Result" in msg and "Missing" not in msg
    assert msg.kind == "event" and msg.event == "AsyncAGIExec"
    with pytest.raises(KeyError):
        msg["Missing"]
    action = Message.of(("Action", "AGI"), ActionID="x-1", Channel="SIP/caller-00000000")
    assert action.encode() == b"Action: AGI\r\nActionID: x-1\r\nChannel: SIP/caller-00000000\r\n\r\n"
    assert action.event is None


@pytest.mark.parametrize("name", SCENARIOS)
def test_agi_url_encoding_round_trips_every_result_and_env(name: str) -> None:
    seen = 0
    for fields in expected_frames(name, "in"):
        msg = Message(fields)
        for key in ("Result", "Env"):
            value = msg.get(key) if msg.event in ("AsyncAGIExec", "AsyncAGIStart") else None
            if value is not None:
                assert agi_encode(agi_decode(value)) == value
                seen += 1
    if "login" in name or "killed" in name or "unauthenticated" in name:
        assert seen == 0
    else:
        assert seen >= 2
