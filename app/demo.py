"""`hotline demo`: the real service against the built-in Asterisk simulator, end to end.

``DemoEnv`` is the reusable part (the tests and bench/ivr_load.py use it too): a work
folder with its own config.yaml (database, recordings, prompts inside the folder; AMI
pointed at the simulator), the prompts rendered, the simulator listening, and the
real :class:`~ivr.service.IvrService` logged in to it.

``run_demo`` places the calls of a script file (app/scripts.py; the default is the
shipped app/demo_calls.yaml) in a cycle, waits for them,
transcribes and QA-scans them (transcribe/worker.py in drain mode) when those parts
are installed, and prints a summary table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from ruamel.yaml import YAML

from app.calllog import call_detail, transcript_snippet
from app.pipeline import after_call, after_transcript
from app.scripts import DEFAULT_SCRIPT, ScriptedCall, ScriptError, load_script, resolve
from ivr.service import IvrService, wait_for
from menus.prompts import prompt_dir, prompt_texts, render_prompts
from pbx.simulator import AsteriskSimulator, CallScript, SimCall
from recordings.audio import AudioError, probe_wav
from settings import Config, load_config, read_yaml
from transcribe.worker import PoolError, run_pool

log = logging.getLogger("app.demo")


class DemoError(RuntimeError):
    """The demo cannot run; str() is one line."""


# The first line of every config the demo writes: the one file it may write over.
DEMO_MARK = "# Written by `hotline demo` for its own run: every path points inside this folder.\n"


def _written_by_demo(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as fh:
            return fh.readline() == DEMO_MARK
    except (OSError, UnicodeDecodeError):
        return False


def demo_folder(workdir: Path | None) -> tuple[Path, bool]:
    """Where a run works, and whether it is a new temporary folder.

    A ``workdir`` holding a config.yaml the demo did not write (an admin's own, `--workdir .`)
    gets a ``hotline-demo`` folder inside it instead: the demo's database and recordings stay
    out of the admin's, and their config is never written over."""
    if workdir is None:
        return Path(tempfile.mkdtemp(prefix="hotline-demo-")), True
    workdir = workdir.resolve()
    theirs = workdir / "config.yaml"
    if theirs.exists() and not _written_by_demo(theirs):
        workdir = workdir / "hotline-demo"
    return workdir, False


def write_config(base: Path, workdir: Path, *, port: int, secret: str = "hotline-secret",
                 edit: Callable[[Any], None] | None = None) -> Path:
    """``workdir/config.yaml``: ``base`` with every path inside ``workdir`` and AMI on the simulator.

    Refused (DemoError) over a config.yaml the demo did not write."""
    path = workdir / "config.yaml"
    if path.exists() and not _written_by_demo(path):
        raise DemoError(f"{path}: not written by the demo (your own config?); left untouched, choose another folder")
    data = read_yaml(base)
    data.setdefault("ami", {})
    data["ami"].update({"host": "127.0.0.1", "port": port, "username": "hotline", "secret": secret,
                        "secret_env": "HOTLINE_DEMO_NO_SUCH_VAR"})
    data.setdefault("database", {})["url"] = f"sqlite:///{workdir / 'hotline.db'}"
    rec = data.setdefault("recording", {})
    rec["directory"] = str(workdir / "monitor")
    rec["asterisk_directory"] = "/var/spool/asterisk/monitor"
    data.setdefault("prompts", {})["directory"] = str(workdir / "sounds")
    if isinstance(data.get("ivr"), dict):  # the scripted calls press the daytime menus' keys, at any hour
        data["ivr"].pop("schedule", None)
    if edit is not None:
        edit(data)
    workdir.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(DEMO_MARK)
        YAML(typ="rt").dump(data, fh)
    return path


def render(config: Config) -> None:
    """Render the prompts (espeak-ng); one error line per prompt that failed."""
    bad = [f"{p.name}: {p.detail}" for p in render_prompts(config) if p.status == "error"]
    if bad:
        raise DemoError("prompts could not be rendered: " + "; ".join(bad))


def prompt_seconds(config: Config) -> dict[str, float]:
    """Length of each rendered prompt (the scripts time their key presses by them)."""
    out: dict[str, float] = {}
    for name in prompt_texts(config):
        try:
            out[name] = probe_wav(prompt_dir(config) / f"{name}.wav").duration
        except AudioError:
            out[name] = 0.0
    return out


@dataclass
class DemoEnv:
    """A simulator and the real service on it, in one work folder."""

    workdir: Path
    config_path: Path
    config: Config
    sim: AsteriskSimulator
    service: IvrService

    @property
    def url(self) -> str:
        return self.config.database_url

    async def call(self, script: CallScript, timeout: float = 120.0) -> SimCall:
        """Place a call and wait until the simulator and the service are both done with it."""
        call = self.sim.place_call(script)
        await asyncio.wait_for(asyncio.shield(call.done), timeout)
        await self.settled(call.uniqueid, timeout)
        return call

    async def settled(self, uniqueid: str, timeout: float = 30.0) -> None:
        """Wait until the service closed the call and its row is written."""
        ok = await wait_for(lambda: any(s.uniqueid == uniqueid for s in self.service.finished), timeout)
        if not ok:
            raise TimeoutError(f"the service did not close call {uniqueid} in {timeout}s")
        await asyncio.to_thread(self.service.store.flush, timeout)


@contextlib.asynccontextmanager
async def demo_env(
    workdir: Path,
    *,
    base_config: Path,
    speed: float = 1.0,
    secret: str = "hotline-secret",
    edit: Callable[[Any], None] | None = None,
    sounds_dir: Path | None = None,
    measure: bool = False,
    reload_interval: float = 0.2,
    start_service: bool = True,
    store_process: bool = False,
) -> AsyncIterator[DemoEnv]:
    """Start the simulator and the service; stop both on exit.

    ``sounds_dir``: prompts already rendered for the same texts (tests share one render).
    """
    sim = AsteriskSimulator(sounds_dir=workdir / "sounds", monitor_dir=workdir / "monitor", speed=speed,
                            secret="hotline-secret")
    port = await sim.start()
    try:
        path = write_config(base_config, workdir, port=port, secret=secret, edit=edit)
        if sounds_dir is not None:
            _link_sounds(sounds_dir, workdir / "sounds")
        config = load_config(path)
        await asyncio.to_thread(render, config)
        service = IvrService(config, config_path=path, render_prompts=False, measure=measure,
                             reload_interval=reload_interval, time_scale=speed, store_process=store_process,
                             on_recordings_ready=after_call)
        env = DemoEnv(workdir, path, config, sim, service)
        if start_service:
            await service.start()
        try:
            yield env
        finally:
            await service.stop()
    finally:
        await sim.stop()


def _link_sounds(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        target = dest / f.name
        if not target.exists():
            target.write_bytes(f.read_bytes())


# ----- the scripted calls ----------------------------------------------------------------


def demo_scripts(seconds: dict[str, float], script: Path | None = None) -> list[CallScript]:
    """The calls of a script file (default: app/demo_calls.yaml), timed against the rendered prompts."""
    return resolve(load_script(script or DEFAULT_SCRIPT), seconds)


def run_demo(
    config: Config,
    *,
    calls: int | None = None,
    speed: float = 4.0,
    workdir: Path | None = None,
    transcribe: bool = True,
    progress: Console | None = None,
    script: Path | None = None,
    scripted: list[ScriptedCall] | None = None,
    gap_s: float = 0.3,
    keep: bool = True,
) -> dict[str, Any]:
    """Run the whole demo; returns what it printed as data.

    ``script``: a call-script file (default app/demo_calls.yaml); ``scripted``: calls already
    loaded from one. ``calls``: how many to place, cycling through them [default: each once].
    ``workdir``: see demo_folder [default: a new temporary folder, removed at the end unless ``keep``].
    """
    if config.source is None:
        raise DemoError("the demo needs a config file to start from")
    if scripted is None:
        try:
            scripted = load_script(script or DEFAULT_SCRIPT, prompts=set(prompt_texts(config)))
        except ScriptError as exc:
            raise DemoError(str(exc)) from None
    calls = len(scripted) if calls is None else calls
    workdir, temporary = demo_folder(workdir)
    say = progress.print if progress is not None else (lambda *a, **k: None)
    say(f"[bold]hotline demo[/]: {calls} scripted calls at {speed:g}x speed in {workdir}")
    t0 = time.monotonic()
    try:
        summaries = asyncio.run(_place(config.source, workdir, calls, speed, say, scripted, gap_s))
        say(f"calls done in {time.monotonic() - t0:.1f}s")
        demo_cfg = workdir / "config.yaml"
        cfg = load_config(demo_cfg)
        pool: dict[str, Any] = {"ran": False}
        if transcribe:
            pool = _transcribe(cfg, say)
        rows = _rows(cfg, summaries)
    finally:
        kept = keep or not temporary
        if not kept:
            shutil.rmtree(workdir, ignore_errors=True)
    browse = f"hotline qa web --config {demo_cfg}"
    if progress is not None:
        progress.print(_table(rows))
        progress.print(f"Total {time.monotonic() - t0:.1f}s. The demo's calls are in its own database, not yours.")
        if kept:  # the review app signs in with accounts, and the demo's database has none yet
            progress.print(f"First make yourself an account there: hotline users add NAME --role lead "
                           f"--config {demo_cfg}")
        progress.print(f"Browse them: [bold]{browse}[/]" if kept else
                       f"Removed {workdir}; run `hotline demo --keep` to browse the calls with `{browse}`.")
    return {"workdir": str(workdir), "config": str(demo_cfg), "kept": kept, "browse": browse if kept else None,
            "calls": rows, "transcription": pool, "seconds": round(time.monotonic() - t0, 1)}


async def _place(base: Path, workdir: Path, calls: int, speed: float, say: Callable[..., None],
                 scripted: list[ScriptedCall], gap_s: float) -> list[Any]:
    async with demo_env(workdir, base_config=base, speed=speed, store_process=True) as env:
        try:
            scripts = resolve(scripted, prompt_seconds(env.config))
        except (ScriptError, ValueError) as exc:  # a prompt name the config has not, a time the simulator refuses
            raise DemoError(str(exc)) from None
        placed: list[tuple[CallScript, SimCall]] = []
        for i in range(calls):
            script = scripts[i % len(scripts)]
            placed.append((script, env.sim.place_call(script)))
            await asyncio.sleep(gap_s)  # a little apart, as real callers are
        say(f"placed {len(placed)} calls; waiting for them to end")
        await asyncio.wait([c.done for _, c in placed], timeout=600)
        for _, call in placed:
            with contextlib.suppress(TimeoutError):
                await env.settled(call.uniqueid, 30)
        done = {s.uniqueid: s for s in env.service.finished}
        return [(script.name, done.get(call.uniqueid), call.uniqueid) for script, call in placed]


def _transcribe(cfg: Config, say: Callable[..., None]) -> dict[str, Any]:
    say("transcribing both tracks of every call and running QA (this is the slow part)...")
    t0 = time.monotonic()
    try:
        stats = run_pool(cfg, drain=True, qa_scan=after_transcript)
    except PoolError as exc:
        say(f"[yellow]transcription skipped: {exc}[/]")
        return {"ran": False, "reason": str(exc)}
    took = time.monotonic() - t0
    say(f"transcribed {stats.done} call(s) in {took:.1f}s ({stats.failed} failed)")
    return {"ran": True, "done": stats.done, "failed": stats.failed, "seconds": round(took, 1)}


def _rows(cfg: Config, summaries: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for name, summary, uid in summaries:
        d = call_detail(cfg.database_url, uid) or {}
        rows.append({
            "call": d.get("id"), "script": name, "uniqueid": uid, "path": d.get("path"), "route": d.get("route"),
            "agent": d.get("agent"), "hangup_by": d.get("hangup_by"), "duration_s": d.get("duration_s"),
            "ring_s": d.get("ring_s"), "status": d.get("status") or ("not closed" if summary is None else "?"),
            "agent_said": transcript_snippet(d, "agent") if d else "",
            "flags": sorted({f["rule"] for f in d.get("flags", [])}) if d else [],
            "error": d.get("error"),
        })  # fmt: skip
    return rows


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="demo calls (call seconds)", show_lines=True)
    for col in ("call", "script", "menu path", "route", "agent", "hung up", "dur", "agent said", "QA flags"):
        table.add_column(col, overflow="fold")
    for r in rows:
        dur = f"{r['duration_s']:.0f}s" if r["duration_s"] is not None else "-"
        agent = (r["agent"] or "-").split("/")[-1]
        if r["ring_s"] is not None:
            agent += f"\n{r['ring_s']:.0f}s ring"
        route = (r["route"] or "-").replace("extension ", "ext ")
        table.add_row(str(r["call"] or "-"), r["script"], (r["path"] or "-").replace(" > ", "\n"), route, agent,
                      r["hangup_by"] or "-", dur, r["agent_said"] or "-", "\n".join(r["flags"]) or "-")
    return table
