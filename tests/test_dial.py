"""`hotline dial` against a real SIP peer: SIPp (Debian's sip-tester) as the hotline UAS.

SIPp answers on 127.0.0.1, plays a greeting from a pcap this module writes (RTP PCMU, 20 ms
frames), and checks the SIP fixes in its scenario (ACK To tag, 200-to-BYE To tag, INFO body);
its media is pointed at a UDP socket the test owns, which captures our RTP stream, so the
RFC 2833 packets are checked byte by byte. Audio conversion and the greeting match are also
tested on synthesized data.
"""

from __future__ import annotations

import itertools
import json
import shutil
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from audio_factory import mulaw_roundtrip
from typer.testing import CliRunner

from cli import app
from dial.audiocheck import greeting_match, heard_pcm16
from dial.pyvoip_fixes import dtmf_packets
from dial.sipcall import DialError, DialOptions, dial, free_udp_port
from recordings.audio import read_pcm16, write_wav
from recordings.speech import synthesize_pcm

FIXTURES = Path(__file__).parent / "fixtures" / "sipp"
GREETING = "您好，这里是海尔斯科技，请问有什么可以帮您？"
OTHER = "输入有误，请重新选择。"
needs_sipp = pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp missing: apt-get install sip-tester")


# -- helpers: G.711, pcap, a media sink, SIPp ----------------------------------------------


