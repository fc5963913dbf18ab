"""pyVoIP 1.6.8 made fit to call a real Asterisk 20: its known faults fixed, DTMF sending added.

pyVoIP is used as installed (never edited); each fault from FINDINGS.md ("pyVoIP 1.6.8
against a real Asterisk 20") is fixed by overriding the one method that has it:

- ``gen_ack`` put a fresh To tag in the ACK; Asterisk never matches it and drops the call after 32 s.
- ``gen_ok`` (its 200 OK to Asterisk's BYE) has the same fresh-To-tag fault.
- ``gen_call_id`` hashes a per-process counter: every process sends the same Call-ID first.
- It cannot send DTMF: ``DialRTPClient.trans`` interleaves telephone-event packets.
- Received audio is 8-bit unsigned PCM and gaps without RTP are 0x00 (full-scale negative):
  ``DialRTPClient.heard`` converts and silences what no packet covered.
- ``start()`` reads SIP only from 1 s on: ``DialSIPClient.reading`` tells the dialer when its
  reader runs (an INVITE sent before then leaves the 200 OK unread).
- ``invite()`` blocks on a socket read forever, holding the receive lock, and ACKs every 200
  OK (also to INFO and BYE): ``DialPhone.place_call`` sends the INVITE by hand and
  ``DialSIPClient.parse_message`` hands every response but the INVITE's 200 to the dialer.

The call itself (challenge, digits, hang-up, what was heard) is ``dial/sipcall.py``.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import threading
import time
from collections import deque
from typing import Any

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


# -- RTP: recording what arrives, sending telephone-events -------------------------------


def dtmf_packets(digit: str) -> list[tuple[bytes, bool]]:
    """RFC 4733 payloads for one digit: (payload, marker); 10 x 20 ms, then 3 end packets."""
    event = DTMF_EVENTS[digit.upper()]
    out = [(struct.pack("!BBH", event, 10, FRAME * (i + 1)), i == 0) for i in range(DTMF_PACKETS)]
    end = struct.pack("!BBH", event, 0x80 | 10, FRAME * DTMF_PACKETS)  # E bit, volume -10 dBm0
    return out + [(end, False)] * DTMF_END_PACKETS


class DialRTPClient(RTP.RTPClient):
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
        """Queue one digit's packets; returns how long they take to go out (``event_pt`` must be set)."""
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


class DialCall(VoIP.VoIPCall):
    def create_rtp_clients(
        self, codecs: dict[int, RTP.PayloadType], ip: str, port: int, request: SIP.SIPMessage, baseport: int
    ) -> None:
        # As VoIPCall.create_rtp_clients, with our recording/DTMF-sending client.
        for i in range(len(request.body["c"])):
            self.RTPClients.append(
                DialRTPClient(
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
    def rtp(self) -> DialRTPClient | None:
        return self.RTPClients[0] if self.RTPClients else None  # type: ignore[return-value]


# -- SIP -----------------------------------------------------------------------------------


class DialSIPClient(SIP.SIPClient):
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


class DialPhone(VoIP.VoIPPhone):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        old = self.sip
        self.sip = DialSIPClient(
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

    def place_call(self, number: str, auth: str = "", call_id: str = "") -> DialCall:
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
        call = DialCall(self, VoIP.CallState.DIALING, request, 0, self.myIP, ms=medias, sendmode=self.sendmode)
        self.calls[call_id] = call  # before sending: the 200 OK may come back at once
        sip.out.sendto(invite.encode("utf8"), (self.server, self.port))
        return call
