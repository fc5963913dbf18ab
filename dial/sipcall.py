"""A real SIP test call through the PBX, on pyVoIP 1.6.8 with its faults fixed (``dial/pyvoip_fixes.py``).

``dial(DialOptions(...))`` calls the hotline number as a plain SIP phone: INVITE (answering a
401/407 digest challenge once), ACK, records what it hears, presses digits (RFC 2833 events on
the call's own RTP stream, or SIP INFO), hangs up after ``listen`` seconds unless the PBX hangs
up first, and returns a ``DialResult`` with the heard audio as 16-bit samples.
``greeting_match`` then says whether the opening-line prompt was what was heard.

pyVoIP's receive thread delivers the SIP responses and the PBX's BYE (``_Dialer.on_response``,
``on_bye``); everything else runs in the caller's thread. pyVoIP has no CANCEL and no INFO:
both are written here.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pyVoIP.VoIP import VoIP

from dial.audiocheck import RATE
from dial.pyvoip_fixes import DTMF_EVENTS, SIP, DialCall, DialPhone, DialSIPClient

INFO_DURATION_MS = 200
DtmfMode = Literal["rfc2833", "info"]


class DialError(RuntimeError):
    """The call could not be placed (bind, register, no answer from the server, rejected)."""


@dataclass(frozen=True)
class DialOptions:
    server: str
    port: int = 5060
    user: str = "caller"
    password: str = ""
    local_ip: str | None = None  # None: the address the OS routes to the server from
    local_port: int = 5061  # the traces' peer `caller` is matched by source 127.0.0.1:5061
    number: str = "400"
    digits: str = ""
    digits_at: float = 6.0  # seconds after the answer (the traces press 2 at 6.0 s)
    digit_gap: float = 1.0
    listen: float = 15.0
    dtmf: DtmfMode = "rfc2833"
    register: bool = False
    ring_timeout: float = 30.0
    rtp_ports: tuple[int, int] = (10000, 20000)


@dataclass
class DialResult:
    connected: bool = False
    final_status: int | None = None
    final_reason: str = ""
    call_id: str = ""
    local: str = ""
    answered_after_s: float | None = None
    rtp_packets: int = 0
    digits_sent: str = ""
    dtmf: DtmfMode = "rfc2833"
    info_responses: list[int] = field(default_factory=list)
    hangup_by: Literal["us", "them", "none"] = "none"
    bye_status: int | None = None  # the PBX's answer to our BYE
    audio: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    gap_samples: int = 0

    @property
    def heard_s(self) -> float:
        return self.audio.size / RATE


def _auth_line(sip: DialSIPClient, challenge: SIP.SIPMessage, proxy: bool) -> str:
    if proxy:  # pyVoIP parses only WWW-Authenticate into .authentication
        raw = str(challenge.headers.get("Proxy-Authenticate", "")).replace("Digest ", "")
        challenge.authentication = {k: v.strip('"') for k, v in challenge.auth_match.findall(raw)}
    if not {"realm", "nonce"} <= challenge.authentication.keys():
        raise DialError("the server's digest challenge has no realm/nonce")
    digest = sip.gen_authorization(challenge).decode()
    realm, nonce = challenge.authentication["realm"], challenge.authentication["nonce"]
    name = "Proxy-Authorization" if proxy else "Authorization"
    return (
        f'{name}: Digest username="{sip.username}",realm="{realm}",nonce="{nonce}",'
        f'uri="sip:{sip.server};transport=UDP",response="{digest}",algorithm=MD5\r\n'
    )


def route_ip(server: str, port: int) -> str:
    """The local address the OS would use to reach the server (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((server, port))
        return str(s.getsockname()[0])


# -- the call ------------------------------------------------------------------------------


class _Dialer:
    """Drives one call: SIP responses arrive on pyVoIP's receive thread, the rest runs here."""

    def __init__(self, opts: DialOptions, phone: DialPhone, result: DialResult) -> None:
        self.opts, self.phone, self.result = opts, phone, result
        self.call: DialCall | None = None
        self.settled = threading.Event()  # a final response to the INVITE
        self.ended = threading.Event()  # the PBX sent BYE
        self.bye_answered = threading.Event()
        self.info_answered = threading.Event()
        self.challenged = False
        self.error = ""
        phone.sip.on_response = self.on_response
        phone.sip.on_bye = self.on_bye

    def on_response(self, msg: SIP.SIPMessage) -> None:
        if self.call is None or msg.headers.get("Call-ID") != self.call.call_id:
            return
        code, method = int(msg.status), msg.headers["CSeq"]["method"]
        if method == "INFO":
            self.result.info_responses.append(code)
            self.info_answered.set()
        elif method == "BYE":
            self.result.bye_status = code
            self.bye_answered.set()
        elif method == "INVITE" and code >= 200 and not self.settled.is_set():
            if code in (401, 407) and not self.challenged and self.opts.password:
                self.challenged = True
                self._send(self.phone.sip.gen_ack(msg))
                auth = _auth_line(self.phone.sip, msg, proxy=code == 407)
                self.call = self.phone.place_call(self.opts.number, auth, self.call.call_id)
                return
            self.result.final_status, self.result.final_reason = code, msg.status.phrase
            if code >= 300:
                self._send(self.phone.sip.gen_ack(msg))  # pyVoIP ACKs only 404 and 503
            self.settled.set()

    def on_bye(self, msg: SIP.SIPMessage) -> None:
        if self.call is not None and msg.headers.get("Call-ID") == self.call.call_id:
            self.result.hangup_by = "them"
            self.ended.set()

    def _send(self, text: str) -> None:
        self.phone.sip.out.sendto(text.encode("utf8"), (self.opts.server, self.opts.port))

    def send_info(self, digit: str) -> None:
        """A SIP INFO application/dtmf-relay in the dialog (pyVoIP has no INFO)."""
        assert self.call is not None
        req = self.call.request
        sip = self.phone.sip
        cseq = int(req.headers["CSeq"]["check"]) + 1
        req.headers["CSeq"]["check"] = str(cseq)  # so gen_bye's CSeq (check + 1) stays above ours
        body = f"Signal={digit}\r\nDuration={INFO_DURATION_MS}\r\n"
        contact = str(req.headers["Contact"]).strip("<>")
        tag = sip.tagLibrary[self.call.call_id]
        text = (
            f"INFO {contact} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {sip.myIP}:{sip.myPort};branch={sip.gen_branch()};rport\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: {req.headers['From']['raw']};tag={tag}\r\n"
            f"To: {req.headers['To']['raw']};tag={req.headers['To']['tag']}\r\n"
            f"Call-ID: {self.call.call_id}\r\nCSeq: {cseq} INFO\r\n"
            f"Contact: <sip:{sip.username}@{sip.myIP}:{sip.myPort}>\r\n"
            f"Content-Type: application/dtmf-relay\r\nContent-Length: {len(body)}\r\n\r\n{body}"
        )
        self.info_answered.clear()
        self._send(text)
        self.info_answered.wait(2.0)

    def run(self) -> None:
        opts, result = self.opts, self.result
        # pyVoIP's start() begins reading SIP only after Timer(1, recv_loop): an INVITE sent
        # before then leaves the 200 OK unread and the start of the greeting is lost.
        self.phone.sip.reading.wait(3.0)
        sent = time.monotonic()
        self.call = self.phone.place_call(opts.number)
        result.call_id = self.call.call_id
        if not self.settled.wait(opts.ring_timeout):
            self._cancel()
            raise DialError(
                f"no final answer to the INVITE within {opts.ring_timeout:.0f} s from "
                f"{opts.server}:{opts.port}: check --server/--port and that the PBX listens on UDP"
            )
        if result.final_status != 200:
            return
        answered = time.monotonic()
        result.connected = True
        result.answered_after_s = round(answered - sent, 3)
        self._press_and_listen(answered)
        if not self.ended.is_set() and self.call.state == VoIP.CallState.ANSWERED:
            result.hangup_by = "us"
            self.call.hangup()
            self.bye_answered.wait(2.0)
        rtp = self.call.rtp
        if rtp is not None:
            result.audio, result.gap_samples = rtp.heard()
            result.rtp_packets = rtp.packets

    def _press_and_listen(self, answered: float) -> None:
        assert self.call is not None
        opts = self.opts
        at = answered + opts.digits_at
        for digit in opts.digits:
            if self.ended.wait(max(0.0, at - time.monotonic())) or time.monotonic() > answered + opts.listen:
                break
            if opts.dtmf == "info":
                self.send_info(digit)
                took = 0.0
            else:
                rtp = self.call.rtp
                if rtp is None:
                    break
                if rtp.event_pt is None:
                    raise DialError("the PBX's SDP offers no telephone-event payload: use --dtmf info")
                took = rtp.queue_digit(digit)
            self.result.digits_sent += digit
            at = time.monotonic() + took + opts.digit_gap
        self.ended.wait(max(0.0, answered + opts.listen - time.monotonic()))

    def _cancel(self) -> None:
        # CANCEL repeats the INVITE's Via (branch) and CSeq number (RFC 3261 9.1).
        if self.call is None:
            return
        req = self.call.request
        via = "".join(f"Via: {v}\r\n" for v in re.findall(r"^Via: ([^\r\n]+)", req.raw.decode(), re.M))
        self._send(
            f"CANCEL {req.raw.decode().split(' ', 2)[1]} SIP/2.0\r\n{via}Max-Forwards: 70\r\n"
            f"From: {req.headers['From']['raw']};tag={req.headers['From']['tag']}\r\n"
            f"To: {req.headers['To']['raw']}\r\nCall-ID: {self.call.call_id}\r\n"
            f"CSeq: {req.headers['CSeq']['check']} CANCEL\r\nContent-Length: 0\r\n\r\n"
        )


def dial(opts: DialOptions) -> DialResult:
    """Place one test call and return what happened and what was heard. DialError if it cannot."""
    if not opts.number or not re.fullmatch(r"[0-9A-Za-z*#+._-]+", opts.number):
        raise DialError(f"--number {opts.number!r}: not a dialable extension")
    bad = [d for d in opts.digits if d.upper() not in DTMF_EVENTS]
    if bad:
        raise DialError(f"--digits {opts.digits!r}: {bad[0]!r} is not a DTMF key (0-9 * # A-D)")
    try:
        local_ip = opts.local_ip or route_ip(opts.server, opts.port)
    except OSError as exc:
        raise DialError(f"--server {opts.server}: cannot route to it ({exc.strerror or exc})") from None
    low, high = opts.rtp_ports
    # Port 0 would go into Via/Contact as is (pyVoIP writes myPort): pick a free one instead.
    local_port = opts.local_port or free_udp_port(local_ip)
    phone = DialPhone(
        opts.server,
        opts.port,
        opts.user,
        opts.password,
        myIP=local_ip,
        sipPort=local_port,
        rtpPortLow=low,
        rtpPortHigh=high,
    )
    phone.sip.register_first = opts.register
    result = DialResult(dtmf=opts.dtmf, local=f"{local_ip}:{local_port}")
    try:
        phone.start()
    except OSError as exc:
        raise DialError(
            f"cannot use {local_ip}:{local_port} for SIP ({exc.strerror or exc}): "
            "pick another --local-port or --local-ip"
        ) from None
    except Exception as exc:  # pyVoIP: TimeoutError / InvalidAccountInfoError from REGISTER
        raise DialError(
            f"REGISTER to {opts.server}:{opts.port} as {opts.user} failed ({exc}): "
            "check --user/--password and the peer in sip.conf"
        ) from None
    try:
        _Dialer(opts, phone, result).run()
    finally:
        phone.stop()
        time.sleep(0.05)  # let pyVoIP's threads see NSD=False before the interpreter moves on
    return result


def free_udp_port(ip: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((ip, 0))
        return int(s.getsockname()[1])


__all__ = [
    "DialError",
    "DialOptions",
    "DialResult",
    "dial",
    "free_udp_port",
    "route_ip",
]
