"""`hotline`: the one entry point. This file only registers the packages' commands."""

from __future__ import annotations

import typer

from accounts.commands import users_app
from app.callback_commands import callbacks_cmd
from app.checks import config_check, db_upgrade, menu_walk
from app.commands import asterisk_config, calls_app, demo, serve, status
from app.evalcalls import eval_calls
from app.pipeline import after_transcript
from app.redact_commands import redact_cmd
from app.retention_commands import hold as recordings_hold
from app.retention_commands import purge as recordings_purge
from cliutil import ConfigOpt, command_group, use_config
from dial.commands import dial
from menus.commands import greeting_app, menu_app
from qa.commands import app as qa_app
from qa.score_commands import appeal_cmd, appeals_app, score_cmd, scores_cmd
from recordings.commands import recordings_app
from transcribe.commands import jobs_app, transcribe_command
from transcribe.model_commands import model_app
from transcribe.worker_commands import worker_command
from web.commands import web_cmd

app = typer.Typer(
    name="hotline",
    help="Hotline: a Chinese customer-service IVR on Asterisk, with recording, transcription and QA.",
    no_args_is_help=True,
    rich_markup_mode=None,  # help texts say "[default: temp]": Rich markup would swallow the brackets
    pretty_exceptions_enable=False,
)


@app.callback()
def main(config: ConfigOpt = None) -> None:
    """Hotline: a Chinese customer-service IVR on Asterisk, with recording, transcription and QA."""
    use_config(config)


config_app = command_group("Check the configuration file.")
db_app = command_group("Database schema (migrations).")
config_app.command("check")(config_check)
db_app.command("upgrade")(db_upgrade)
menu_app.command("walk")(menu_walk)

app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(menu_app, name="menu")
app.add_typer(greeting_app, name="greeting")
app.add_typer(model_app, name="model")
app.command("transcribe")(transcribe_command(qa_scan=after_transcript))
app.add_typer(jobs_app, name="jobs")
app.command("worker")(worker_command(qa_scan=after_transcript))
app.command("serve")(serve)
app.command("status")(status)
app.command("demo")(demo)
calls_app.command("callbacks")(callbacks_cmd)
app.add_typer(calls_app, name="calls")
app.command("asterisk-config")(asterisk_config)
app.command("dial")(dial)
recordings_app.command("purge")(recordings_purge)  # retention reads QA and jobs: it lives in app
recordings_app.command("hold")(recordings_hold)
recordings_app.command("redact")(redact_cmd)  # reads transcripts (transcribe): it lives in app
app.add_typer(recordings_app, name="recordings")
qa_app.command("eval-calls")(eval_calls)  # runs the demo pipeline, so it lives in app
qa_app.command("web")(web_cmd)  # the review app sits above qa (web/), so it is registered here
qa_app.command("score")(score_cmd)
qa_app.command("scores")(scores_cmd)
qa_app.command("appeal")(appeal_cmd)
qa_app.add_typer(appeals_app, name="appeals")
app.add_typer(qa_app, name="qa")
app.add_typer(users_app, name="users")


if __name__ == "__main__":
    app()
