"""`hotline serve`, `hotline demo`, `hotline calls list/show`, `hotline asterisk-config`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from app.pause_commands import pause_cmd, resume_cmd
from cliutil import ConfigOpt, JsonOpt, command_group, config_path, console, fail, load, parse_since, print_json
from settings import Config

UnmaskOpt = Annotated[
    bool, typer.Option("--unmask", help="Show personal numbers in full (an account whose role may: --as or "
                       "$HOTLINE_USER); each use is recorded in the access log.")
]
AsOpt = Annotated[str | None, typer.Option("--as", help="Your account, for --unmask [default: $HOTLINE_USER].")]
calls_app = command_group("The call log: who called, what they pressed, where they went.")

log = logging.getLogger("hotline.serve")


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # schema checks at start: not news


# ----- serve -----------------------------------------------------------------------------


def serve(
    config: ConfigOpt = None,
    reload_interval: Annotated[float, typer.Option(help="Seconds between checks of config.yaml for changes.")] = 1.0,
    transcribe: Annotated[bool, typer.Option(help="Run the transcription worker pool in this process.")] = True,
    prompts: Annotated[bool, typer.Option(help="Render missing/stale prompt WAVs at start and on reload.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
    metrics_port: Annotated[int, typer.Option(help="Serve Prometheus /metrics on 127.0.0.1:PORT (0: off).")] = 0,
) -> None:
    """Answer the hotline: drive every call that reaches AGI(agi:async), until Ctrl-C.

    Logs one line per call. A refused AMI login is one error line and exit status 2.
    Edits to config.yaml apply to calls that start after the edit."""
    from pbx.ami import AmiAuthError

    path = config_path(config)
    cfg = load(path)
    setup_logging(verbose)
    from sqlalchemy.exc import SQLAlchemyError

    from transcribe.procrastinate_app import EngineError, uses_procrastinate

    try:
        if uses_procrastinate(cfg):  # `hotline worker` hosts transcribe; serve queues their tasks
            transcribe = False
    except EngineError as exc:
        fail(f"serve: {exc}")
    if transcribe:  # a pool that cannot load its model would die while jobs pile up: refuse now
        from transcribe.pool_handle import check_model
        from transcribe.worker import PoolError

        try:
            check_model(cfg)
        except PoolError as exc:
            fail(f"serve: {exc} (or run with --no-transcribe)", code=1)
    try:
        asyncio.run(_serve(cfg, path, reload_interval, transcribe, prompts, metrics_port))
    except AmiAuthError as exc:
        fail(str(exc), code=2)
    except KeyboardInterrupt:
        pass
    except (SQLAlchemyError, OSError, RuntimeError) as exc:  # the database or the call store process
        fail(f"serve: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", code=1)


async def _serve(cfg: Config, path: Path, reload_interval: float, transcribe: bool, prompts: bool,
                 metrics_port: int = 0) -> None:
    from app.pipeline import after_call, after_call_distributed, after_transcript
    from ivr.service import IvrService
    from pbx.ami import AmiConnectionError
    from transcribe.pool_handle import start_pool

    queue_hook = after_call_distributed if cfg.workers.engine == "procrastinate" else after_call
    service = IvrService(cfg, config_path=path, reload_interval=reload_interval, render_prompts=prompts,
                         freeze_gc=True, store_process=True, on_recordings_ready=queue_hook)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    delay = 1.0
    while True:  # Asterisk not up yet: wait for it (a refused login is not retried)
        try:
            await service.start()
            break
        except AmiConnectionError as exc:
            log.warning("%s; retrying in %.0fs", exc, delay)
            try:
                await asyncio.wait_for(stop.wait(), delay)
                return
            except TimeoutError:
                delay = min(delay * 2, cfg.ami.reconnect_max)
    pool = None
    if transcribe:
        pool = start_pool(cfg, qa_scan=after_transcript)
    log.info("serving %s on %s:%d; config %s", cfg.company, cfg.ami.host, cfg.ami.port, path)
    runner = asyncio.create_task(service.run_forever())
    waiter = asyncio.create_task(stop.wait())
    reporter = asyncio.create_task(_report_status(cfg, service, pool, metrics_port))
    try:
        done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            runner.result()  # AmiAuthError on a refused re-login: exit 2
    finally:
        waiter.cancel()
        reporter.cancel()
        log.info("stopping: %d call(s) in progress stay with Asterisk; the next start adopts them",
                 len(service.sessions))
        await service.stop()
        if pool is not None:
            await asyncio.to_thread(pool.stop, 60)


async def _report_status(cfg: Config, service: Any, pool: Any, metrics_port: int) -> None:
    """Write the status file every few seconds; serve /metrics from the latest figures."""
    import time

    from app.status import INTERVAL_S, database_figures, service_snapshot, status_path, write_status

    started = time.time()
    latest: dict[str, Any] = {}
    if metrics_port:
        from app.metrics import serve_metrics

        serve_metrics(metrics_port, lambda: {"serve": latest, **database_figures(cfg)})
        log.info("metrics on http://127.0.0.1:%d/metrics", metrics_port)
    path = status_path(cfg)
    while True:
        latest = service_snapshot(service, pool, started)
        try:
            await asyncio.to_thread(write_status, path, latest)
        except OSError as exc:
            log.warning("status file %s: %s", path, exc)
        await asyncio.sleep(INTERVAL_S)


def status(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Is `serve` running? The AMI link, the lease, calls in progress, the transcription queue
    (depth, oldest pending job) and worker health. Exit status 1 when serve is not running."""
    from app.status import read_status

    cfg = load(config)
    st = read_status(cfg)
    if as_json:
        print_json(st)
    else:
        _print_status(st)
    if not st["serving"]:
        raise typer.Exit(1)


