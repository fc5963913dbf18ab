"""`hotline menu ...` and `hotline greeting ...`: show, edit, lint, version and render the menus.

This module holds the command groups and the commands that change files (edits, rollback,
import, prompts); show_commands the read-only views (show, tree, lint, greeting show) and
version_commands the history (history, diff). Every change takes one path, save_pending:
menus.edit (tree edit, lint, validation, diff), menus.guard (what the change does to callers:
refused unless --force --message) and menus.versions (locked atomic write + a numbered
version). Exit status 2 means the change was refused and config.yaml is byte-for-byte
what it was. menus.versions and menus.prompts are imported inside the commands, for
start-up time: they load the database layer and speech synthesis with its pinyin tables
(1.1 s and 1.3 s measured on top of this module), which no other command here needs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table
from rich.text import Text

from cliutil import ConfigOpt, JsonOpt, command_group, config_path, console, err_console, fail, load, print_json
from menus import edit as me
from menus import schedule_commands, show_commands, version_commands
from menus.configfile import EditError
from menus.show_commands import print_diff

menu_app = command_group("Show, edit, check and version the IVR menus in config.yaml.")
option_app = command_group("Set or remove one digit of a menu.")
greeting_app = command_group("The mandated opening line callers hear first.")
menu_app.add_typer(option_app, name="option")
menu_app.command("show")(show_commands.show)
menu_app.command("tree")(show_commands.tree)
menu_app.add_typer(schedule_commands.schedule_app, name="schedule")

DryRunOpt = Annotated[bool, typer.Option("--dry-run", "-n", help="Show the diff only; write nothing.")]
AuthorOpt = Annotated[str | None, typer.Option("--author", help="Who made the change [default: $USER].")]
MessageOpt = Annotated[str | None, typer.Option("--message", "-m", help="Why [default: a summary of the edit].")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Save an edit that would hurt callers (needs --message WHY).")]
ReplaceOpt = Annotated[bool, typer.Option("--replace", help="Change a digit that already routes somewhere.")]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", help="Seconds to wait for a key (1-30).")]
RetriesOpt = Annotated[int | None, typer.Option("--retries", help="More tries after a timeout/invalid key (0-5).")]
FbActionOpt = Annotated[
    str | None, typer.Option("--fallback-action", help="Where callers go when tries run out: queue|extension|...")
]
FbTargetOpt = Annotated[str | None, typer.Option("--fallback-target", help="The fallback's queue/extension/menu.")]
PromptFileOpt = Annotated[
    str | None, typer.Option("--prompt-file", help="An admin's recording to play instead of the synthesized prompt.")
]


# ---------------------------------------------------------------- edits


@dataclass(frozen=True)
class Save:
    """How an edit is saved: the options every edit command shares."""

    dry_run: bool = False
    author: str | None = None
    message: str | None = None
    force: bool = False  # past the harms menus.guard finds
    replace: bool = False  # past the one harm of changing a digit that already routes somewhere


def run_edit(config: Path | None, edit: me.Edit, save: Save) -> None:
    path = config_path(config)
    save_pending(lambda: me.prepare(path, edit), save)


def save_pending(prepare: Callable[[], me.Pending], save: Save) -> None:
    """The one path every change takes: prepare (lint + validate + harms) -> diff -> write + version, or exit 2."""
    from menus.versions import commit

    if save.force and not (save.message or "").strip():
        fail("--force needs --message WHY: the reason is recorded in the version")
    try:
        pending = prepare()
    except EditError as exc:
        _refuse(exc.lines)
    harms = [h for h in pending.harms if not (save.replace and h.replaces)]
    if harms and not save.force:
        _refuse([h.refusal() for h in harms])
    print_diff(pending.diff())
    for w in pending.warnings:
        err_console.print(Text(f"warning: {w.where}: {w.message} [{w.rule}]", style="yellow"), soft_wrap=True)
    if save.dry_run:
        console.print(Text(f"dry run: {pending.summary} (nothing written)", style="bold"))
        return
    message = save.message or pending.summary
    if harms:  # the version says what was forced past, beside the admin's reason
        message += " (forced: " + "; ".join(f"{h.where} {h.rule}" for h in harms) + ")"
    try:
        number = commit(pending, save.author, message)
    except EditError as exc:
        fail(str(exc))
    except Exception as exc:  # the database, most likely: the file was not written (same transaction)
        fail(f"not saved: {exc}".splitlines()[0], code=1)
    console.print(Text(f"saved {pending.path.name} as version {number}: {message}", style="bold green"))


def _refuse(lines: list[str]) -> NoReturn:
    for line in lines:
        err_console.print(Text("error: ", style="bold red") + Text(line), soft_wrap=True, highlight=False)
    raise typer.Exit(2)


def _fallback(action: str | None, target: str | None) -> Any:
    if action is None:
        if target is not None:
            fail("--fallback-target needs --fallback-action")
        return None
    try:
        return me.route(action, target)
    except EditError as exc:
        fail(f"fallback: {exc}")


@menu_app.command("add")
def add(
    menu: Annotated[str, typer.Argument(help="New menu id (letters, digits, - and _).")],
    prompt: Annotated[str, typer.Option("--prompt", help="What callers hear: the choices and their keys.")],
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    fallback_action: FbActionOpt = None,
    fallback_target: FbTargetOpt = None,
    prompt_file: PromptFileOpt = None,
    option: Annotated[list[str] | None, typer.Option("--option", help="A digit of the new menu, repeatable: "
                                                     "DIGIT=ACTION[:TARGET[:CATEGORY]], e.g. 1=queue:support.")] = None,
    route_from: Annotated[str | None, typer.Option("--from", help="Route this digit to the new menu: MENU:DIGIT, "
                                                   "e.g. main:4.")] = None,
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
    author: AuthorOpt = None,
    message: MessageOpt = None,
    force: ForceOpt = False,
    replace: ReplaceOpt = False,
) -> None:
    """Add a menu with its options and the digit that reaches it, as one version (its fallback defaults to the
    entry menu's)."""
    fb = _fallback(fallback_action, fallback_target)
    edits = [me.add_menu(menu, prompt, timeout, retries, fb, prompt_file)]
    try:
        edits += [me.set_option(menu, *me.option_spec(o)) for o in option or []]
    except EditError as exc:
        fail(str(exc))
    if route_from is not None:
        parent, sep, digit = route_from.partition(":")
        if not sep or not parent or not digit:
            fail(f"--from {route_from}: write MENU:DIGIT, e.g. main:4")
        edits.append(me.set_option(parent, digit, "submenu", menu))
    run_edit(config, me.chain(*edits), Save(dry_run, author, message, force, replace))


@menu_app.command("set")
def set_(
    menu: Annotated[str, typer.Argument(help="The menu to change.")],
    prompt: Annotated[str | None, typer.Option("--prompt", help="New prompt text.")] = None,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    fallback_action: FbActionOpt = None,
    fallback_target: FbTargetOpt = None,
    prompt_file: PromptFileOpt = None,
    no_prompt_file: Annotated[
        bool, typer.Option("--no-prompt-file", help="Drop the recording; speak the text.")
    ] = False,
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
    author: AuthorOpt = None,
    message: MessageOpt = None,
    force: ForceOpt = False,
) -> None:
    """Change a menu's prompt, timeout, retries, fallback or recording."""
    fb = _fallback(fallback_action, fallback_target)
    edit = me.set_menu(menu, prompt, timeout, retries, fb, prompt_file, no_prompt_file)
    run_edit(config, edit, Save(dry_run, author, message, force))


@menu_app.command("remove")
def remove(
    menu: Annotated[str, typer.Argument(help="The menu to remove.")],
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
    author: AuthorOpt = None,
    message: MessageOpt = None,
    force: ForceOpt = False,
) -> None:
    """Remove a menu; refused while another menu still routes to it (they are named)."""
    run_edit(config, me.remove_menu(menu), Save(dry_run, author, message, force))


@option_app.command("set")
def option_set(
    menu: Annotated[str, typer.Argument(help="The menu.")],
    digit: Annotated[str, typer.Argument(help="The key: 0-9, * or #.")],
    action: Annotated[str, typer.Argument(help="submenu | queue | extension | repeat | hangup")],
    target: Annotated[str | None, typer.Argument(help="Menu, queue or extension (submenu/queue/extension).")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Feedback category calls are filed under.")] = None,
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
    author: AuthorOpt = None,
    message: MessageOpt = None,
    force: ForceOpt = False,
    replace: ReplaceOpt = False,
) -> None:
    """Add or change what a digit does (a digit that already routes somewhere needs --replace)."""
    edit = me.set_option(menu, digit, action, target, category)
    run_edit(config, edit, Save(dry_run, author, message, force, replace))


@option_app.command("remove")
def option_remove(
    menu: Annotated[str, typer.Argument(help="The menu.")],
    digit: Annotated[str, typer.Argument(help="The key to remove.")],
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
    author: AuthorOpt = None,
    message: MessageOpt = None,
    force: ForceOpt = False,
) -> None:
    """Remove a digit from a menu."""
    run_edit(config, me.remove_option(menu, digit), Save(dry_run, author, message, force))


@greeting_app.command("set")
def greeting_set(
    text: Annotated[str, typer.Argument(help="The opening line: must say the company name and offer help.")],
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
    author: AuthorOpt = None,
    message: MessageOpt = None,
    force: ForceOpt = False,
) -> None:
    """Change the mandated opening line (checked: company name and an offer of help)."""
    run_edit(config, me.set_greeting(text), Save(dry_run, author, message, force))


greeting_app.command("show")(show_commands.greeting_show)
menu_app.command("lint")(show_commands.lint)
menu_app.command("history")(version_commands.history_cmd)
menu_app.command("diff")(version_commands.diff_cmd)


@menu_app.command("export")
def export(config: ConfigOpt = None) -> None:
    """Print the menus section as it is in the file (comments kept), for `hotline menu import`."""
    from menus.exchange import export_text

    try:
        text = export_text(config_path(config))
    except EditError as exc:
        fail(str(exc))
    sys.stdout.write(text)


@menu_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A file holding a 'menus:' section (what `menu export` prints).")],
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
    author: AuthorOpt = None,
    message: MessageOpt = None,
    force: ForceOpt = False,
) -> None:
    """Put a file's menus in place of the config's: checked as a whole, saved as one version."""
    from menus.exchange import prepare_import

    path = config_path(config)
    # Replacing routes is what an import is for; the other harms (a menu left unreachable ...) need --force.
    save_pending(lambda: prepare_import(path, file), Save(dry_run, author, message, force, replace=True))


# ---------------------------------------------------------------- rollback and prompts


@menu_app.command("rollback")
def rollback(
    version: Annotated[int, typer.Argument(help="The version to go back to.")],
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
    author: AuthorOpt = None,
    message: MessageOpt = None,
    force: ForceOpt = False,
) -> None:
    """Put an earlier version back (checked like any edit, recorded as a new version); works on a broken file."""
    from menus.versions import prepare_rollback

    store = version_commands.open_store(config)
    # Going back replaces routes by design; the other harms (a menu left unreachable ...) still need --force.
    save_pending(lambda: prepare_rollback(store, version), Save(dry_run, author, message, force, replace=True))


@menu_app.command("prompts")
def prompts(
    force: Annotated[bool, typer.Option("--force", help="Render every prompt again, even unchanged ones.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Only report ok/missing/stale; render nothing.")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Render the opening line and every prompt to 8 kHz 16-bit mono WAV for Asterisk; report each."""
    from menus.prompts import playback_name, prompt_status, render_prompts

    cfg = load(config)
    items = prompt_status(cfg) if check else render_prompts(cfg, force=force)
    if as_json:
        print_json([{**i.as_dict(), "playback": playback_name(cfg, i.name)} for i in items])
    else:
        table = Table("name", "text", "file", "source", "status")
        colours = {"ok": "green", "rendered": "cyan", "missing": "red", "stale": "yellow", "error": "red"}
        for i in items:
            status = Text(i.status, style=colours[i.status])
            if i.detail:
                status.append(f": {i.detail}", style="dim")
            table.add_row(i.name, i.text, str(i.file), i.source, status)
        console.print(table)
    bad = [i for i in items if i.status in ("error", "missing", "stale")]
    if bad:
        raise typer.Exit(1)
