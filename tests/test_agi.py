"""Async AGI: result decoding against every recorded AsyncAGIExec, command text as the
traces send it, and AsyncAgi over real TCP (recorded sessions replayed, plus a
scripted server built from recorded frames for concurrency and failure cases)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from test_ami_client import TraceServer, client_for, load_script, recorded_frame, run, until

from pbx.agi import (
    AgiError,
    AgiResult,
    AgiTimeout,
    AsyncAgi,
    ChannelGone,
    answer,
    asyncagi_break,
    exec_,
    get_data,
    get_variable,
    hangup,
    parse_agi_result,
    parse_env,
    set_variable,
    stream_file,
    wait_for_digit,
)
from pbx.ami import AmiClient, AmiConnectionError
from pbx.protocol import FrameParser, Message, agi_encode, encode_frame

FIXTURES = Path(__file__).parent / "fixtures" / "asterisk"
SCENARIOS = sorted(p.name[: -len(".jsonl")] for p in FIXTURES.glob("*.jsonl") if ".chunks." not in p.name)

# Written from the README's tables (what Asterisk answered), not from the parser:
# CommandID -> (result, data, endpos). Every one had code 200.
EXPECTED: dict[str, tuple[str, str | None, int | None]] = {
    "k-cmd1": ("0", None, None), "k-cmd2": ("0", None, None),
    "c-cmd1": ("0", None, None), "c-cmd2": ("-1", None, 11840),
    "na-cmd1": ("0", None, None), "na-cmd2": ("0", None, None), "na-cmd3": ("1", "NOANSWER", None),
    "na-cmd4": ("0", None, 6591), "na-cmd5": ("1", None, None),
    "b-cmd1": ("0", None, None), "b-cmd2": ("0", None, None), "b-cmd3": ("1", "5551230001", None),
    "b-cmd4": ("0", None, 29525), "b-cmd5": ("2", None, None), "b-cmd6": ("1", None, None),
    "b-cmd7": ("-1", None, None),
    "r-cmd1": ("0", None, None), "r-cmd2": ("0", None, 29525), "r-cmd3": ("2", None, None),
    "mt-cmd1": ("0", None, None), "mt-cmd2": ("0", None, None), "mt-cmd3": ("0", None, 29525),
    "d-cmd1": ("0", None, None), "d-cmd2": ("", "timeout", None), "d-cmd3": ("0", None, None),
    "d-cmd4": ("9", None, None), "d-cmd5": ("0", None, 17050), "d-cmd6": ("0", None, 6591),
    "d-cmd7": ("1", None, None),
    "qa-cmd1": ("0", None, None), "qa-cmd2": ("-1", None, None), "qa-cmd3": ("0", None, None),
    "qa-cmd4": ("0", None, None), "qa-cmd5": ("1", "4", None), "qa-cmd6": ("1", "6", None),
    "qa-cmd7": ("0", None, 6591), "qa-cmd8": ("1", None, None),
    "qc-cmd1": ("0", None, None), "qc-cmd2": ("-1", None, None),
    "e-cmd1": ("0", None, None),
    "ta-cmd1": ("0", None, None), "ta-cmd2": ("1", None, None), "ta-cmd3": ("50", None, None),
    "ta-cmd4": ("3", None, None), "ta-cmd5": ("0", None, None),
    "w-cmd1": ("0", None, None), "w-cmd2": ("50", None, None), "w-cmd3": ("49", None, 15840),
}  # fmt: skip

# What the caller pressed, per command kind: GET DATA gives the digit itself,
# WAIT FOR DIGIT / STREAM FILE its ASCII code.
PRESSED: dict[str, str | None] = {
    "b-cmd5": "2", "r-cmd3": "2", "d-cmd2": None, "d-cmd4": "9", "ta-cmd2": "1", "ta-cmd4": "3",
    "d-cmd3": None, "ta-cmd3": "2", "ta-cmd5": None, "w-cmd2": "2", "w-cmd3": "1",
    "c-cmd2": None, "b-cmd4": None, "d-cmd5": None,
}  # fmt: skip


def frames(name: str, direction: str) -> list[Message]:
    out = []
    for line in (FIXTURES / f"{name}.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["dir"] == direction and rec["kind"] == "frame":
            out.append(Message(tuple((k, v) for k, v in rec["fields"])))
    return out


def sent_commands() -> dict[str, str]:
    """CommandID -> Command text, as the recorded client sent them."""
    return {
        m["CommandID"]: m["Command"] for name in SCENARIOS for m in frames(name, "out") if m.name == "AGI"
    }


def all_exec_events() -> list[Message]:
    return [m for name in SCENARIOS for m in frames(name, "in") if m.event == "AsyncAGIExec"]


# ----- decoding ----------------------------------------------------------------------


def test_every_recorded_asyncagiexec_decodes_as_asterisk_meant() -> None:
    seen = set()
    for event in all_exec_events():
        command_id = event["CommandId"]  # lower-case d on the event
        res = parse_agi_result(event["Result"])
        result, data, endpos = EXPECTED[command_id]
        assert (res.code, res.result, res.data, res.endpos) == (200, result, data, endpos), command_id
        assert res.ok and res.raw.endswith("\n") and agi_encode(res.raw) == event["Result"]
        assert res.hungup == (result == "-1")
        seen.add(command_id)
    assert seen == set(EXPECTED)  # every command except c-cmd3, which got no AsyncAGIExec


def test_pressed_keys_read_the_right_way_per_command() -> None:
    commands = sent_commands()
    results = {e["CommandId"]: parse_agi_result(e["Result"]) for e in all_exec_events()}
    for command_id, key in PRESSED.items():
        res, text = results[command_id], commands[command_id]
        if text.startswith("GET DATA"):
            assert res.digit == key, command_id
        else:
            assert text.startswith(("WAIT FOR DIGIT", "STREAM FILE")), command_id
            assert res.ascii_digit == key, command_id
    # Reading a WAIT FOR DIGIT result the GET DATA way would be a real bug: '50' is not '2'.
    assert results["w-cmd2"].digit == "50"
    assert results["d-cmd2"].data == "timeout" and results["d-cmd2"].digit is None


def test_other_agi_response_codes() -> None:
    bad = parse_agi_result("510%20Invalid%20or%20unknown%20command%0A")
    assert (bad.code, bad.ok, bad.result, bad.message) == (510, False, "", "Invalid or unknown command")
    dead = parse_agi_result(agi_encode("511 Command Not Permitted on a dead channel or intercept routine\n"))
    assert dead.code == 511 and dead.digit is None and dead.ascii_digit is None
    usage = parse_agi_result(agi_encode("520-Invalid command syntax.  Proper usage follows:\nx\n520 End\n"))
    assert usage.code == 520
    record = parse_agi_result(agi_encode("200 result=0 (timeout) endpos=8000\n"))
    assert (record.result, record.data, record.endpos) == ("0", "timeout", 8000)
    spaced = parse_agi_result(agi_encode("200 result=1 (Test Caller (VIP))\n"))
    assert spaced.data == "Test Caller (VIP)"
    for junk in ("", "%0A", "hello%0A", "200%20nothing%0A"):
        with pytest.raises(AgiError):
            parse_agi_result(junk)


def test_every_recorded_env_decodes() -> None:
    starts = [m for name in SCENARIOS for m in frames(name, "in") if m.event == "AsyncAGIStart"]
    assert len(starts) == 12
    for start in starts:
        assert start["Env"].endswith("%0A%0A")
        env = parse_env(start["Env"])
        assert env["agi_request"] == "async"
        assert env["agi_channel"] == start["Channel"]
        assert env["agi_uniqueid"] == start["Uniqueid"]
        assert env["agi_version"] == "GIT-20-516d2c60ac"
        assert env["agi_callerid"] == "5551230001" and env["agi_calleridname"] == "Test Caller"
        assert env["agi_dnid"] == "400" and env["agi_context"] == "hotline"
        assert env["agi_accountcode"] == ""
        assert env["agi_threadid"].isdigit()


def test_command_text_matches_the_traces_exactly() -> None:
    made = {
        answer(), hangup(), asyncagi_break(),
        stream_file("custom/greeting"), stream_file("custom/greeting", "0123456789*#"),
        stream_file("custom/menu"), stream_file("custom/invalid"), stream_file("custom/goodbye"),
        get_data("custom/menu", 8000, 1), get_data("custom/menu", 3000, 1), get_data("custom/menu", 6000, 1),
        get_data("custom/greeting", 5000, 1),
        wait_for_digit(5000), wait_for_digit(3000), wait_for_digit(2000),
        exec_("Dial", "SIP/agent1001,20"), exec_("Dial", "SIP/agent1002,5"), exec_("Queue", "support"),
        exec_("MixMonitor", "/var/spool/asterisk/monitor/inbound-call-dial.wav"),
        exec_("MixMonitor", "/var/spool/asterisk/monitor/mixmonitor-tracks.wav,"
              "r(/var/spool/asterisk/monitor/mixmonitor-tracks-rx.wav)"
              "t(/var/spool/asterisk/monitor/mixmonitor-tracks-tx.wav)"),
        set_variable("HOTLINE_CHOICE", "2"),
        get_variable("CALLERID(num)"), get_variable("DIALSTATUS"), get_variable("QUEUESTATUS"),
        get_variable("ANSWEREDTIME"), get_variable("QUEUEWAIT"),
    }  # fmt: skip
    assert made == set(sent_commands().values())


def test_arguments_asterisk_would_split_are_quoted() -> None:
    assert exec_("Playback", "custom/a b") == 'EXEC Playback "custom/a b"'
    assert set_variable("NOTE", 'say "hi"') == 'SET VARIABLE NOTE "say \\"hi\\""'
    assert set_variable("EMPTY", "") == 'SET VARIABLE EMPTY ""'
    assert exec_("Answer") == "EXEC Answer"
    assert stream_file("custom/greeting", "#", offset=800) == 'STREAM FILE custom/greeting "#" 800'
    assert get_data("custom/menu") == "GET DATA custom/menu"
    assert wait_for_digit() == "WAIT FOR DIGIT -1"
    with pytest.raises(ValueError):
        get_data("custom/menu", max_digits=1)


# ----- AsyncAgi over recorded sessions ------------------------------------------------

AGI_SCENARIOS = [n for n in SCENARIOS if any(m.name == "AGI" for m in frames(n, "out"))]


@pytest.mark.parametrize("name", AGI_SCENARIOS)
def test_recorded_session_through_client_and_async_agi(name: str) -> None:
    """Replay the session: our client sends what the recorded client sent (with its own
    ids) and must get every AGI result, matched by its own CommandID."""
    script = load_script(name)

    async def main() -> dict[str, AgiResult | Exception]:
        got: dict[str, AgiResult | Exception] = {}
        async with TraceServer(script) as server:
            client = client_for(server)
            agi = AsyncAgi(client, id_prefix="ours")
            lost: list[str] = []
            client.on_disconnect(lost.append)
            await client.connect()
            for step in script.steps[1:]:
                action = step.action
                if action.name == "AGI":
                    try:
                        got[action["CommandID"]] = await agi.command(action["Channel"], action["Command"],
                                                                     timeout=5.0)
                    except ChannelGone as exc:
                        got[action["CommandID"]] = exc
                elif action.name == "Logoff":
                    await client.close()
                else:
                    fields = dict(action.fields[2:])
                    if action.name in ("CoreShowChannels", "Status"):
                        await client.action_list(action.name, **fields)
                    else:
                        assert (await client.action(action.name, **fields)).name == "Success"
            if name == "shutdown-while-connected":
                await until(lambda: bool(lost))
            await client.close()
            assert server.mismatched == [] and server.unexpected == []
            # Only the command to the hung-up channel is not sent: AsyncAgi saw its AsyncAGIEnd.
            assert [s.action.get("CommandID") for s in server.skipped] == (
                ["c-cmd3"] if name == "caller-hangup-during-greeting" else [])
            assert agi.pending() == 0
        return got

    got = run(main())
    ids = [m["CommandID"] for m in frames(name, "out") if m.name == "AGI"]
    assert list(got) == ids
    for command_id, res in got.items():
        if command_id == "c-cmd3":  # after the caller hung up during the greeting
            # Asterisk answered "Channel ... does not exist."; we know before asking.
            assert isinstance(res, ChannelGone) and res.channel == "SIP/caller-00000004"
            continue
        assert isinstance(res, AgiResult), (command_id, res)
        assert (res.result, res.data, res.endpos) == EXPECTED[command_id], command_id


# ----- AsyncAgi against a scripted server built from recorded frames -------------------

Behaviour = Callable[[str, str], "tuple[float, str] | None"]

LOGIN_OK = recorded_frame("login-success", lambda m: m.get("Message") == "Authentication accepted")
GOODBYE = recorded_frame("login-success", lambda m: m.name == "Goodbye")
QUEUED = recorded_frame("inbound-call-dial", lambda m: m.get("Message") == "Added AGI command to queue")
NO_CHANNEL = recorded_frame("caller-hangup-during-greeting", lambda m: "does not exist" in (m.get("Message") or ""))
EXEC = recorded_frame("inbound-call-dial", lambda m: m.event == "AsyncAGIExec")
END = recorded_frame("inbound-call-dial", lambda m: m.event == "AsyncAGIEnd")
START = recorded_frame("inbound-call-dial", lambda m: m.event == "AsyncAGIStart")


def retemplate(template: Message, **changes: str) -> bytes:
    return encode_frame((k, changes.get(k, v)) for k, v in template.fields)


class AgiServer:
    """Answers Login/Logoff/AGI like Asterisk; ``behaviour(channel, command)`` gives
    (delay, result line) for each command, or None for a command that never returns."""

    def __init__(self, behaviour: Behaviour, *, gone: frozenset[str] = frozenset(),
                 result_first: bool = False) -> None:
        self.behaviour = behaviour
        self.gone = gone
        self.result_first = result_first
        self.commands: list[str] = []
        self.port = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> AgiServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self.drop()
        await self._server.wait_closed()

    def drop(self) -> None:
        for writer in self._writers:
            writer.transport.abort()

    def end(self, channel: str) -> None:
        for writer in self._writers:
            writer.write(retemplate(END, Channel=channel))

    def start(self, channel: str) -> None:
        for writer in self._writers:
            writer.write(retemplate(START, Channel=channel))

    async def _result(self, writer: asyncio.StreamWriter, delay: float, channel: str, cid: str,
                      line: str) -> None:
        await asyncio.sleep(delay)
        writer.write(retemplate(EXEC, Channel=channel, CommandId=cid, Result=agi_encode(line)))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        parser = FrameParser(expect_banner=False)
        tasks = set()
        while data := await reader.read(65536):
            for msg in parser.feed(data):
                aid = msg["ActionID"]
                if msg.name == "Login":
                    writer.write(retemplate(LOGIN_OK, ActionID=aid))
                elif msg.name == "Logoff":
                    writer.write(retemplate(GOODBYE, ActionID=aid))
                    writer.close()
                    return
                elif msg["Channel"] in self.gone:
                    text = f"Channel {msg['Channel']} does not exist."
                    writer.write(retemplate(NO_CHANNEL, ActionID=aid, Message=text))
                else:
                    self.commands.append(msg["Command"])
                    plan = self.behaviour(msg["Channel"], msg["Command"])
                    result = None
                    if plan is not None:
                        result = self._result(writer, plan[0], msg["Channel"], msg["CommandID"], plan[1])
                    if result is not None and self.result_first:
                        await result
                        result = None
                    writer.write(retemplate(QUEUED, ActionID=aid))
                    if result is not None:
                        task = asyncio.ensure_future(result)
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)


async def agi_client(server: AgiServer) -> tuple[AmiClient, AsyncAgi]:
    client = AmiClient("127.0.0.1", server.port, "hotline", "hotline-secret", ping_interval=0,
                       backoff_min=0.05, backoff_max=0.1)
    agi = AsyncAgi(client)
    await client.connect()
    return client, agi


def test_slow_dial_never_blocks_other_channels() -> None:
    def behaviour(channel: str, command: str) -> tuple[float, str]:
        return (1.5, "200 result=-1\n") if command.startswith("EXEC Dial") else (0.01, "200 result=0\n")

    async def main() -> None:
        async with AgiServer(behaviour) as server:
            client, agi = await agi_client(server)
            loop = asyncio.get_running_loop()
            started = loop.time()
            dial = asyncio.ensure_future(agi.command("SIP/caller-00000001", exec_("Dial", "SIP/agent1001,20")))
            for text in (answer(), stream_file("custom/greeting"), get_data("custom/menu", 8000, 1)):
                res = await agi.command("SIP/caller-00000002", text)
                assert res.result == "0"
            assert loop.time() - started < 1.0 and not dial.done()
            assert agi.pending("SIP/caller-00000001") == 1
            assert (await dial).hungup
            await client.close()

    run(main())


def test_asyncagiend_fails_only_that_channels_commands() -> None:
    def behaviour(channel: str, command: str) -> tuple[float, str] | None:
        return None if channel.endswith("1") else (0.3, "200 result=1 (5551230001)\n")

    async def main() -> None:
        async with AgiServer(behaviour) as server:
            client, agi = await agi_client(server)
            stuck = asyncio.ensure_future(agi.command("SIP/caller-00000001", stream_file("custom/greeting")))
            other = asyncio.ensure_future(agi.command("SIP/caller-00000002", get_variable("CALLERID(num)")))
            await until(lambda: agi.pending() == 2)
            server.end("SIP/caller-00000001")
            with pytest.raises(ChannelGone) as info:
                await stuck
            assert info.value.channel == "SIP/caller-00000001"
            assert (await other).data == "5551230001"
            assert agi.pending() == 0
            # Later commands on that channel fail at once (after a Redirect Asterisk would
            # queue them and never run them), until a new AGI session starts on it.
            sent = len(server.commands)
            with pytest.raises(ChannelGone):
                await agi.command("SIP/caller-00000001", answer())
            assert len(server.commands) == sent
            server.start("SIP/caller-00000001")
            await asyncio.sleep(0.05)
            with pytest.raises(AgiTimeout):  # sent again; this server never answers channel 1
                await agi.command("SIP/caller-00000001", answer(), timeout=0.1)
            assert len(server.commands) == sent + 1
            await client.close()

    run(main())


def test_result_arriving_before_the_response_is_still_matched() -> None:
    async def main() -> None:
        async with AgiServer(lambda ch, cmd: (0.0, "200 result=50\n"), result_first=True) as server:
            client, agi = await agi_client(server)
            assert (await agi.command("SIP/caller-00000001", wait_for_digit(5000))).ascii_digit == "2"
            await client.close()

    run(main())


def test_command_on_a_gone_channel_raises_channel_gone() -> None:
    async def main() -> None:
        gone = frozenset({"SIP/caller-00000004"})
        async with AgiServer(lambda ch, cmd: (0.0, "200 result=0\n"), gone=gone) as server:
            client, agi = await agi_client(server)
            with pytest.raises(ChannelGone, match="does not exist"):
                await agi.command("SIP/caller-00000004", stream_file("custom/menu"))
            assert agi.pending() == 0 and client.connected
            await client.close()

    run(main())


def test_timeout_then_late_result_is_ignored() -> None:
    async def main() -> None:
        async with AgiServer(lambda ch, cmd: (0.4, "200 result=0\n")) as server:
            client, agi = await agi_client(server)
            with pytest.raises(AgiTimeout):
                await agi.command("SIP/caller-00000001", answer(), timeout=0.1)
            assert agi.pending() == 0
            await asyncio.sleep(0.5)  # the late AsyncAGIExec arrives and is dropped quietly
            assert client.connected and client.stats.errors == 0
            assert (await agi.command("SIP/caller-00000001", answer(), timeout=2.0)).ok
            await client.close()

    run(main())


def test_link_loss_fails_waiting_commands() -> None:
    async def main() -> None:
        async with AgiServer(lambda ch, cmd: None) as server:
            client, agi = await agi_client(server)
            waiting = asyncio.ensure_future(agi.command("SIP/caller-00000001", exec_("Queue", "support")))
            await until(lambda: agi.pending() == 1)
            await asyncio.sleep(0.05)
            server.drop()
            with pytest.raises(AmiConnectionError):
                await waiting
            await client.close()

    run(main())


def test_two_hundred_channels_at_once_each_get_their_own_result() -> None:
    def behaviour(channel: str, command: str) -> tuple[float, str]:
        # Answer in scrambled order so matching cannot rely on order.
        return (int(channel[-3:]) % 7 * 0.01, f"200 result=1 ({channel}|{command})\n")

    async def main() -> None:
        async with AgiServer(behaviour) as server:
            client, agi = await agi_client(server)

            async def call(n: int) -> None:
                channel = f"SIP/caller-{n:08d}"
                for text in (get_variable("CALLERID(num)"), get_variable("DIALSTATUS")):
                    assert (await agi.command(channel, text, timeout=10)).data == f"{channel}|{text}"

            await asyncio.gather(*(call(n) for n in range(200)))
            assert agi.pending() == 0
            await client.close()

    run(main())