def _print_status(st: dict[str, Any]) -> None:
    q, s = st["queue"], st["serve"]
    if s is None:
        console.print(f"serve: [red]not running[/] (no status file at {st['status_file']})", highlight=False)
    elif not st["serving"]:
        console.print(f"serve: [red]not running[/] (pid {s['pid']} last wrote its status {st['status_age_s']:.0f}s "
                      "ago)", highlight=False)
    else:
        a = s["ami"]
        link = "[green]up[/]" if a["connected"] else "[red]down[/]"
        role = "active" if s["lease"]["active"] else "standby"
        console.print(f"serve: [green]running[/] pid {s['pid']} ({role}); AMI {a['host']}:{a['port']} {link}, "
                      f"{a['reconnects']} reconnect(s)", highlight=False)
        console.print(f"calls: {s['calls']['in_progress']} in progress, {s['calls']['finished']} finished; "
                      f"call store backlog {s['store']['backlog']}")
        w = s["workers"]
        if w is None:
            console.print("workers: not run by this serve (--no-transcribe)")
        else:
            state = "[green]running[/]" if w["running"] else "[red]stopped[/]"
            console.print(f"workers: {state}, {w['ready']}/{w['workers']} ready, {w['busy']} busy, "
                          f"{w['restarts']} restart(s)" + (f"; last error: {w['last_error']}" if w["last_error"]
                                                            else ""), highlight=False)
    oldest = f"{q['oldest_pending_s']:.0f}s" if q["oldest_pending_s"] is not None else "-"
    console.print(f"queue: {q['depth']} job(s) pending, oldest {oldest}; {q['failed']} failed; {q['flags']} flag(s)")
    if (p := st.get("procrastinate")) is not None:
        console.print(f"procrastinate: {p['workers']} worker(s) beating; tasks {p['tasks_todo']} waiting, "
                      f"{p['tasks_doing']} delivered; {p['stalled']} job(s) stalled (no heartbeat)")


# ----- calls -----------------------------------------------------------------------------


def _unmasker(cfg: Config, acting: str | None) -> str:
    """The account --unmask runs as, checked before anything is read (exit 2 saying what to do)."""
    from accounts.identity import IdentityError
    from transcribe.privacy import unmasker

    try:
        return unmasker(cfg.database_url, acting)
    except IdentityError as exc:
        fail(f"--unmask: {exc}")


