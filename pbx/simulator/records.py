"""Fixed-format records a call produces: the Cdr, the Async AGI environment, RTP QoS variables."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pbx.simulator.call import SimCall

AGI_VERSION = "GIT-20-516d2c60ac"  # the lab's `asterisk -V`, as agi_version shows it

# chan_sip sets these when an RTP stream ends (values from the real trace; they are noise).
RTP_QOS = (
    ("RTPAUDIOQOS", "ssrc=661576470;themssrc=439041101;lp=0;rxjitter=0.000000;rxcount=800;txjitter=0.000125;"
     "txcount=307;rlp=0;rtt=0.000000;rxmes=0.000000;txmes=88.087887"),
    ("RTPAUDIOQOSJITTER", "minrxjitter=000.000000;maxrxjitter=000.001000;avgrxjitter=000.000048;"
     "stdevrxjitter=000.000135;mintxjitter=000.000000;maxtxjitter=000.000000;avgtxjitter=000.000000;"
     "stdevtxjitter=000.000000;"),
    ("RTPAUDIOQOSLOSS", "  minrxlost=000.000000;  maxrxlost=000.000000;  avgrxlost=000.000000;  "
     "stdevrxlost=000.000000;  mintxlost=000.000000;  maxtxlost=000.000000;  avgtxlost=000.000000;  "
     "stdevtxlost=000.000000;"),
    ("RTPAUDIOQOSRTT", "     minrtt=000.000000;     maxrtt=000.000000;     avgrtt=000.000000;     "
     "stdevrtt=000.000000;"),
    ("RTPAUDIOQOSMES", "   minrxmes=088.087887;   maxrxmes=088.087887;   avgrxmes=088.087887;   "
     "stdevrxmes=000.000000;   mintxmes=000.000000;   maxtxmes=000.000000;   avgtxmes=000.000000;   "
     "stdevtxmes=000.000000;"),
)  # fmt: skip


def agi_env(call: SimCall) -> str:
    """AsyncAGIStart's Env before URL-encoding: ``agi_*`` lines as res_agi.c setup_env writes them."""
    c = call.chan
    lines = [
        ("agi_request", "async"), ("agi_channel", c.name), ("agi_language", c.language),
        ("agi_type", c.tech), ("agi_uniqueid", c.uniqueid), ("agi_version", AGI_VERSION),
        ("agi_callerid", c.caller_num if c.caller_num != "<unknown>" else "unknown"),
        ("agi_calleridname", c.caller_name if c.caller_name != "<unknown>" else "unknown"),
        ("agi_callingpres", "0"), ("agi_callingani2", "0"), ("agi_callington", "0"), ("agi_callingtns", "0"),
        ("agi_dnid", c.dnid or "unknown"), ("agi_rdnis", "unknown"), ("agi_context", c.context),
        ("agi_extension", c.exten), ("agi_priority", str(c.priority)), ("agi_enhanced", "0.0"),
        ("agi_accountcode", c.accountcode), ("agi_threadid", str(139827129046720 + 4096 * call.seq)),
    ]  # fmt: skip
    return "".join(f"{k}: {v}\n" for k, v in lines) + "\n"


def cdr_event(call: SimCall) -> list[tuple[str, str]]:
    """The Cdr event cdr_manager sends (fields in its order; times in call time from the answer)."""
    c = call.chan
    end = call.cdr_end if call.cdr_end is not None else call.now()
    start = call.start_wall
    answer = call.answer_wall
    fmt = "%Y-%m-%d %H:%M:%S"
    app, data = call.cdr_app
    return [
        ("Event", "Cdr"), ("Privilege", "cdr,all"), ("AccountCode", c.accountcode),
        ("Source", call.script.caller_num), ("Destination", c.exten), ("DestinationContext", c.context),
        ("CallerID", f'"{call.script.caller_name}" <{call.script.caller_num}>'), ("Channel", c.name),
        ("DestinationChannel", call.cdr_dest.name if call.cdr_dest else ""), ("LastApplication", app),
        ("LastData", data), ("StartTime", time.strftime(fmt, time.localtime(start))),
        ("AnswerTime", time.strftime(fmt, time.localtime(answer)) if answer else ""),
        ("EndTime", time.strftime(fmt, time.localtime(start + max(end, 0.0)))),
        ("Duration", str(int(max(end, 0.0)))), ("BillableSeconds", str(int(max(end, 0.0)) if answer else 0)),
        ("Disposition", call.cdr_disposition), ("AMAFlags", "DOCUMENTATION"), ("UniqueID", c.uniqueid),
        ("UserField", ""),
    ]  # fmt: skip
