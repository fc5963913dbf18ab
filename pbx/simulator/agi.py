"""Executing Async AGI commands the way res_agi.c (Asterisk 20) does.

Each command gets AGIExecStart (with Asterisk's own random CommandId), runs, then
AGIExecEnd (ResultCode/Result word from the handler's status) and AsyncAGIExec (the
response line URL-encoded, trailing newline included, and the client's CommandID
echoed as ``CommandId``, only when it sent one).

Results follow res_agi.c and the traces: STREAM FILE ``result=0 endpos=N``, an escape
digit gives its ASCII code, a hangup ``-1`` (AGIExecEnd ``-1 Failure``). A prompt that
cannot be opened gives ``200 result=-1 endpos=0`` with RESULT_FAILURE, and a failure
that is not a hangup makes Asterisk leave Async AGI (AsyncAGIEnd, AGISTATUS=FAILURE,
then the dialplan's next priority, ``Hangup()``), exactly as handle_streamfile does.
GET DATA returns the digits themselves (``(timeout)`` appended on timeout) and
``result=-1`` for a missing prompt without leaving AGI (ast_app_getdata_full).
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pbx.protocol import agi_encode
from pbx.simulator import apps

if TYPE_CHECKING:
    from pbx.simulator.call import SimCall

log = logging.getLogger("pbx.simulator")

SUCCESS, FAILURE, USAGE, BREAK = "success", "failure", "usage", "break"
ANY_DIGIT = "0123456789*#ABCD"
Result = tuple[object, str]  # (status or app return value, response line)
Handler = Callable[["SimCall", list[str]], Awaitable[Result]]


def parse_args(text: str) -> list[str]:
    """res_agi.c parse_args: blanks split, double quotes group, backslash escapes."""
    argv: list[list[str]] = []
    quoted = escaped = False
    whitespace = True
    for ch in text:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                argv.append([])
                whitespace = False
            continue
        if ch in " \t" and not quoted and not escaped:
            whitespace = True
            continue
        if ch == "\\" and not escaped:
            escaped = True
            continue
        if whitespace:
            argv.append([])
            whitespace = False
        argv[-1].append(ch)
        escaped = False
    return ["".join(a) for a in argv]


async def execute(call: SimCall, command: str, command_id: str) -> str:
    """Run one queued command; returns "ok", "failure" or "break" for the AGI loop."""
    chan = call.chan
    exec_id = str(random.randint(1, 2**31 - 1))
    call.emit(chan.event("AGIExecStart", "agi,all", ("CommandId", exec_id), ("Command", command)))
    argv = parse_args(command)
    handler, words = _find(argv)
    outcome = "ok"
    if handler is None:
        code, word, line = "510", "Invalid or unknown command", "510 Invalid or unknown command\n"
    else:
        try:
            status, line = await handler(call, argv)
        except (ValueError, IndexError):
            status, line = USAGE, ""
        if status == USAGE:
            code, word = "520", "Usage"
            line = ("520-Invalid command syntax.  Proper usage follows:\n"
                    f"Usage: {' '.join(w.upper() for w in words)} {_SYNTAX.get(words, '')}\n"
                    "520 End of proper usage.\n")  # fmt: skip
        elif status == FAILURE:
            code, word, outcome = "-1", "Failure", "failure"
        elif status in (SUCCESS, BREAK, 0):
            code, word = "200", "Success"
            outcome = "break" if status == BREAK else "ok"
        else:  # an EXEC'd application's own return value (-1, -2, ...)
            code, word = "200", "Unknown Result"
    call.emit(chan.event("AGIExecEnd", "agi,all", ("CommandId", exec_id), ("Command", command),
                         ("ResultCode", code), ("Result", word)))  # fmt: skip
    encoded = agi_encode(line.encode("utf-8")[:1024].decode("utf-8", "ignore"))[:2047]
    extra = [("CommandId", command_id)] if command_id else []
    call.emit(chan.event("AsyncAGIExec", "agi,all", ("Result", encoded), *extra))
    return outcome


# -- handlers ---------------------------------------------------------------------------------
async def _answer(call: SimCall, argv: list[str]) -> Result:
    call.answer()
    return SUCCESS, "200 result=0\n"


async def _asyncagi_break(call: SimCall, argv: list[str]) -> Result:
    return BREAK, "200 result=0\n"


async def _stream_file(call: SimCall, argv: list[str]) -> Result:
    if not 4 <= len(argv) <= 5:
        return USAGE, ""
    offset = int(argv[4]) if len(argv) > 4 else 0
    played = await call.play(argv[2], escape=argv[3], offset=offset)
    if played is None:
        return FAILURE, f"200 result=-1 endpos={offset}\n"
    outcome, endpos = played
    res = -1 if outcome is None else (ord(outcome) if outcome else 0)
    call.varset(call.chan, "PLAYBACKSTATUS", "SUCCESS" if res == 0 else "FAILED")
    return (SUCCESS if res >= 0 else FAILURE), f"200 result={res} endpos={endpos}\n"


async def _control_stream_file(call: SimCall, argv: list[str]) -> Result:
    if len(argv) < 4:
        return USAGE, ""
    played = await call.play(argv[3], escape=argv[4] if len(argv) > 4 else "")
    if played is None:
        return FAILURE, "200 result=-1\n"
    res = -1 if played[0] is None else (ord(played[0]) if played[0] else 0)
    return (SUCCESS if res >= 0 else FAILURE), f"200 result={res}\n"


async def _get_option(call: SimCall, argv: list[str]) -> Result:
    if not 4 <= len(argv) <= 5:
        return USAGE, ""
    escape = argv[3]
    timeout = int(argv[4]) if len(argv) == 5 else 5000
    played = await call.play(argv[2], escape=escape)
    if played is None:
        return FAILURE, "200 result=-1 endpos=0\n"
    outcome, endpos = played
    res = -1 if outcome is None else (ord(outcome) if outcome else 0)
    if res == 0:
        kind, digit = await call.wait(timeout / 1000 if timeout >= 0 else None, digits=ANY_DIGIT)
        res = -1 if kind in ("end", "redirect") else (ord(digit) if kind == "digit" and digit in escape else 0)
    return (SUCCESS if res >= 0 else FAILURE), f"200 result={res} endpos={endpos}\n"


async def _get_data(call: SimCall, argv: list[str]) -> Result:
    if len(argv) < 3:
        return USAGE, ""
    timeout = int(argv[3]) if len(argv) >= 4 else 0
    maxlen = int(argv[4]) if len(argv) >= 5 else 1024
    first, later = (timeout, timeout) if timeout > 0 else ((6000, 2000) if timeout == 0 else (10**9, 10**9))
    digits = ""
    pending = ""  # a digit that stopped the prompt
    if argv[2]:
        played = await call.play(argv[2], escape=ANY_DIGIT)
        if played is None:
            return SUCCESS, "200 result=-1\n"
        if played[0] is None:
            return SUCCESS, "200 result=-1\n"
        pending = played[0]
    if maxlen <= 0:
        return SUCCESS, "200 result=-1\n"
    wait_ms = first
    while True:
        if pending:
            kind, d = "digit", pending
            pending = ""
        else:
            kind, d = await call.wait(wait_ms / 1000, digits=ANY_DIGIT)
        if kind in ("end", "redirect"):
            return SUCCESS, "200 result=-1\n"
        if kind == "timeout":
            return SUCCESS, f"200 result={digits} (timeout)\n"
        if d == "#":
            return SUCCESS, f"200 result={digits}\n"
        digits += d
        if len(digits) >= maxlen:
            return SUCCESS, f"200 result={digits}\n"
        wait_ms = later


async def _wait_for_digit(call: SimCall, argv: list[str]) -> Result:
    if len(argv) != 4:
        return USAGE, ""
    timeout = int(argv[3])
    kind, digit = await call.wait(timeout / 1000 if timeout >= 0 else None, digits=ANY_DIGIT)
    res = ord(digit) if kind == "digit" else (0 if kind == "timeout" else -1)
    return (SUCCESS if res >= 0 else FAILURE), f"200 result={res}\n"


async def _get_variable(call: SimCall, argv: list[str]) -> Result:
    if len(argv) != 3:
        return USAGE, ""
    value = call.sim.read_variable(call.chan, argv[2])
    return SUCCESS, ("200 result=0\n" if value is None else f"200 result=1 ({value})\n")


async def _get_full_variable(call: SimCall, argv: list[str]) -> Result:
    if len(argv) not in (4, 5):
        return USAGE, ""
    chan = call.chan if len(argv) == 4 else call.sim.find_channel(argv[4])
    if chan is None:
        return SUCCESS, "200 result=0\n"
    text = re.sub(r"\$\{([^}]*)\}", lambda m: call.sim.read_variable(chan, m.group(1)) or "", argv[3])
    return SUCCESS, f"200 result=1 ({text})\n"


async def _set_variable(call: SimCall, argv: list[str]) -> Result:
    if len(argv) != 4:
        return USAGE, ""
    call.sim.write_variable(call.chan, argv[2], argv[3])
    return SUCCESS, "200 result=1\n"


async def _hangup(call: SimCall, argv: list[str]) -> Result:
    if len(argv) == 1:
        call.soft_hangup()
        return SUCCESS, "200 result=1\n"
    if len(argv) == 2:
        target = call.sim.find_channel(argv[1])
        if target is None:
            return SUCCESS, "200 result=-1\n"
        call.sim.hangup_channel(target, None)
        return SUCCESS, "200 result=1\n"
    return USAGE, ""


async def _exec(call: SimCall, argv: list[str]) -> Result:
    if len(argv) < 2:
        return USAGE, ""
    res = await apps.run(call, argv[1], argv[2] if len(argv) > 2 else "")
    return res, f"200 result={res}\n"


async def _noop(call: SimCall, argv: list[str]) -> Result:
    return SUCCESS, "200 result=0\n"


async def _verbose(call: SimCall, argv: list[str]) -> Result:
    return (SUCCESS, "200 result=1\n") if len(argv) >= 2 else (USAGE, "")


async def _channel_status(call: SimCall, argv: list[str]) -> Result:
    if len(argv) == 2:
        return SUCCESS, f"200 result={call.chan.state}\n"
    if len(argv) == 3:
        chan = call.sim.find_channel(argv[2])
        return SUCCESS, (f"200 result={chan.state}\n" if chan else "200 result=-1\n")
    return USAGE, ""


async def _set_context(call: SimCall, argv: list[str]) -> Result:
    if len(argv) != 3:
        return USAGE, ""
    call.chan.context = argv[2]
    return SUCCESS, "200 result=0\n"


async def _set_extension(call: SimCall, argv: list[str]) -> Result:
    if len(argv) != 3:
        return USAGE, ""
    call.chan.exten = argv[2]
    return SUCCESS, "200 result=0\n"


async def _set_priority(call: SimCall, argv: list[str]) -> Result:
    if len(argv) != 3 or not argv[2].isdigit():
        return USAGE, ""
    call.chan.priority = int(argv[2])
    return SUCCESS, "200 result=0\n"


async def _set_music(call: SimCall, argv: list[str]) -> Result:
    return (SUCCESS, "200 result=0\n") if len(argv) >= 3 else (USAGE, "")


async def _set_autohangup(call: SimCall, argv: list[str]) -> Result:
    if len(argv) != 3:
        return USAGE, ""
    seconds = max(0.0, float(argv[2]))
    if seconds:
        call.at(call.now() + seconds, call.autohangup)
    return SUCCESS, "200 result=0\n"


async def _set_callerid(call: SimCall, argv: list[str]) -> Result:
    if len(argv) != 3:
        return USAGE, ""
    m = re.match(r'\s*"?([^"<]*)"?\s*<([^>]*)>', argv[2])
    name, num = (m.group(1).strip(), m.group(2)) if m else ("", argv[2])
    call.chan.caller_num = num or call.chan.caller_num
    call.chan.caller_name = name or call.chan.caller_name
    call.chan.publish()  # ast_set_callerid publishes a snapshot
    return SUCCESS, "200 result=1\n"


async def _say_digits(call: SimCall, argv: list[str]) -> Result:
    if len(argv) != 4 or not argv[2].lstrip("-").isdigit():
        return USAGE, ""
    for ch in argv[2].lstrip("-"):
        played = await call.play(f"digits/{ch}", escape=argv[3])
        if played is None or played[0] is None:  # no stock sounds installed: ast_say fails
            return FAILURE, "200 result=-1\n"
        if played[0]:
            return SUCCESS, f"200 result={ord(played[0])}\n"
    return SUCCESS, "200 result=0\n"


async def _database(call: SimCall, argv: list[str]) -> Result:
    db = call.sim.astdb
    op = argv[1].lower()
    if op == "put" and len(argv) == 5:
        db[(argv[2], argv[3])] = argv[4]
        return SUCCESS, "200 result=1\n"
    if op == "get" and len(argv) == 4:
        value = db.get((argv[2], argv[3]))
        return SUCCESS, ("200 result=0\n" if value is None else f"200 result=1 ({value})\n")
    if op == "del" and len(argv) == 4:
        return SUCCESS, ("200 result=1\n" if db.pop((argv[2], argv[3]), None) is not None else "200 result=0\n")
    return USAGE, ""


_COMMANDS: dict[tuple[str, ...], Handler] = {
    ("answer",): _answer,
    ("asyncagi", "break"): _asyncagi_break,
    ("channel", "status"): _channel_status,
    ("control", "stream", "file"): _control_stream_file,
    ("database", "del"): _database,
    ("database", "get"): _database,
    ("database", "put"): _database,
    ("exec",): _exec,
    ("get", "data"): _get_data,
    ("get", "full", "variable"): _get_full_variable,
    ("get", "option"): _get_option,
    ("get", "variable"): _get_variable,
    ("hangup",): _hangup,
    ("noop",): _noop,
    ("say", "digits"): _say_digits,
    ("say", "number"): _say_digits,
    ("set", "autohangup"): _set_autohangup,
    ("set", "callerid"): _set_callerid,
    ("set", "context"): _set_context,
    ("set", "extension"): _set_extension,
    ("set", "music"): _set_music,
    ("set", "priority"): _set_priority,
    ("set", "variable"): _set_variable,
    ("stream", "file"): _stream_file,
    ("verbose",): _verbose,
    ("wait", "for", "digit"): _wait_for_digit,
}
_SYNTAX = {
    ("stream", "file"): "FILENAME ESCAPE_DIGITS [SAMPLE OFFSET]",
    ("get", "data"): "FILE [TIMEOUT] [MAXDIGITS]",
    ("wait", "for", "digit"): "TIMEOUT",
    ("get", "variable"): "VARIABLENAME",
    ("set", "variable"): "VARIABLENAME VALUE",
    ("exec",): "APPLICATION OPTIONS",
    ("get", "option"): "FILENAME ESCAPE_DIGITS [TIMEOUT]",
}


def _find(argv: list[str]) -> tuple[Handler | None, tuple[str, ...]]:
    words = tuple(a.lower() for a in argv)
    for n in (3, 2, 1):
        key = words[:n]
        if len(key) == n and key in _COMMANDS:
            return _COMMANDS[key], key
    if words:
        log.warning("simulator: AGI command %r is not implemented (answered like an unknown one)", " ".join(argv))
    return None, ()