def _local(when: Any) -> str:
    return when.astimezone().strftime("%m-%d %H:%M:%S") if when else "-"


@calls_app.command("list")
def calls_list(
    since: Annotated[str | None, typer.Option(help="Only calls since: 30m, 2h, 7d or an ISO date.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many calls (newest first).")] = 50,
    unmask: UnmaskOpt = False,
    acting: AsOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recent calls: caller (masked: *******8003), menu path, route, agent, who hung up first, flags."""
    from app.calllog import list_calls
    from transcribe.privacy import record_unmask

    cfg = load(config)
    who = _unmasker(cfg, acting) if unmask else None
    try:
        when = parse_since(since) if since else None
    except ValueError as exc:
        fail(str(exc))
    rows = list_calls(cfg.database_url, when, limit, unmask=unmask)
    if who is not None:
        record_unmask(cfg.database_url, who, [f"call {r['id']}" for r in rows], "calls list")
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no calls" + (f" since {since}" if since else ""))
        return
    table = Table(title=f"{len(rows)} call(s)")
    for col in ("id", "started", "caller", "path", "route", "agent", "hung up by", "dur", "status", "flags"):
        table.add_column(col, overflow="fold")
    for r in rows:
        dur = f"{r['duration_s']:.0f}s" if r["duration_s"] is not None else "-"
        status = r["status"] + (" [red]error[/]" if r["error"] else "")
        table.add_row(str(r["id"]), _local(r["started_at"]), r["caller"] or "?", r["path"] or "-",
                      r["route"] or "-", r["agent"] or "-", r["hangup_by"] or "-", dur, status, str(r["flags"]))
    console.print(table)


@calls_app.command("show")
def calls_show(
    call: Annotated[str, typer.Argument(help="Call id (or Asterisk Uniqueid).")],
    unmask: UnmaskOpt = False,
    acting: AsOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One call: times, menu path with digits, route, agent, hang-up, recordings, transcript, flags.

    Personal numbers are masked (*******8003) unless --unmask (as an account allowed to)."""
    from app.calllog import call_detail
    from transcribe.privacy import record_unmask

    cfg = load(config)
    who = _unmasker(cfg, acting) if unmask else None
    d = call_detail(cfg.database_url, call, unmask=unmask, mask_kinds=cfg.qa.pii.mask_kinds)
    if d is None:
        fail(f"no call {call!r} in {cfg.database.url}")
    if who is not None:
        record_unmask(cfg.database_url, who, [f"call {d['id']}"], "calls show")
    if as_json:
        print_json(d)
        return
    console.print(f"[bold]call {d['id']}[/] ({d['uniqueid']}, {d['channel']}) status [bold]{d['status']}[/]")
    who = f"{d['caller'] or '?'}" + (f" ({d['caller_name']})" if d["caller_name"] else "")
    console.print(f"  caller {who} -> {d['did'] or '?'}")
    dur = f"{d['duration_s']}s" if d["duration_s"] is not None else "in progress"
    console.print(f"  started {_local(d['started_at'])}  answered {_local(d['answered_at'])}  "
                  f"ended {_local(d['ended_at'])}  ({dur})")
    console.print(f"  route {d['route'] or '-'}  category {d['category'] or '-'}  "
                  f"dial status {d['dial_status'] or '-'}")
    ring = f"{d['ring_s']:.1f}s" if d["ring_s"] is not None else "-"
    wait = f"{d['queue_wait_s']:.1f}s" if d["queue_wait_s"] is not None else "-"
    console.print(f"  agent {d['agent'] or '-'}  ring {ring}  queue wait {wait}  "
                  f"hung up first: [bold]{d['hangup_by'] or '-'}[/]  cause {d['hangup_cause']} "
                  f"{d['hangup_cause_txt'] or ''}")
    if d["error"]:
        console.print(f"  [red]error:[/] {d['error']}", highlight=False)
    console.print("  menu path:")
    for st in d["steps"]:
        key = st["digit"] if st["digit"] is not None else "(none)"
        to = f" -> {st['action']} {st['target'] or ''}" if st["action"] else ""
        ahead = " (typed ahead)" if st["typeahead"] else ""
        console.print(f"    {st['seq']}. {st['menu']}: {key} {st['outcome']}{to}{ahead}", highlight=False)
    console.print("  recordings:")
    for r in d["recordings"]:
        length = f"{r['duration_s']:.1f}s" if r["duration_s"] is not None else "-"
        console.print(f"    {r['kind']:8} {r['status']:9} {length:>7}  {r['path']}", highlight=False)
    for p in d["paused"]:  # the recording's pauses (a collect menu, calls pause/resume): silent on both tracks
        span = f"from {p['start']:.1f}s, still paused" if p["open"] else f"{p['start']:.1f}s-{p['end']:.1f}s"
        console.print(f"    recording paused {span} ({p['via'] or '?'})", highlight=False)
    tr = d["transcript"]
    if tr:
        console.print("  transcript" + (" [yellow](needs review)[/]" if tr["needs_review"] else "") + ":")
        for seg in tr["segments"]:
            line = Text(f"    {seg['start']:6.1f}s ")
            if seg["speaker"] == "ivr":  # the IVR's prompts (their known text): greyed, never the agent's
                line.append(f"{'IVR':6} {seg['text']}", style="dim")
            else:
                line.append(f"{seg['speaker']:6} {seg['text']}")
            console.print(line, highlight=False)
    elif d["transcription"]:
        console.print(f"  transcription: {d['transcription']['status']}")
    if d["conversation"]:
        _print_conversation(d["conversation"])
    if d["flags"]:
        console.print("  flags:")
        for f in d["flags"]:
            at = f"{f['offset_s']:.1f}s" if f["offset_s"] is not None else "-"
            console.print(f"    [{f['severity']}] {f['rule']} at {at} ({f['speaker'] or '-'}): "
                          f"{f['matched'] or ''} — {f['status']}", highlight=False)


def _print_conversation(c: dict[str, Any]) -> None:
    """The figures qa/conversation.py measured (while connected, holds excluded)."""
    def num(x: float | None, fmt: str = ".1f", unit: str = "s") -> str:
        return "-" if x is None else f"{x:{fmt}}{unit}"

    ratio = "-" if c["talk_ratio"] is None else f"{c['talk_ratio']:.0%} agent"
    console.print(f"  conversation ({num(c['connected_s'])} connected): talk agent {num(c['agent_talk_s'])} "
                  f"caller {num(c['caller_talk_s'])} ({ratio}); silence {num(c['silence_s'])}, longest "
                  f"{num(c['longest_silence_s'])} at {num(c['longest_silence_at_s'])}; interruptions "
                  f"{c['interruptions']}; agent {num(c['agent_cpm'], '.0f', ' chars/min')} "
                  f"(caller {num(c['caller_cpm'], '.0f', ' chars/min')})", highlight=False)
    for t in c.get("turns", []):
        console.print(f"    agent turn {t['start_s']:6.1f}s-{t['end_s']:.1f}s: {t['chars']} chars in "
                      f"{t['speech_s']:.1f}s = {num(t['cpm'], '.0f', ' chars/min')}", highlight=False)


calls_app.command("pause")(pause_cmd)  # app/pause_commands.py: MixMonitorMute through a short AMI login
calls_app.command("resume")(resume_cmd)


# ----- asterisk-config -------------------------------------------------------------------


def asterisk_snippets(cfg: Config, show_secret: bool = False) -> dict[str, str]:
    """The lines a PBX admin pastes into manager.conf, extensions.conf and queues.conf."""
    a = cfg.ami
    secret = a.password if show_secret and a.password else f"<the secret: ${a.secret_env} or ami.secret>"
    manager = "\n".join([
        "; manager.conf",
        "[general]",
        "enabled = yes",
        f"port = {a.port}",
        "bindaddr = 127.0.0.1          ; or the address `hotline serve` connects to",
        "",
        f"[{a.username}]",
        f"secret = {secret}",
        "deny = 0.0.0.0/0.0.0.0",
        "permit = 127.0.0.1/255.255.255.255   ; the host running `hotline serve`",
        "read = all",
        "write = all",
        "; Events the service never reads (regexes over the event text); dropping them saves parsing:",
        "eventfilter = !Event: VarSet",
        "eventfilter = !Event: RTCP.*",
        "eventfilter = !Event: Newexten",
        "eventfilter = !Event: Cdr",
    ])  # fmt: skip
    prefix = cfg.prompts.asterisk_prefix.strip("/")
    ext = [
        "; extensions.conf: the hotline number(s) hand the call to the service (Async AGI over AMI).",
        "; No Answer() here: the service answers with AGI ANSWER, starts MixMonitor, plays the opening line.",
        "[hotline]",
        "exten => _X.,1,AGI(agi:async)",
        " same => n,Hangup()",
    ]
    if cfg.extensions:
        ext += ["", "; Device-state hints for the extensions the menus dial (optional: BLF, queue state).",
                "[hotline-hints]"]
        ext += [f"exten => {name},hint,{e.dial}" for name, e in cfg.extensions.items()]
    queues = ["; queues.conf: one section per queue the menus route to (add your agents as members)."]
    for q in cfg.queues.values():
        queues += [f"[{q.name}]", "strategy = ringall", "timeout = 15", "ringinuse = no",
                   "; member => SIP/agent1001", ""]
    files = [
        "; Files",
        f"; prompts: copy {cfg.path(cfg.prompts.directory)}/*.wav to <astdatadir>/sounds/{prefix}/ "
        "(8 kHz 16-bit mono WAV, played as " + f"{prefix}/<name>)",
        f"; recordings: MixMonitor writes to {cfg.recording.asterisk_directory}; the service reads them at "
        f"{cfg.path(cfg.recording.directory)} (mount the same folder)",
    ]
    return {"manager.conf": manager, "extensions.conf": "\n".join(ext), "queues.conf": "\n".join(queues).rstrip(),
            "files": "\n".join(files)}


def asterisk_config(
    config: ConfigOpt = None,
    show_secret: Annotated[bool, typer.Option(help="Print the AMI secret instead of a placeholder.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Print the manager.conf user, the extensions.conf lines and queue stubs Asterisk needs."""
    cfg = load(config)
    parts = asterisk_snippets(cfg, show_secret)
    if as_json:
        print_json(parts)
        return
    print("\n\n".join(parts.values()))


# ----- demo ------------------------------------------------------------------------------


def demo(
    calls: Annotated[int | None, typer.Option("--calls", "-n", min=1, help="How many scripted calls to place, "
                                              "cycling through the script [default: each call once].")] = None,
    script: Annotated[Path | None, typer.Option("--script", help="A YAML file of scripted calls "
                                                "[default: the shipped app/demo_calls.yaml].")] = None,
    speed: Annotated[float, typer.Option(help="Simulated time runs this many times faster than real time.")] = 4.0,
    workdir: Annotated[Path | None, typer.Option(help="Where the demo's files and database go, never over a "
                                                 "config.yaml the demo did not write [default: temp].")] = None,
    transcribe: Annotated[bool, typer.Option(help="Transcribe and QA the calls after they end.")] = True,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the temporary demo folder, to browse its calls.")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every call and AMI event summary.")] = False,
) -> None:
    """Run the real service against the built-in Asterisk simulator with scripted callers."""
    from app.demo import DemoError, run_demo

    cfg = load(config)
    setup_logging(verbose) if verbose else logging.basicConfig(level=logging.WARNING, format="%(levelname)s "
                                                                "%(name)s: %(message)s")
    try:
        result = run_demo(cfg, calls=calls, speed=speed, workdir=workdir, transcribe=transcribe,
                          progress=None if as_json else console, script=script, keep=keep)
    except DemoError as exc:
        fail(str(exc), code=1)
    if as_json:
        print_json(result)