def ulaw_encode(pcm: np.ndarray) -> bytes:
    x = pcm.astype(np.int32)
    sign = np.where(x < 0, 0x80, 0x00)
    mag = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def write_rtp_pcap(path: Path, pcm: np.ndarray) -> Path:
    """PCMU RTP in 20 ms packets, Ethernet/IPv4/UDP framed, classic pcap format."""
    payload = ulaw_encode(pcm)
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i in range(0, len(payload) - 159, 160):
        rtp = struct.pack("!BBHII", 0x80, 0x80 if i == 0 else 0, i // 160 + 1, i, 0x1234ABCD) + payload[i : i + 160]
        udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1")) + udp  # fmt: skip
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        t_us = (i // 160) * 20_000
        out.append(struct.pack("<IIII", t_us // 1_000_000, t_us % 1_000_000, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))
    return path


@dataclass
class Sink:
    """A UDP socket standing in for the PBX's media port: keeps every RTP packet we send."""

    sock: socket.socket
    packets: list[bytes] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def run(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                self.packets.append(self.sock.recv(2048))
            except TimeoutError:
                continue
            except OSError:
                return

    def events(self, pt: int = 101) -> list[tuple[int, int, int, int, bool, int, int]]:
        """(seq, timestamp, event, flags, marker, duration, ssrc) of each telephone-event packet."""
        out = []
        for p in self.packets:
            if p[1] & 0x7F == pt:
                seq, ts, ssrc = struct.unpack("!HII", p[2:12])
                event, flags, duration = struct.unpack("!BBH", p[12:16])
                out.append((seq, ts, event, flags, bool(p[1] & 0x80), duration, ssrc))
        return out


@pytest.fixture
def sink() -> object:
    s = Sink(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    s.sock.bind(("127.0.0.1", 0))
    t = threading.Thread(target=s.run, daemon=True)
    t.start()
    yield s
    s.stop.set()
    t.join(2)
    s.sock.close()


@dataclass
class Sipp:
    proc: subprocess.Popen[bytes]
    port: int
    workdir: Path

    def finish(self, timeout: float = 30.0) -> tuple[int, str]:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        log = "".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("*_messages.log")))
        errs = "".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("*_errors.log")))
        return self.proc.returncode, log + errs


def start_sipp(workdir: Path, scenario: str, sink_port: int, greeting: np.ndarray) -> Sipp:
    workdir.mkdir(parents=True, exist_ok=True)
    write_rtp_pcap(workdir / "greeting.pcap", greeting)
    port = free_udp_port()
    cmd = ["sipp", "-sf", str(FIXTURES / scenario), "-i", "127.0.0.1", "-p", str(port), "-mi", "127.0.0.1",
           "-mp", str(free_udp_port()), "-m", "1", "-timeout", "40", "-timeout_error", "-nostdin",
           "-set", "sink", str(sink_port), "-trace_msg", "-trace_err"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)  # its UDP socket is bound by then
    return Sipp(proc, port, workdir)


@pytest.fixture(scope="module")
def greeting_pcm() -> np.ndarray:
    return synthesize_pcm(GREETING)


# -- audio: conversion and the greeting match ----------------------------------------------


def test_u8_gaps_become_silence_not_full_scale() -> None:
    frame = (np.arange(160) % 16 + 120).astype(np.uint8)  # quiet audio around 0x80
    buf = frame.tobytes() + b"\x00" * 320 + frame.tobytes()  # a 40 ms hole pyVoIP fills with 0x00
    pcm, gap = heard_pcm16(buf, [(0, 160), (480, 160)])
    assert pcm.dtype == np.int16 and pcm.size == 640 and gap == 320
    assert not pcm[160:480].any()  # silence, not -32768
    assert pcm[0] == (120 - 128) << 8 and pcm[500] == (120 + 500 % 16 - 128) << 8
    detected, gap2 = heard_pcm16(buf)  # without packet bookkeeping: runs of >= 1 frame of 0x00
    assert gap2 == 320 and np.array_equal(detected, pcm)
    loud = bytes([0, 0, 0, 255]) * 40  # full-scale speech peaks are not a gap
    assert heard_pcm16(loud)[1] == 0


def test_greeting_match_separates_the_prompt_from_other_speech(greeting_pcm: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    line = mulaw_roundtrip(greeting_pcm)  # what the line carries
    u8 = ((line.astype(np.int32) >> 8) + 128).astype(np.uint8)  # pyVoIP's 8-bit buffer
    clean, _ = heard_pcm16(u8.tobytes(), [(0, u8.size)])
    late = np.concatenate([np.zeros(4000, np.int16), clean])  # answered 0.5 s before the prompt
    lost = clean[2400:]  # the first 0.3 s never arrived
    noisy = np.clip(clean + rng.normal(0, 0.1 * clean.std(), clean.size), -32768, 32767).astype(np.int16)
    other = mulaw_roundtrip(synthesize_pcm(OTHER))
    scores = {
        "clean": greeting_match(clean, greeting_pcm),
        "late": greeting_match(late, greeting_pcm),
        "lost": greeting_match(lost, greeting_pcm),
        "noisy_20db": greeting_match(noisy, greeting_pcm),
        "other": greeting_match(other, greeting_pcm),
        "silence": greeting_match(np.zeros(40000, np.int16), greeting_pcm),
    }
    print({k: (round(v[0], 4), v[1]) for k, v in scores.items()})
    assert scores["clean"][0] > 0.995 and scores["clean"][1] == 0.0
    assert scores["late"][0] > 0.995 and scores["late"][1] == 0.5
    assert scores["lost"][0] > 0.995 and scores["lost"][1] == -0.3
    assert scores["noisy_20db"][0] > 0.97
    assert scores["other"][0] < 0.6 and scores["silence"][0] == 0.0


def test_dtmf_packets_follow_rfc4733() -> None:
    packets = dtmf_packets("2")
    assert len(packets) == 13 and [m for _, m in packets].count(True) == 1 and packets[0][1]
    fields = [struct.unpack("!BBH", p) for p, _ in packets]
    assert {f[0] for f in fields} == {2}
    assert [f[2] for f in fields[:10]] == [160 * (i + 1) for i in range(10)]
    assert all(f[1] & 0x80 and f[2] == 1600 for f in fields[10:]) and not any(f[1] & 0x80 for f in fields[:10])


def test_bad_input_is_refused_before_any_packet() -> None:
    with pytest.raises(DialError, match="not a DTMF key"):
        dial(DialOptions(server="127.0.0.1", digits="2x"))
    with pytest.raises(DialError, match="--number"):
        dial(DialOptions(server="127.0.0.1", number="4 00"))


def test_each_process_gets_a_new_call_id() -> None:
    from dial.pyvoip_fixes import SIP, DialPhone

    def first_ids(sip_cls: type) -> list[str]:
        out = []
        for _ in range(2):  # two fresh phones stand for two runs of `hotline dial`
            phone = DialPhone("127.0.0.1", 5060, "caller", "", myIP="127.0.0.1", sipPort=5061)
            out.append(sip_cls.gen_call_id(phone.sip))
        return out

    pyvoip = first_ids(SIP.SIPClient)
    assert pyvoip[0] == pyvoip[1]  # the fault (FINDINGS): same Call-ID for every run's first call
    ours = first_ids(type(DialPhone("127.0.0.1", 5060, "caller", "", myIP="127.0.0.1", sipPort=5061).sip))
    assert ours[0] != ours[1]


# -- calls through SIPp ---------------------------------------------------------------------


def _our_packets(sink: Sink) -> list[tuple[int, int, int]]:
    """(payload type, sequence, ssrc) of every RTP packet we sent, in arrival order."""
    return [(p[1] & 0x7F, struct.unpack("!H", p[2:4])[0], struct.unpack("!I", p[8:12])[0]) for p in sink.packets]


def _header(log: str, start: str, name: str) -> list[str]:
    """The `name` header of each message in a SIPp trace whose first line starts with `start`."""
    out = []
    for block in log.split("-----------------------------------------------"):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        first = next((i for i, ln in enumerate(lines) if ln.startswith(start)), None)
        if first is not None:
            out += [ln.split(":", 1)[1].strip() for ln in lines[first:] if ln.startswith(name + ":")][:1]
    return out


@needs_sipp
def test_dial_cli_rfc2833_against_sipp(tmp_path: Path, sink: Sink, greeting_pcm: np.ndarray) -> None:
    """The full command: greeting heard and matched, two digits as RFC 2833 events, the PBX hangs up."""
    prompt = write_wav(tmp_path / "greeting.wav", greeting_pcm)
    sipp = start_sipp(tmp_path / "sipp", "uas_greeting.xml", sink.port, greeting_pcm)
    out = tmp_path / "heard.wav"
    started = time.monotonic()
    res = CliRunner().invoke(app, ["dial", "--server", "127.0.0.1", "--port", str(sipp.port), "--local-port",
                                   str(free_udp_port()), "--digits", "21", "--digits-at", "1.0", "--digit-gap", "0.5",
                                   "--listen", "15", "--prompt", str(prompt), "--out", str(out), "--json"])  # fmt: skip
    took = time.monotonic() - started
    rc, log = sipp.finish()
    assert rc == 0, log  # SIPp checked the ACK's To tag and the To tag of our 200 OK to its BYE
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    print(report, f"took {took:.1f} s")
    assert report["connected"] and report["sip_final"] == "200 OK" and report["pass"]
    assert report["hangup_by"] == "them" and took < 10  # SIPp hangs up 6 s after the ACK
    assert 5.5 < report["heard_s"] < 6.5 and report["gap_s"] == 0
    assert report["greeting_correlation"] > 0.99 and abs(report["greeting_offset_s"]) <= 0.02
    assert report["digits_sent"] == "21" and report["dtmf"] == "rfc2833"
    heard = read_pcm16(out)
    assert heard.size == round(report["heard_s"] * 8000)
    # The wire: 13 telephone-event packets per digit on the call's own stream (one SSRC,
    # sequence numbers continuing the audio's without a hole), one marker per digit.
    events = sink.events()
    assert [e[2] for e in events] == [2] * 13 + [1] * 13
    assert [e[4] for e in events].count(True) == 2
    assert len({e[1] for e in events}) == 2  # one RTP timestamp per digit
    gap = (events[13][1] - events[0][1]) / 8000
    # 0.26 s of packets + the 0.5 s --digit-gap; a loaded 2-core machine measured 0.68 (packets paced late)
    assert 0.6 < gap < 1.0
    ours = _our_packets(sink)
    assert {ssrc for _, _, ssrc in ours} == {events[0][6]}
    seqs = [seq for _, seq, _ in ours]
    assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(seqs))
    assert {pt for pt, _, _ in ours} == {0, 101}
    # And in SIPp's own trace: the ACK and our 200 OK to the BYE carry the right To tags.
    invite_from = _header(log, "INVITE ", "From")[0]
    assert _header(log, "ACK ", "To")[0].endswith(";tag=uas-7f3a9c")
    assert _header(log, "SIP/2.0 200 OK", "To")[-1].endswith(invite_from.split(";tag=")[1])


@needs_sipp
def test_info_dtmf_digest_and_our_hangup(tmp_path: Path, sink: Sink, greeting_pcm: np.ndarray) -> None:
    """401 challenge answered, SIP INFO Signal=2 accepted, we hang up at --listen with a good BYE."""
    sipp = start_sipp(tmp_path / "sipp", "uas_info_auth.xml", sink.port, greeting_pcm)
    result = dial(DialOptions(server="127.0.0.1", port=sipp.port, local_port=free_udp_port(), password="s3cret",
                              digits="2", digits_at=1.0, listen=4.0, dtmf="info", ring_timeout=5))  # fmt: skip
    rc, log = sipp.finish()
    assert rc == 0, log  # ACK to the 401, digest, ACK to the 200, INFO body, BYE in the dialog
    assert result.connected and result.final_status == 200 and result.info_responses == [200]
    assert result.hangup_by == "us" and result.bye_status == 200
    assert 3.5 < result.heard_s < 4.5
    score, offset = greeting_match(result.audio, greeting_pcm)
    assert score > 0.99 and abs(offset) <= 0.02
    assert sink.events() == []  # INFO mode: no telephone-event packets
    cseqs = [int(c.split()[0]) for c in _header(log, "INFO ", "CSeq") + _header(log, "BYE ", "CSeq")]
    assert cseqs == sorted(set(cseqs))  # the BYE's CSeq is above the INFO's


@needs_sipp
def test_wrong_password_is_a_clear_exit_2(tmp_path: Path, sink: Sink, greeting_pcm: np.ndarray) -> None:
    prompt = write_wav(tmp_path / "greeting.wav", greeting_pcm)
    sipp = start_sipp(tmp_path / "sipp", "uas_info_auth.xml", sink.port, greeting_pcm)
    res = CliRunner().invoke(app, ["dial", "--server", "127.0.0.1", "--port", str(sipp.port), "--local-port",
                                   str(free_udp_port()), "--password", "wrong", "--prompt", str(prompt),
                                   "--out", str(tmp_path / "heard.wav")])  # fmt: skip
    rc, log = sipp.finish()
    assert rc == 0, log  # SIPp checked that we ACKed its 403 with its To tag
    assert res.exit_code == 2
    assert "403 Forbidden" in res.output and "sip.conf" in res.output
    assert not (tmp_path / "heard.wav").exists()


@needs_sipp
def test_wrong_greeting_fails_with_exit_1(tmp_path: Path, sink: Sink, greeting_pcm: np.ndarray) -> None:
    prompt = write_wav(tmp_path / "greeting.wav", greeting_pcm)
    sipp = start_sipp(tmp_path / "sipp", "uas_greeting.xml", sink.port, synthesize_pcm(OTHER))
    res = CliRunner().invoke(app, ["dial", "--server", "127.0.0.1", "--port", str(sipp.port), "--local-port",
                                   str(free_udp_port()), "--digits", "", "--listen", "3", "--prompt", str(prompt),
                                   "--out", str(tmp_path / "heard.wav"), "--json"])  # fmt: skip
    sipp.finish()  # it wanted to hang up itself: our BYE at 3 s fails its call, not ours
    assert res.exit_code == 1, res.output
    report = json.loads(res.output)
    assert report["connected"] and not report["pass"] and report["greeting_correlation"] < 0.6


@needs_sipp
@pytest.mark.parametrize("fault", ["gen_ack", "gen_ok"])
def test_sipp_catches_pyvoip_unpatched(
    fault: str, tmp_path: Path, sink: Sink, greeting_pcm: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Put pyVoIP's own method back: the scenario must fail the call (so it can catch the fault)."""
    from dial.pyvoip_fixes import SIP, DialSIPClient

    monkeypatch.setattr(DialSIPClient, fault, getattr(SIP.SIPClient, fault))
    sipp = start_sipp(tmp_path / "sipp", "uas_greeting.xml", sink.port, greeting_pcm)
    dial(DialOptions(server="127.0.0.1", port=sipp.port, local_port=free_udp_port(),
                     listen=3.0 if fault == "gen_ack" else 8.0, ring_timeout=5))  # fmt: skip
    rc, log = sipp.finish()
    assert rc == 1
    if fault == "gen_ack":  # the ACK's To tag is pyVoIP's fresh one, not SIPp's
        assert "Failed regexp match" in log and "with regexp 'tag=uas-7f3a9c'" in log
    else:  # the To tag of our 200 OK to the BYE differed: the scenario went to the never-coming message
        assert "receive timeout on message" in log


def test_nobody_listening_is_a_bounded_dial_error() -> None:
    started = time.monotonic()
    with pytest.raises(DialError, match="no final answer to the INVITE within 1 s"):
        dial(DialOptions(server="127.0.0.1", port=free_udp_port(), local_port=0, ring_timeout=1.0))
    assert time.monotonic() - started < 4  # 1 s waiting for pyVoIP's reader, 1 s ringing
