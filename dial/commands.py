"""`hotline dial`: a real SIP test call through the PBX, checked against the opening line.

Exit status: 0 the call connected and the greeting was heard (and every digit went out),
1 it connected but the check failed, 2 bad input or the call could not be placed.
pyVoIP, speech synthesis and the Whisper loader are imported inside the command, for
start-up time: no other `hotline` command needs them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cliutil import ConfigOpt, JsonOpt, console, fail, load, print_json

# Best normalised cross-correlation between the prompt's opening seconds and what was heard.
# The prompt through G.711 and pyVoIP's 8-bit buffer scores 0.999 (FINDINGS: 0.9995 on a real
# Asterisk); white noise at 20 dB SNR 0.995, and 10 dB still ~0.95; another sentence in the same
# voice scored 0.09 in tests/test_dial.py, silence 0. 0.9 leaves room for a noisy or lossy line
# (5% of packets lost costs ~0.03) and stays far above any speech that is not the prompt.
MATCH_THRESHOLD = 0.9


def dial(
    server: Annotated[str, typer.Option("--server", help="The PBX's SIP address (host or IP).")],
    port: Annotated[int, typer.Option("--port", help="The PBX's SIP UDP port.")] = 5060,
    user: Annotated[str, typer.Option("--user", help="Our SIP user (the peer name in sip.conf).")] = "caller",
    password: Annotated[
        str, typer.Option("--password", help="Digest secret, used when the PBX challenges (401/407).")
    ] = "",
    local_ip: Annotated[
        str | None, typer.Option("--local-ip", help="Our address in SIP/SDP (default: the route to --server).")
    ] = None,
    local_port: Annotated[
        int,
        typer.Option(
            "--local-port", help="Our SIP UDP port (a peer matched by address expects it; 0 = any free port)."
        ),
    ] = 5061,
    number: Annotated[str, typer.Option("--number", help="The hotline number to call.")] = "400",
    digits: Annotated[str, typer.Option("--digits", help="DTMF keys to press, e.g. '2' or '21'.")] = "2",
    digits_at: Annotated[
        float, typer.Option("--digits-at", help="Seconds after the answer to press the first key.")
    ] = 6.0,
    digit_gap: Annotated[float, typer.Option("--digit-gap", help="Seconds between keys.")] = 1.0,
    listen: Annotated[float, typer.Option("--listen", help="Seconds to stay on the line after the answer.")] = 15.0,
    dtmf: Annotated[str, typer.Option("--dtmf", help="How keys are sent: rfc2833 (RTP events) or info.")] = "rfc2833",
    register: Annotated[bool, typer.Option("--register", help="REGISTER before calling.")] = False,
    ring_timeout: Annotated[float, typer.Option("--ring-timeout", help="Seconds to wait for an answer.")] = 30.0,
    out: Annotated[Path, typer.Option("--out", help="Where to write what was heard (8 kHz 16-bit mono WAV).")] = Path(
        "heard.wav"
    ),
    prompt: Annotated[
        Path | None, typer.Option("--prompt", help="The greeting WAV to expect (default: the rendered greeting).")
    ] = None,
    transcribe: Annotated[bool, typer.Option("--transcribe", help="Also transcribe what was heard (Whisper).")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Call the hotline as a SIP phone, press keys, record the call, check the opening line."""
    from recordings.audio import AudioError, read_pcm16, write_wav

    if dtmf not in ("rfc2833", "info"):
        fail(f"--dtmf {dtmf!r}: use rfc2833 or info")
    if listen <= 0 or ring_timeout <= 0 or digit_gap < 0 or digits_at < 0:
        fail("--listen and --ring-timeout must be > 0, --digits-at and --digit-gap >= 0")
    cfg = load(config) if (prompt is None or transcribe) else None
    prompt_file = prompt if prompt is not None else _greeting_file(cfg)
    try:
        expected = read_pcm16(prompt_file)
    except (AudioError, OSError) as exc:
        fail(f"greeting prompt {prompt_file}: {exc}")
    from dial.audiocheck import greeting_match
    from dial.sipcall import DialError, DialOptions
    from dial.sipcall import dial as place_call

    opts = DialOptions(
        server=server, port=port, user=user, password=password, local_ip=local_ip, local_port=local_port,
        number=number, digits=digits, digits_at=digits_at, digit_gap=digit_gap, listen=listen,
        dtmf=dtmf,  # type: ignore[arg-type]  # checked above
        register=register, ring_timeout=ring_timeout,
    )  # fmt: skip
    try:
        result = place_call(opts)
    except DialError as exc:
        fail(str(exc))
    score, offset = greeting_match(result.audio, expected) if result.connected else (0.0, 0.0)
    if result.connected and result.audio.size:
        write_wav(out, result.audio)
    passed = (
        result.connected
        and score >= MATCH_THRESHOLD
        and result.digits_sent == digits
        and all(code == 200 for code in result.info_responses)
    )
    report: dict[str, Any] = {
        "pass": passed,
        "connected": result.connected,
        "sip_final": f"{result.final_status} {result.final_reason}" if result.final_status else None,
        "call_id": result.call_id,
        "local": result.local,
        "answered_after_s": result.answered_after_s,
        "heard_s": round(result.heard_s, 2),
        "rtp_packets": result.rtp_packets,
        "gap_s": round(result.gap_samples / 8000, 2),
        "greeting_correlation": round(score, 4),
        "greeting_offset_s": round(offset, 3),
        "threshold": MATCH_THRESHOLD,
        "prompt": str(prompt_file),
        "digits_sent": result.digits_sent,
        "digits_wanted": digits,
        "dtmf": result.dtmf,
        "info_responses": result.info_responses,
        "hangup_by": result.hangup_by,
        "bye_status": result.bye_status,
        "heard_wav": str(out) if result.connected and result.audio.size else None,
        "transcript": None,
    }
    if transcribe and report["heard_wav"] and cfg is not None:
        report["transcript"] = _transcribe(cfg, out)
    if as_json:
        print_json(report)
    else:
        _show(report)
    if not result.connected:
        fail(f"the PBX answered {report['sip_final']}: check the dialplan for {number} and the peer {user} in sip.conf")
    raise typer.Exit(0 if passed else 1)


