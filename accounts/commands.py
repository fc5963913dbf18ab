"""`hotline users ...`: add, list, disable, enable accounts, change passwords, read the access log.

Passwords are never taken as an option (it would sit in shell history and `ps`): they come
from ``--password-stdin`` (one line, for scripts) or a hidden prompt typed twice. Like every
``*/commands.py``, the work is imported inside each command so `hotline --help` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from cliutil import ConfigOpt, JsonOpt, command_group, console, fail, load, parse_since, print_json

if TYPE_CHECKING:  # SQLAlchemy loads in the commands that use the database, not at `hotline --help`
    from sqlalchemy.orm import Session

users_app = command_group("Accounts: who may sign in to the review app and act in the CLI, with which role.")

NameArg = Annotated[str, typer.Argument(help="Account name (what the person signs in with).")]
StdinOpt = Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin "
                                        "(for scripts) instead of asking twice.")]


@contextmanager
def _session(config: ConfigOpt) -> Iterator[Session]:
    """A transaction on the config's database; AccountError and database faults end in one line."""
    import db
    from accounts.users import AccountError

    cfg = load(config)
    try:
        with db.transaction(cfg.database_url) as session:
            yield session
    except AccountError as exc:
        fail(str(exc))
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # an unreachable or broken database: one line, no traceback
        if type(exc).__module__.startswith("sqlalchemy") or isinstance(exc, OSError):
            fail(f"database {cfg.database.url}: {str(exc).splitlines()[0]}")
        raise


def _password(from_stdin: bool) -> str:
    from accounts.users import AccountError, check_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True)
        if typer.prompt("Again", hide_input=True) != password:
            fail("the two passwords differ: run the command again")
    try:
        check_password(password)
    except AccountError as exc:
        fail(str(exc))
    return password


@users_app.command("add")
def add_cmd(
    name: NameArg,
    role: Annotated[str, typer.Option("--role", help="agent | reviewer | lead | admin")],
    agent_id: Annotated[str | None, typer.Option("--agent-id", help="For an agent: the agent as calls record it "
                                                 "(the answering interface, e.g. SIP/agent1001).")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help="The name shown in the app.")] = None,
    password_stdin: StdinOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Create an account; the password comes from a hidden prompt (twice) or --password-stdin."""
    from accounts.roles import ROLES
    from accounts.users import add_user

    if role not in ROLES:  # before asking for a password that would be thrown away
        fail(f"--role {role!r}: one of {', '.join(ROLES)}")
    password = _password(password_stdin)
    with _session(config) as session:
        account = add_user(session, name, role, password, display_name=display_name, agent_id=agent_id)
        shown = f"{account.name} ({account.role})"
    console.print(f"account {shown} added", highlight=False)
    if role == "agent" and not agent_id:
        console.print("[yellow]note:[/] no --agent-id: this agent sees none of its calls until one is set",
                      highlight=False)


@users_app.command("set")
def set_cmd(
    name: NameArg,
    role: Annotated[str | None, typer.Option("--role", help="agent | reviewer | lead | admin")] = None,
    agent_id: Annotated[str | None, typer.Option("--agent-id", help="The agent as calls record it; '' clears "
                                                 "it.")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help="'' clears it.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Change an account's role, agent id or display name (the last enabled admin keeps its role)."""
    from accounts.users import update_user

    if role is None and agent_id is None and display_name is None:
        fail("nothing to change: give --role, --agent-id or --display-name")
    with _session(config) as session:
        account = update_user(session, name, role=role, agent_id=agent_id, display_name=display_name)
        shown = f"{account.name}: role {account.role}, agent id {account.agent_id or '-'}"
    console.print(shown, highlight=False)


@users_app.command("list")
def list_cmd(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Every account: name, role, agent id, enabled or not, last sign-in (UTC). Never a password hash."""
    from accounts.users import list_users

    with _session(config) as session:
        rows = [{"name": a.name, "display_name": a.display_name, "role": a.role, "agent_id": a.agent_id,
                 "active": a.active, "created_at": a.created_at.isoformat(),
                 "last_login_at": a.last_login_at.isoformat() if a.last_login_at else None}
                for a in list_users(session)]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} account(s)")
    for col in ("name", "display name", "role", "agent id", "active", "last sign-in (UTC)"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(Text(r["name"]), Text(r["display_name"] or ""), r["role"], Text(r["agent_id"] or ""),
                      "yes" if r["active"] else "[red]disabled[/]",
                      (r["last_login_at"] or "never")[:16].replace("T", " "))
    console.print(table)


@users_app.command("disable")
def disable_cmd(name: NameArg, config: ConfigOpt = None) -> None:
    """Stop an account from signing in or acting; its past reviews and log rows stay."""
    from accounts.users import disable

    with _session(config) as session:
        disable(session, name)
    console.print(f"account {name} disabled", highlight=False)


@users_app.command("enable")
def enable_cmd(name: NameArg, config: ConfigOpt = None) -> None:
    """Let a disabled account sign in again."""
    from accounts.users import enable

    with _session(config) as session:
        enable(session, name)
    console.print(f"account {name} enabled", highlight=False)


@users_app.command("passwd")
def passwd_cmd(name: NameArg, password_stdin: StdinOpt = False, config: ConfigOpt = None) -> None:
    """Set an account's password (hidden prompt twice, or --password-stdin)."""
    from accounts.users import get_account, set_password

    with _session(config) as session:  # an unknown name fails before the password is asked
        if get_account(session, name) is None:
            fail(f"no account {name!r}: see `hotline users list`")
    password = _password(password_stdin)
    with _session(config) as session:
        set_password(session, name, password)
    console.print(f"password of {name} changed", highlight=False)


@users_app.command("log")
def log_cmd(
    account: Annotated[str | None, typer.Option("--account", help="Only this account's rows.")] = None,
    action: Annotated[str | None, typer.Option("--action", help="Only this action: listen, listen-original, "
                                               "unmask, review, sign-in, sign-in-failed, ...")] = None,
    since: Annotated[str | None, typer.Option("--since", help="2026-03-01, 2026-03-01T08:00, or 7d / 12h.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many rows.")] = 200,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Who listened to, unmasked or reviewed what, and who signed in, newest first (times in UTC)."""
    from accounts.users import access_log

    try:
        since_dt = parse_since(since) if since else None
    except ValueError as exc:
        fail(str(exc))
    with _session(config) as session:
        rows = [{"at": r.at.isoformat(), "account": r.account, "action": r.action, "target": r.target,
                 "via": r.via, "address": r.address}
                for r in access_log(session, account=account, action=action, since=since_dt, limit=limit)]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} access(es)")
    for col in ("at (UTC)", "account", "action", "target", "via", "address"):
        table.add_column(col, overflow="fold")
    for r in rows:
        # Text, not markup: a failed sign-in logs whatever name was typed, brackets included
        table.add_row(r["at"][:19].replace("T", " "), Text(r["account"]), Text(r["action"]), Text(r["target"] or ""),
                      r["via"], Text(r["address"] or ""))
    console.print(table, highlight=False)
