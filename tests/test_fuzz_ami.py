"""Fuzzing the AMI frame parser and the AGI result decoder: whatever arrives on the wire,
the parser returns messages or records FrameErrors (one line each) and goes on; the AGI
decoder returns a result or raises AgiError (one line). Nothing else escapes."""

from __future__ import annotations

from fuzzing import EXAMPLES, FUZZ, TAPE, Clock, Tape, one_line
from hypothesis import given

from pbx.agi import AgiError, parse_agi_result, parse_env
from pbx.protocol import FrameError, FrameParser, Message, agi_decode, agi_encode, parse_frame

FRAMES = [
    b"Event: AsyncAGIStart\r\nPrivilege: agi,all\r\nChannel: SIP/caller-00000001\r\n"
    b"Env: agi_request%3A%20async%0Aagi_channel%3A%20SIP%2Fcaller-00000001%0A%0A\r\nUniqueid: 1795335220.0\r\n\r\n",
    b"Response: Success\r\nActionID: 7\r\nMessage: Added AGI command to queue\r\n\r\n",
    b"Event: AsyncAGIExec\r\nChannel: SIP/caller-00000001\r\nCommandID: 12\r\nResult: 200%20result%3D0%0A\r\n\r\n",
    b"Event: Hangup\r\nUniqueid: 1.2\r\nCause: 16\r\nCause-txt: Normal Clearing\r\nAccountCode: \r\n\r\n",
    b"Response: Follows\r\nPrivilege: Command\r\nOutput: line one\r\nOutput: line two\r\n\r\n",
]


def test_fuzz_frame_parser() -> None:
    seen = 0

    @FUZZ
    @given(TAPE)
    def one(data: bytes) -> None:
        nonlocal seen
        seen += 1
        tape = Tape(data)
        banner = tape.byte() % 2 == 0
        wire = b"".join(tape.pick(FRAMES) for _ in range(1 + tape.byte() % 3))
        wire = (b"Asterisk Call Manager/9.0.0\r\n" if banner else b"") + tape.mutate(wire)
        parser = FrameParser(expect_banner=banner)
        out: list[Message] = []
        pos = 0
        while pos < len(wire):  # TCP reads in any cut
            cut = 1 + tape.byte() % 97 if tape.i < len(data) else len(wire)
            out += parser.feed(wire[pos:pos + cut])
            pos += cut
        for m in out:
            assert m.fields and all(isinstance(k, str) and isinstance(v, str) for k, v in m.fields)
        for err in parser.errors:
            assert isinstance(err, FrameError)
            one_line(err)
        try:
            parse_frame(wire)
        except FrameError as exc:
            one_line(exc)

    with Clock() as clock:
        one()
    clock.report("AMI frame parser", seen)
    assert seen >= EXAMPLES


RESULTS = ["200 result=0\n", "200 result=-1 endpos=1234\n", "200 result=1 (timeout)\n", "200 result= (timeout)\n",
           "510 Invalid or unknown command\n", "511 Command Not Permitted on a dead channel or intercept routine\n",
           "520-Invalid command syntax.  Proper usage follows:\n", "200 result=50 endpos=8000\n",
           "200 result=0 (NOANSWER)\n", "200 result=1 (SIP/agent1001)\n"]


ALPHABET = "0125 -=()\n%aA²³٣"


def test_fuzz_agi_result_decoder() -> None:
    seen = 0

    @FUZZ
    @given(TAPE)
    def one(data: bytes) -> None:
        nonlocal seen
        seen += 1
        tape = Tape(data)
        how = tape.byte() % 4
        raw = tape.mutate(tape.pick(RESULTS).encode()).decode("utf-8", "replace")
        # what AMI carries (encoded), the text straight in, raw bytes as text, or text from an
        # alphabet of the characters the decoder looks at (with digits that are not ASCII)
        wire = (agi_encode(raw) if how == 0 else raw if how == 1 else data.decode("latin-1") if how == 2
                else "".join(ALPHABET[b % len(ALPHABET)] for b in data[1:]))
        try:
            result = parse_agi_result(wire)
        except AgiError as exc:
            one_line(exc)
        else:
            assert 0 <= result.code <= 999
            _ = (result.ok, result.hungup, result.digit, result.ascii_digit, result.message)
        assert isinstance(agi_decode(wire), str)
        assert all(isinstance(k, str) for k in parse_env(wire))

    with Clock() as clock:
        one()
    clock.report("AGI result decoder", seen)
    assert seen >= EXAMPLES