def _greeting_file(cfg: Any) -> Path:
    """The rendered opening-line prompt, rendered now if missing."""
    from menus.prompts import GREETING, prompt_dir, render_prompts

    wav = prompt_dir(cfg) / f"{GREETING}.wav"
    if not wav.is_file():
        for item in render_prompts(cfg):
            if item.name == GREETING and item.status == "error":
                fail(f"greeting prompt {wav}: cannot render it: {item.detail}")
    return wav


def _transcribe(cfg: Any, wav: Path) -> str | None:
    from transcribe.model import ModelError
    from transcribe.settings_map import load_transcriber

    try:
        return str(load_transcriber(cfg).transcribe_track(wav, "unknown").text)
    except ModelError as exc:
        console.print(f"[yellow]no transcript:[/] {exc}")
        return None


def _show(report: dict[str, Any]) -> None:
    table = Table(title="hotline dial", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    verdict = "[green]PASS[/]" if report["pass"] else "[red]FAIL[/]"
    corr = f"{report['greeting_correlation']:.4f} (need {report['threshold']}) at {report['greeting_offset_s']:+.3f} s"
    rows = [
        ("result", verdict),
        ("connected", "yes" if report["connected"] else "no"),
        ("SIP final response", str(report["sip_final"])),
        ("answered after", f"{report['answered_after_s']} s"),
        ("heard", f"{report['heard_s']} s, {report['rtp_packets']} RTP packets, {report['gap_s']} s of gaps"),
        ("greeting correlation", corr),
        ("digits sent", f"{report['digits_sent'] or '-'} of {report['digits_wanted'] or '-'} ({report['dtmf']})"),
        ("hung up by", report["hangup_by"]),
        ("recording", str(report["heard_wav"])),
    ]
    if report["info_responses"]:
        rows.append(("INFO answers", ", ".join(map(str, report["info_responses"]))))
    if report["transcript"] is not None:
        rows.append(("transcript", report["transcript"] or "(nothing)"))
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
