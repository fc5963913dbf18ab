"""`hotline`: the one entry point. This file only wires the packages' commands together."""

from __future__ import annotations

import typer

from cliutil import ConfigOpt, JsonOpt, config_path, console, fail, load, print_json
from ivr.commands import asterisk_config, calls_app, demo, serve
from ivr.dial_commands import dial
from ivr.menu_commands import greeting_app, menu_app
from qa.commands import app as qa_app
from recordings.commands import recordings_app
from transcribe.commands import jobs_app, transcribe
from transcribe.model_commands import model_app

app = typer.Typer(
    name="hotline",
    help="Hotline: a Chinese customer-service IVR on Asterisk, with recording, transcription and QA.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Check the configuration file.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (migrations).", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(menu_app, name="menu")
app.add_typer(greeting_app, name="greeting")
app.add_typer(model_app, name="model")
app.command("transcribe")(transcribe)
app.add_typer(jobs_app, name="jobs")
app.command("serve")(serve)
app.command("demo")(demo)
app.add_typer(calls_app, name="calls")
app.command("asterisk-config")(asterisk_config)
app.command("dial")(dial)
app.add_typer(recordings_app, name="recordings")
app.add_typer(qa_app, name="qa")


@config_app.command("check")
def config_check(
    path: str = typer.Argument(None, help="Config file to check [default: --config, $HOTLINE_CONFIG, ./config.yaml]."),
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a config file: one line naming file:line:field per problem, exit 2 if broken."""
    from pathlib import Path

    target = Path(path) if path else config_path(config)
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


@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None) -> None:
    """Create or upgrade the database schema to the newest revision."""
    import db

    cfg = load(config)
    try:
        db.upgrade(cfg.database_url)
    except Exception as exc:  # a bad URL or an unreachable server: say which, no traceback
        fail(f"database {cfg.database.url}: {exc}", code=1)
    console.print(f"[green]ok[/] schema at head: {cfg.database_url}")


if __name__ == "__main__":
    app()
