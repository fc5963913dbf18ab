"""A real SIP test call through the PBX with pyVoIP 1.6.8, its known faults worked around.

``dial(DialOptions(...))`` calls the hotline number as a plain SIP phone: INVITE (answering a
401/407 digest challenge once), ACK, records what it hears, presses digits (RFC 2833 events on
the call's own RTP stream, or SIP INFO), hangs up after ``listen`` seconds unless the PBX hangs
up first, and returns a ``DialResult`` with the heard audio as 16-bit samples.
``greeting_match`` then says whether the opening-line prompt was what was heard.

pyVoIP is used as installed (never edited); each fault from FINDINGS.md ("pyVoIP 1.6.8
against a real Asterisk 20") is fixed by overriding the one method that has it:

- ``gen_ack`` put a fresh To tag in the ACK; Asterisk never matches it and drops the call after 32 s.
- ``gen_ok`` (its 200 OK to Asterisk's BYE) has the same fresh-To-tag fault.
- ``gen_call_id`` hashes a per-process counter: every process sends the same Call-ID first.
- It cannot send DTMF: ``_DialRTPClient.trans`` interleaves telephone-event packets.
- Received audio is 8-bit unsigned PCM and gaps without RTP are 0x00 (full-scale negative):
  ``heard_pcm16`` converts and silences what no packet covered.
- ``start()`` reads SIP only from 1 s on: ``dial`` waits for its reader before the INVITE
  (else the 200 OK sits unread and ~0.3 s of the greeting is lost).
- ``invite()`` blocks on a socket read forever, holding the receive lock, and ACKs every 200
  OK (also to INFO and BYE): the INVITE is sent by hand and responses are routed by CSeq.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pyVoIP.VoIP import VoIP

from dial.audiocheck import FRAME, RATE, heard_pcm16

# pyVoIP.SIP imports pyVoIP.VoIP, which imports pyVoIP.SIP: importing SIP first fails halfway.
# Importing VoIP first works, and its module holds the SIP and RTP modules.
SIP = VoIP.SIP
RTP = VoIP.RTP

DTMF_EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15}
DTMF_PACKETS = 10  # per digit: 10 packets over 200 ms, then 3 end packets (as the traces' SIPp media)
DTMF_END_PACKETS = 3
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


# -- RTP: recording what arrives, sending telephone-events -------------------------------


def dtmf_packets(digit: str) -> list[tuple[bytes, bool]]:
    """RFC 4733 payloads for one digit: (payload, marker); 10 x 20 ms, then 3 end packets."""
    event = DTMF_EVENTS[digit.upper()]
    out = [(struct.pack("!BBH", event, 10, FRAME * (i + 1)), i == 0) for i in range(DTMF_PACKETS)]
    end = struct.pack("!BBH", event, 0x80 | 10, FRAME * DTMF_PACKETS)  # E bit, volume -10 dBm0
    return out + [(end, False)] * DTMF_END_PACKETS


class _DialRTPClient(RTP.RTPClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.covered: list[tuple[int, int]] = []  # (RTP timestamp, samples) of each audio packet
        self.packets = 0
        self.first_packet_at: float | None = None
        self._events: deque[tuple[bytes, bool, int]] = deque()  # (payload, marker, event timestamp)
        self.event_pt = next((pt for pt, kind in self.assoc.items() if kind == RTP.PayloadType.EVENT), None)

    def parse_pcmu(self, packet: RTP.RTPMessage) -> None:
        self.covered.append((packet.timestamp, len(packet.payload)))
        self.packets += 1
        if self.first_packet_at is None:
            self.first_packet_at = time.monotonic()
        super().parse_pcmu(packet)

    def queue_digit(self, digit: str) -> float:
        """Queue one digit's packets; returns how long they take to go out."""
        if self.event_pt is None:
            raise DialError("the PBX's SDP offers no telephone-event payload: use --dtmf info")
        stamp = self.outTimestamp
        packets = dtmf_packets(digit)
        self._events.extend((payload, marker, stamp) for payload, marker in packets)
        return len(packets) * FRAME / RATE

    def trans(self) -> None:
        # pyVoIP's sender loop (RTP.py RTPClient.trans), with one change: while digits are
        # queued, a telephone-event packet takes the place of the audio packet, so sequence
        # numbers and SSRC stay those of the call's stream (pyVoIP has no DTMF sender).
        while self.NSD:
            last_sent = time.monotonic_ns()
            payload = self.pmout.read()
            pt, marker, stamp = int(self.preference), False, self.outTimestamp
            if self._events:
                payload, marker, stamp = self._events.popleft()
                pt = int(self.event_pt or 101)
            else:
                payload = self.encode_packet(payload)
            self.outSequence &= 0xFFFF
            header = struct.pack(
                "!BBHII", 0x80, pt | (0x80 if marker else 0), self.outSequence, stamp & 0xFFFFFFFF, self.outSSRC
            )
            try:
                self.sout.sendto(header + payload, (self.outIP, self.outPort))
            except OSError:
                if not self.NSD:
                    return  # stop() closed the socket under us
            self.outSequence += 1
            self.outTimestamp += FRAME
            delay = FRAME / RATE - (time.monotonic_ns() - last_sent) / 1e9
            time.sleep(max(0.0, delay))

    def heard(self) -> tuple[np.ndarray, int]:
        with self.pmin.bufferLock:
            data = self.pmin.buffer.getvalue()
            base = self.pmin.offset
        covered = [((ts - base) & 0xFFFFFFFF, n) for ts, n in self.covered]
        return heard_pcm16(data, [(s, n) for s, n in covered if s < len(data)])


