"""Commands that check an installation: `config check`, `db upgrade`, `menu walk`.

`menu walk` is here, not in menus/, because it runs the real IVR service on the simulator:
that is wiring, and only the app knows both. Like every commands module, the work is imported
inside each command, so `hotline --help` does not load SQLAlchemy or the simulator.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from cliutil import ConfigOpt, JsonOpt, config_path, console, err_console, fail, load, print_json


def config_check(
    path: Annotated[
        Path | None, typer.Argument(help="Config file to check [default: --config, $HOTLINE_CONFIG, ./config.yaml].")
    ] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a config file: one line naming file:line:field per problem, exit 2 if broken."""
    from menus.lint import errors, lint_file

    target = path or config_path(config)
    problems = lint_file(target)  # every problem, numbered as `hotline menu lint` numbers them
    broken = bool(errors(problems))
    if broken and as_json:
        print_json({"file": str(target), "ok": False, "problems": [p.as_dict() for p in problems]})
    elif not as_json:
        for p in problems:
            (err_console if broken else console).print(Text(p.format(target), style="red" if p.severity == "error"
                                                            else "yellow"), soft_wrap=True, highlight=False)
    if broken:
        raise typer.Exit(2)
    cfg = load(target)
    summary = {
        "file": str(target),
        "ok": True,
        "company": cfg.company,
        "menus": len(cfg.menus),
        "options": sum(len(m.options) for m in cfg.menus.values()),
        "queues": len(cfg.queues),
        "extensions": len(cfg.extensions),
        "qa_phrase_rules": len(cfg.qa.phrases),
    }
    if as_json:
        print_json(summary)
    else:
        console.print(
            f"[green]ok[/] {target}: {summary['menus']} menus, {summary['options']} options, "
            f"{summary['queues']} queues, {summary['extensions']} extensions, "
            f"{summary['qa_phrase_rules']} QA phrase rules"
        )


def db_upgrade(config: ConfigOpt = None) -> None:
    """Create or upgrade the database schema to the newest revision."""
    import db

    cfg = load(config)
    try:
        db.upgrade(cfg.database_url)
    except Exception as exc:  # a bad URL or an unreachable server: say which, no traceback
        fail(f"database {cfg.database.url}: {exc}", code=1)
    console.print(f"[green]ok[/] schema at head: {cfg.database_url}")


def menu_walk(
    plan_only: Annotated[bool, typer.Option("--plan", help="Only list the paths; place no calls.")] = False,
    speed: Annotated[float, typer.Option("--speed", help="Simulator speed-up (call time / wall time).")] = 8.0,
    workdir: Annotated[
        Path | None, typer.Option("--workdir", help="Keep the walk's database and recordings here [default: temp].")
    ] = None,
    pbx: Annotated[bool, typer.Option("--pbx", help="Place the calls through the config's Asterisk (AMI "
                                      "Originate); the running `hotline serve` answers them.")] = False,
    number: Annotated[str, typer.Option("--number", help="With --pbx: the hotline number to call.")] = "400",
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One simulated call per DTMF path from the entry menu: the prompts heard and where each call ended.

    The calls go to the built-in Asterisk simulator, answered by the real IVR service
    running this config (in a work folder of its own: your database is not touched).
    With --pbx they go through the real PBX as calls (app/walk_pbx.py) and land in the call log."""
    from app.demo import demo_folder
    from app.walk import moments_text, plan, walk

    cfg = load(config)
    if plan_only:
        paths = plan(cfg)
        if as_json:
            print_json([p.as_dict() for p in paths])
            return
        table = Table("#", "kind", "keys", "should hear", "should end at")
        for i, p in enumerate(paths, 1):
            table.add_row(str(i), p.kind, p.digits, " ".join(p.heard), p.end)
        console.print(table)
        for line in moments_text(paths):
            console.print(Text(line), soft_wrap=True)
        return
    try:
        if pbx:
            from app.walk_pbx import walk_on_pbx

            results = walk_on_pbx(cfg, plan(cfg, at=datetime.now(UTC)), number)  # serve picks by business hours now
        else:
            # never over the admin's config.yaml: a folder holding one gets a hotline-demo folder inside it
            results = walk(cfg, speed=speed, workdir=demo_folder(workdir)[0] if workdir else None)
    except Exception as exc:  # the simulator or the service could not start: one line, not a traceback
        fail(f"walk: {type(exc).__name__}: {exc}".splitlines()[0], code=1)
    if as_json:
        print_json([r.as_dict() for r in results])
    else:
        table = Table("#", "kind", "keys", "heard", "ended", "", show_lines=False)
        for i, r in enumerate(results, 1):
            mark = Text("ok", style="green") if r.ok else Text(f"FAIL: {r.problem}", style="red")
            table.add_row(str(i), r.path.kind, r.path.digits, " ".join(r.heard), r.ended, mark)
        console.print(table)
        for line in moments_text([r.path for r in results]):
            console.print(Text(line), soft_wrap=True)
        bad = sum(not r.ok for r in results)
        console.print(Text(f"{len(results) - bad}/{len(results)} paths as planned", style="bold red" if bad else
                           "bold green"))  # fmt: skip
    if any(not r.ok for r in results):
        raise typer.Exit(1)
