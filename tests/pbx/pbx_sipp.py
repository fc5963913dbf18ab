"""SIPp callers and agents for the real-PBX tests, written as scenario files at run time.

The lab's Asterisk knows the caller only by its source address (peer ``caller``: 127.0.0.1
and one port), so every call of a run comes from ONE SIPp process bound to that port. The
calls differ by a line of an injection file (``-inf``): caller number, start delay, the
number dialled and a branch; the branch picks the call's media pcap (digits and speech)
and how it ends (own BYE after some seconds, or wait for Asterisk's BYE). The caller
number is how a test finds its call in ``hotline calls list`` (by its last four digits:
the call log masks the rest).

An agent is one SIPp UAS on the port it registered from. It answers (or never answers)
by the caller number in the INVITE's From (Asterisk gives the agent leg the caller's ID),
so one process plays a different part in each call. An unlisted caller rings forever:
the agent then takes the CANCEL (the queue gave the call to another agent, or Dial timed
out) and answers 487, as a real phone does.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pbx_lab import boosted
from pbx_media import Speech, make_pcap

SDP = """v=0
o={who} 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
"""


def _msg(text: str, **attrs: str) -> str:
    extra = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    return f"  <send{extra}>\n    <![CDATA[\n{text}\n    ]]>\n  </send>\n"


# ----- callers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """One scripted caller. Times are seconds from the answer (SIPp's ACK)."""

    number: str  # caller ID; unique within a session: how a test finds its call
    dtmf: tuple[tuple[str, float], ...] = ()
    speech: tuple[tuple[Speech, float], ...] = ()
    bye_at: float | None = None  # hang up then; None: wait for Asterisk's BYE
    start_s: float = 0.0  # delay before the INVITE
    did: str = "400"
    wait_max_s: float = 90.0  # longest wait for Asterisk's BYE

    @property
    def media_s(self) -> float:
        """Length of the media pcap: until the caller's BYE, or as long as it may wait for one.

        A phone sends RTP all the call long; a caller that fell silent on the wire while
        nobody played to it (a queue without hold music) would shorten the MixMonitor
        files, which record only when frames flow (seen: 2.5 s missing)."""
        return self.bye_at if self.bye_at is not None else self.wait_max_s

    @property
    def media_key(self) -> tuple[object, ...]:
        return (self.dtmf, tuple((s.ulaw, at) for s, at in self.speech), self.bye_at, self.wait_max_s)


_INVITE = """INVITE sip:[field2]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Test Caller" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[field2]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
User-Agent: Hotline pbx tests caller
Content-Type: application/sdp
Content-Length: [len]

""" + SDP.format(who="caller")

_IN_DIALOG = """{method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Test Caller" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[field2]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} {method}
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
"""

_OK = """SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:{user}@[local_ip]:[local_port]>
Content-Length: 0
"""


def caller_scenario(callers: list[Caller], folder: Path, mkpcap: Path) -> tuple[Path, Path]:
    """Write the callers' scenario, pcaps and injection file; return (scenario, injection file)."""
    folder.mkdir(parents=True, exist_ok=True)
    branches: dict[tuple[object, ...], int] = {}
    lines = ["SEQUENTIAL"]
    for c in callers:
        if c.media_key not in branches:
            branches[c.media_key] = len(branches)
        lines.append(f"{c.number};{int(c.start_s * 1000)};{c.did};{branches[c.media_key]}")
    first = {branches[c.media_key]: c for c in reversed(callers)}
    tests = "".join(f'      <test assign_to="b{i}" variable="branch" compare="equal" value="{i}"/>\n'
                    for i in range(len(branches)))
    x = ['<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="hotline callers">\n',
         "  <nop>\n    <action>\n",
         '      <assignstr assign_to="delay_s" value="[field1]"/>\n',
         '      <todouble assign_to="delay" variable="delay_s"/>\n',
         '      <assignstr assign_to="branch_s" value="[field3]"/>\n',
         '      <todouble assign_to="branch" variable="branch_s"/>\n',
         tests, "    </action>\n  </nop>\n",
         '  <pause variable="delay"/>\n',
         _msg(_INVITE, retrans="500"),
         '  <recv response="100" optional="true"/>\n',
         '  <recv response="180" optional="true"/>\n',
         '  <recv response="183" optional="true"/>\n',
         '  <recv response="200" rtd="true" rrs="true"/>\n',
         _msg(_IN_DIALOG.format(method="ACK", cseq=1))]  # fmt: skip
    x += [f'  <nop next="m{i}" test="b{i}"/>\n' for i in range(len(branches))]
    x.append('  <nop next="bye"/>\n')
    for i in range(len(branches)):
        c = first[i]
        pcap = make_pcap(mkpcap, folder / f"caller-{i}.pcap", c.media_s, c.dtmf, c.speech)
        x.append(f'  <label id="m{i}"/>\n  <nop>\n    <action>\n'
                 f'      <exec play_pcap_audio={quoteattr(str(pcap))}/>\n    </action>\n  </nop>\n')
        if c.bye_at is not None:
            x.append(f'  <pause milliseconds="{int(c.bye_at * 1000)}"/>\n  <nop next="bye"/>\n')
        else:
            x.append(f'  <recv request="BYE" timeout="{int(c.wait_max_s * 1000)}" next="byed"/>\n')
    x += ['  <label id="bye"/>\n', _msg(_IN_DIALOG.format(method="BYE", cseq=2), retrans="500"),
          '  <recv response="200" crlf="true" next="end"/>\n',
          '  <label id="byed"/>\n', _msg(_OK.format(user="[field0]")),
          '  <label id="end"/>\n  <pause milliseconds="0"/>\n</scenario>\n']
    scenario = folder / "callers.xml"
    scenario.write_text("".join(x), encoding="iso-8859-1")
    inf = folder / "callers.csv"
    inf.write_text("\n".join(lines) + "\n", encoding="ascii")
    return scenario, inf


# ----- agents ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What an agent does with a call from one caller number: ring, answer, talk, hang up or wait."""

    ring_s: float = 2.0
    speech: tuple[tuple[Speech, float], ...] = ()  # seconds from its answer
    bye_after_s: float | None = None  # hang up first this long after the answer; None: wait for BYE


@dataclass
class Agent:
    name: str  # agent1001
    secret: str
    port: int  # SIP port it registers from and answers on
    media_port: int
    answers: dict[str, Answer] = field(default_factory=dict)  # caller number -> Answer


_REGISTER = """REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{name}@[remote_ip]>;tag=[pid]reg[call_number]
To: <sip:{name}@[remote_ip]>
Call-ID: [call_id]
CSeq: {cseq} REGISTER
Contact: <sip:{name}@[local_ip]:[local_port]>
{auth}Expires: 3600
Max-Forwards: 70
User-Agent: Hotline pbx tests {name}
Content-Length: 0
"""


def register_scenario(agent: Agent, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    auth = f"[authentication username={agent.name} password={agent.secret}]\n"
    x = ['<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="register">\n',
         _msg(_REGISTER.format(name=agent.name, cseq=1, auth=""), retrans="500"),
         '  <recv response="401" auth="true"/>\n',
         _msg(_REGISTER.format(name=agent.name, cseq=2, auth=auth), retrans="500"),
         '  <recv response="200"/>\n</scenario>\n']  # fmt: skip
    path = folder / f"register-{agent.name}.xml"
    path.write_text("".join(x), encoding="iso-8859-1")
    return path


_RESPONSE = """SIP/2.0 {status}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
{cseq}
Contact: <sip:[service]@[local_ip]:[local_port]>
{body}"""


def _response(status: str, *, sdp: bool = False, cseq: str = "[last_CSeq:]") -> str:
    if sdp:
        body = "Content-Type: application/sdp\nContent-Length: [len]\n\n" + SDP.format(who="agent")
    else:
        body = "Content-Length: 0\n"
    return _RESPONSE.format(status=status, cseq=cseq, body=body)


_AGENT_BYE = """BYE [$remote_contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: [$local_uri];tag=[pid]SIPpTag01[call_number]
To: [$remote_from]
Call-ID: [call_id]
CSeq: 1 BYE
Contact: <sip:[service]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
"""


def agent_scenario(agent: Agent, folder: Path, mkpcap: Path) -> Path:
    """The agent's UAS scenario: one branch per listed caller number, else ring until CANCEL."""
    folder.mkdir(parents=True, exist_ok=True)
    numbers = sorted(agent.answers)
    hangs_up = any(a.bye_after_s is not None for a in agent.answers.values())
    acts = []
    if numbers:
        acts.append('      <ereg regexp="sip:[^@>;]+@" search_in="hdr" header="From:" check_it="true" '
                    'assign_to="caller"/>\n')
    if hangs_up:  # only a BYE of its own needs the dialog's addresses (SIPp refuses unused variables)
        acts += ['      <ereg regexp="sip:[^>]*" search_in="hdr" header="Contact:" check_it="true" '
                 'assign_to="remote_contact"/>\n',
                 '      <ereg regexp="[^ ].*" search_in="hdr" header="From:" check_it="true" '
                 'assign_to="remote_from"/>\n',
                 '      <ereg regexp="&lt;[^>]*&gt;" search_in="hdr" header="To:" check_it="true" '
                 'assign_to="local_uri"/>\n']  # fmt: skip
    acts.append('      <ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" check_it="true" assign_to="inv_cseq"/>\n')
    for i, num in enumerate(numbers):
        acts.append(f'      <strcmp assign_to="c{i}" variable="caller" value="sip:{num}@"/>\n'
                    f'      <test assign_to="b{i}" variable="c{i}" compare="equal" value="0"/>\n')
    x = [f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="{agent.name}">\n',
         '  <recv request="INVITE" crlf="true">\n    <action>\n', *acts, "    </action>\n  </recv>\n",
         _msg(_response("180 Ringing"))]  # fmt: skip
    x += [f'  <nop next="a{i}" test="b{i}"/>\n' for i in range(len(numbers))]
    # Anyone else: ring until the CANCEL, then 200 (CANCEL) + 487 (INVITE), as agent_noanswer.xml.
    x += ['  <recv request="CANCEL"/>\n', _msg(_response("200 OK")),
          _msg(_response("487 Request Terminated", cseq="CSeq: [$inv_cseq] INVITE")),
          '  <recv request="ACK" next="end"/>\n']
    for i, num in enumerate(numbers):
        a = agent.answers[num]
        x += [f'  <label id="a{i}"/>\n  <pause milliseconds="{int(a.ring_s * 1000)}"/>\n',
              _msg(_response("200 OK", sdp=True), retrans="500"), '  <recv request="ACK" crlf="true"/>\n']
        if a.speech:
            talk = max(at + s.seconds for s, at in a.speech) + 0.5
            if a.bye_after_s is not None:
                talk = max(talk, a.bye_after_s)
            pcap = make_pcap(mkpcap, folder / f"{agent.name}-{num}.pcap", talk, speech=a.speech)
            x.append(f'  <nop>\n    <action>\n      <exec play_pcap_audio={quoteattr(str(pcap))}/>\n'
                     '    </action>\n  </nop>\n')
        if a.bye_after_s is not None:
            x.append(f'  <pause milliseconds="{int(a.bye_after_s * 1000)}"/>\n  <nop next="hangup"/>\n')
        else:
            x.append('  <nop next="wait"/>\n')
    if hangs_up:
        x += ['  <label id="hangup"/>\n', _msg(_AGENT_BYE, retrans="500"),
              '  <recv response="200" crlf="true" next="end"/>\n']
    x += ['  <label id="wait"/>\n  <recv request="BYE"/>\n', _msg(_OK.format(user="[service]")),
          '  <label id="end"/>\n  <pause milliseconds="0"/>\n</scenario>\n']
    path = folder / f"{agent.name}.xml"
    path.write_text("".join(x), encoding="iso-8859-1")
    return path


# ----- running SIPp --------------------------------------------------------------------


@dataclass
class Sipp:
    """A running SIPp with its logs; ``finish()`` gives (exit status, the logs worth reading)."""

    name: str
    proc: subprocess.Popen[bytes]
    folder: Path

    def finish(self, timeout: float, *, stop: bool = False) -> int:
        if stop and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)  # stop taking calls; exit when the current ones end
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            return -9

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def errors(self, limit: int = 4000) -> str:
        out = []
        for f in sorted(self.folder.glob(f"{self.name}*")):
            if f.suffix in (".log", ".err", ".out") and f.stat().st_size:
                text = f.read_text(errors="replace")
                out.append(f"--- {f.name}\n{text[-limit:]}")
        return "\n".join(out)


def start_sipp(name: str, scenario: Path, folder: Path, *, port: int, media_port: int, remote: str,
               extra: list[str] | None = None) -> Sipp:
    """Start SIPp in ``folder`` with message, error and screen logs named after ``name``."""
    cmd = ["sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port), "-mi", "127.0.0.1",
           "-mp", str(media_port), "-nostdin", "-trace_err", "-error_file", str(folder / f"{name}.err"),
           "-trace_msg", "-message_file", str(folder / f"{name}.msg"),
           "-trace_screen", "-screen_file", str(folder / f"{name}.screen"), *(extra or []), remote]  # fmt: skip
    out = open(folder / f"{name}.out", "wb")  # noqa: SIM115 -- lives as long as the process
    proc = subprocess.Popen(boosted(cmd), cwd=folder, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env={**os.environ, "TERM": "dumb"})
    out.close()
    return Sipp(name, proc, folder)