class _DialCall(VoIP.VoIPCall):
    def create_rtp_clients(
        self, codecs: dict[int, RTP.PayloadType], ip: str, port: int, request: SIP.SIPMessage, baseport: int
    ) -> None:
        # As VoIPCall.create_rtp_clients, with our recording/DTMF-sending client.
        for i in range(len(request.body["c"])):
            self.RTPClients.append(
                _DialRTPClient(
                    codecs,
                    ip,
                    port,
                    request.body["c"][i]["address"],
                    baseport + i,
                    self.sendmode,
                    dtmf=self.dtmf_callback,
                )
            )

    @property
    def rtp(self) -> _DialRTPClient | None:
        return self.RTPClients[0] if self.RTPClients else None  # type: ignore[return-value]


# -- SIP -----------------------------------------------------------------------------------


class _DialSIPClient(SIP.SIPClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register_first = False
        self.register_timeout = 5
        self.salt = os.urandom(8).hex()
        self.on_response: Any = None  # Callable[[SIPMessage], None], set by the dialer
        self.on_bye: Any = None
        self.reading = threading.Event()  # set when pyVoIP's Timer(1, recv_loop) has fired

    def gen_call_id(self) -> str:
        # Fault: pyVoIP hashes only a per-process counter, so each run's first Call-ID is the
        # same; Asterisk may still hold a dialog by that id for 32 s. A random salt fixes it.
        digest = hashlib.sha256(f"{self.salt}-{self.callID.next()}".encode()).hexdigest()
        return f"{digest[:32]}@{self.myIP}:{self.myPort}"

    def gen_ack(self, request: SIP.SIPMessage) -> str:
        # Fault: pyVoIP puts gen_tag() (a new random tag) in the ACK's To; it must be the To tag
        # of the response being acknowledged, else Asterisk resends the 200 OK and hangs up.
        ack = super().gen_ack(request)
        return _replace_to_tag(ack, request.headers["To"]["tag"])

    def gen_ok(self, request: SIP.SIPMessage) -> str:
        # Fault: pyVoIP's 200 OK (to BYE, CANCEL) gets a new random To tag; in a dialog the
        # request's To already carries our tag, and the response must repeat it.
        ok = super().gen_ok(request)
        tag = request.headers["To"]["tag"]
        return _replace_to_tag(ok, tag) if tag else ok

    def register(self) -> bool:
        # A test call needs no registration (chan_sip challenges the INVITE itself), and
        # pyVoIP's register() retries forever in background timers: one bounded try, or none.
        if not self.register_first:
            self.phone._status = VoIP.PhoneStatus.REGISTERED
            return True
        with self.recvLock:
            ok: bool = self._SIPClient__register()  # type: ignore[attr-defined]
        self.phone._status = VoIP.PhoneStatus.REGISTERED
        return ok

    def recv_loop(self) -> None:
        self.reading.set()
        while self.NSD:
            try:
                super().recv_loop()
            except Exception:
                # pyVoIP's recv() turns a socket error (an ICMP port-unreachable from an earlier
                # send, or stop() closing the socket) into an UnboundLocalError that ends its
                # loop: keep reading while the phone runs, end quietly once it is stopped.
                time.sleep(0.01)

    def parse_message(self, message: SIP.SIPMessage) -> None:
        if message.type == SIP.SIPMessageType.RESPONSE:
            method = message.headers.get("CSeq", {}).get("method", "")
            if self.on_response is not None:
                self.on_response(message)
            if method == "INVITE" and int(message.status) == 200:
                super().parse_message(message)  # pyVoIP's answered() + (fixed) ACK
            return  # other responses are the dialer's; pyVoIP would ACK 200s to INFO and BYE
        if message.method == "OPTIONS":  # a qualify probe: pyVoIP never answers it
            self.out.sendto(self.gen_ok(message).encode("utf8"), (self.server, self.port))
            return
        super().parse_message(message)  # a BYE: pyVoIP ends the call and sends the (fixed) 200 OK
        if message.method == "BYE" and self.on_bye is not None:
            self.on_bye(message)  # only now: the dialer then stops the phone, closing the socket


def _replace_to_tag(message: str, tag: str) -> str:
    return re.sub(r"^(To: [^\r\n]*?);tag=[^;\r\n]*", lambda m: f"{m.group(1)};tag={tag}", message, count=1, flags=re.M)


class _DialPhone(VoIP.VoIPPhone):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        old = self.sip
        self.sip = _DialSIPClient(
            old.server,
            old.port,
            old.username,
            old.password,
            phone=self,
            myIP=old.myIP,
            myPort=old.myPort,
            callCallback=self.callback,
            fatalCallback=self.fatal,
        )

    def place_call(self, number: str, auth: str = "", call_id: str = "") -> _DialCall:
        """Build and send the INVITE (with an Authorization line after a challenge)."""
        sip = self.sip
        port = self.request_port()
        medias = {port: {0: RTP.PayloadType.PCMU, 101: RTP.PayloadType.EVENT}}
        call_id = call_id or sip.gen_call_id()
        invite = sip.gen_invite(
            number, str(sip.sessID.next()), medias, RTP.TransmitType.SENDRECV, sip.gen_branch(), call_id
        )
        if auth:
            invite = invite.replace("\r\nContent-Length", f"\r\n{auth}Content-Length", 1)
        request = SIP.SIPMessage(invite.encode("utf8"))
        call = _DialCall(self, VoIP.CallState.DIALING, request, 0, self.myIP, ms=medias, sendmode=self.sendmode)
        self.calls[call_id] = call  # before sending: the 200 OK may come back at once
        sip.out.sendto(invite.encode("utf8"), (self.server, self.port))
        return call


def _auth_line(sip: _DialSIPClient, challenge: SIP.SIPMessage, proxy: bool) -> str:
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

    def __init__(self, opts: DialOptions, phone: _DialPhone, result: DialResult) -> None:
        self.opts, self.phone, self.result = opts, phone, result
        self.call: _DialCall | None = None
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
    phone = _DialPhone(
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
    "dtmf_packets",
    "free_udp_port",
    "route_ip",
]
