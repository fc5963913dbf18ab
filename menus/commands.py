"""`hotline menu ...` and `hotline greeting ...`: show, edit, lint, version and render the menus.

Every edit goes through menus.edit (tree edit, lint, validation, diff) and
menus.versions (locked atomic write + a numbered version). Exit status 2 means the
edit was refused and config.yaml is byte-for-byte what it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from cliutil import ConfigOpt, JsonOpt, command_group, config_path, console, err_console, fail, load, print_json
from menus import edit as me
from menus.configfile import EditError
from menus.lint import errors, lint_file
from settings import Config, Route

menu_app = command_group("Show, edit, check and version the IVR menus in config.yaml.")
option_app = command_group("Set or remove one digit of a menu.")
greeting_app = command_group("The mandated opening line callers hear first.")
menu_app.add_typer(option_app, name="option")

DryRunOpt = Annotated[bool, typer.Option("--dry-run", "-n", help="Show the diff only; write nothing.")]
AuthorOpt = Annotated[str | None, typer.Option("--author", help="Who made the change [default: $USER].")]
MessageOpt = Annotated[str | None, typer.Option("--message", "-m", help="Why [default: a summary of the edit].")]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", help="Seconds to wait for a key (1-30).")]
RetriesOpt = Annotated[int | None, typer.Option("--retries", help="More tries after a timeout/invalid key (0-5).")]
FbActionOpt = Annotated[
    str | None, typer.Option("--fallback-action", help="Where callers go when tries run out: queue|extension|...")
]
FbTargetOpt = Annotated[str | None, typer.Option("--fallback-target", help="The fallback's queue/extension/menu.")]
PromptFileOpt = Annotated[
    str | None, typer.Option("--prompt-file", help="An admin's recording to play instead of the synthesized prompt.")
]


# ---------------------------------------------------------------- show


def _route_row(r: Route) -> tuple[str, str, str]:
    return r.action, r.target or "", r.category or ""


def _route_dict(r: Route) -> dict[str, Any]:
    return {"action": r.action, "target": r.target, "category": r.category}


def _menu_dict(cfg: Config, name: str) -> dict[str, Any]:
    m = cfg.menus[name]
    return {
        "menu": name, "entry": name == cfg.ivr.entry_menu, "prompt": m.prompt,
        "prompt_file": str(m.prompt_file) if m.prompt_file else None, "timeout": m.timeout, "retries": m.retries,
        "fallback": _route_dict(m.fallback),
        "options": [{"digit": d, **_route_dict(r)} for d, r in m.options.items()],
    }  # fmt: skip


@menu_app.command("show")
def show(
    menu: Annotated[str | None, typer.Argument(help="One menu [default: all].")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The menus as tables: digit, action, target, category; prompt, timeout, retries, fallback."""
    cfg = load(config)
    names = [menu] if menu else list(cfg.menus)
    if menu and menu not in cfg.menus:
        fail(f"menu {menu}: no such menu (known: {', '.join(cfg.menus)})")
    if as_json:
        print_json([_menu_dict(cfg, n) for n in names])
        return
    for name in names:
        m = cfg.menus[name]
        fallback = " ".join(x for x in _route_row(m.fallback)[:2] if x)
        console.print(Text.assemble("menu ", (name, "bold"), " (entry)" if name == cfg.ivr.entry_menu else "",
                                    f"  timeout {m.timeout:g}s, retries {m.retries}, fallback {fallback}"),
                      soft_wrap=True)  # fmt: skip
        console.print(Text(f"prompt: {m.prompt}" + (f"  (recording: {m.prompt_file})" if m.prompt_file else "")),
                      soft_wrap=True)
        table = Table("digit", "action", "target", "category")
        for digit, r in m.options.items():
            table.add_row(digit, *_route_row(r))
        console.print(table)


def _tree_data(cfg: Config, name: str, path: list[str]) -> dict[str, Any]:
    m = cfg.menus[name]
    node: dict[str, Any] = {"menu": name, "prompt": m.prompt, "options": []}
    routes = [*m.options.items(), ("fallback", m.fallback)]
    for digit, r in routes:
        item: dict[str, Any] = {"digit": digit, **_route_dict(r)}
        if r.action == "submenu" and r.target:
            if r.target in path or r.target == name:
                item["loop"] = True  # back to a menu already on this path: not expanded again
            else:
                item["menu"] = _tree_data(cfg, r.target, [*path, name])
        node["options"].append(item)
    return node


def _tree_add(tree: Tree, node: dict[str, Any]) -> None:
    for item in node["options"]:
        label = Text(f"{item['digit']} → {item['action']}", style="bold" if item["digit"] != "fallback" else "dim")
        if item.get("target"):
            label.append(f" {item['target']}", style="cyan")
        if item.get("category"):
            label.append(f" [{item['category']}]", style="dim")
        if item.get("loop"):
            label.append("  ↺ loop (back to a menu above)", style="yellow")
        branch = tree.add(label)
        if "menu" in item:
            branch.add(Text(item["menu"]["prompt"], style="italic"))
            _tree_add(branch, item["menu"])


@menu_app.command("tree")
def tree(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """The menus as a tree from the entry menu: digit → action → target; submenus expanded once, loops marked."""
    cfg = load(config)
    data = _tree_data(cfg, cfg.ivr.entry_menu, [])
    if as_json:
        print_json(data)
        return
    root = Tree(Text.assemble(("menu ", ""), (cfg.ivr.entry_menu, "bold"), (f"  {cfg.menus[cfg.ivr.entry_menu].prompt}",
                                                                             "italic")))  # fmt: skip
    _tree_add(root, data)
    console.print(Text(f"greeting: {cfg.opening_line}"), soft_wrap=True)
    console.print(root)


# ---------------------------------------------------------------- edits


def print_diff(diff: str) -> None:
    styles = {"+": "green", "-": "red", "@": "cyan"}
    for line in diff.splitlines():
        style = "bold" if line.startswith(("+++", "---")) else styles.get(line[:1], "")
        console.print(Text(line, style=style), soft_wrap=True, highlight=False)


def run_edit(config: Path | None, edit: me.Edit, dry_run: bool, author: str | None, message: str | None) -> None:
    """The one path every edit takes: prepare (lint + validate) -> diff -> write + version, or exit 2."""
    from menus.versions import commit

    path = config_path(config)
    try:
        pending = me.prepare(path, edit)
    except EditError as exc:
        for line in exc.lines:
            err_console.print(Text("error: ", style="bold red") + Text(line), soft_wrap=True, highlight=False)
        raise typer.Exit(2) from None
    _save(pending, dry_run, author, message, commit)


def _save(pending: me.Pending, dry_run: bool, author: str | None, message: str | None, commit: Any) -> None:
    print_diff(pending.diff())
    for w in pending.warnings:
        err_console.print(Text(f"warning: {w.where}: {w.message} [{w.rule}]", style="yellow"), soft_wrap=True)
    if dry_run:
        console.print(Text(f"dry run: {pending.summary} (nothing written)", style="bold"))
        return
    try:
        number = commit(pending, author, message)
    except EditError as exc:
        fail(str(exc))
    except Exception as exc:  # the database, most likely: the file was not written (same transaction)
        fail(f"not saved: {exc}".splitlines()[0], code=1)
    console.print(Text(f"saved {pending.path.name} as version {number}: {message or pending.summary}",
                       style="bold green"))  # fmt: skip


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
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
    author: AuthorOpt = None,
    message: MessageOpt = None,
) -> None:
    """Add a menu (no options yet; its fallback defaults to the entry menu's). Route a digit to it to reach it."""
    fb = _fallback(fallback_action, fallback_target)
    run_edit(config, me.add_menu(menu, prompt, timeout, retries, fb, prompt_file), dry_run, author, message)


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
) -> None:
    """Change a menu's prompt, timeout, retries, fallback or recording."""
    fb = _fallback(fallback_action, fallback_target)
    edit = me.set_menu(menu, prompt, timeout, retries, fb, prompt_file, no_prompt_file)
    run_edit(config, edit, dry_run, author, message)


@menu_app.command("remove")
def remove(
    menu: Annotated[str, typer.Argument(help="The menu to remove.")],
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
    author: AuthorOpt = None,
    message: MessageOpt = None,
) -> None:
    """Remove a menu; refused while another menu still routes to it (they are named)."""
    run_edit(config, me.remove_menu(menu), dry_run, author, message)


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
) -> None:
    """Add or change what a digit does."""
    run_edit(config, me.set_option(menu, digit, action, target, category), dry_run, author, message)


@option_app.command("remove")
def option_remove(
    menu: Annotated[str, typer.Argument(help="The menu.")],
    digit: Annotated[str, typer.Argument(help="The key to remove.")],
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
    author: AuthorOpt = None,
    message: MessageOpt = None,
) -> None:
    """Remove a digit from a menu."""
    run_edit(config, me.remove_option(menu, digit), dry_run, author, message)


@greeting_app.command("set")
def greeting_set(
    text: Annotated[str, typer.Argument(help="The opening line: must say the company name and offer help.")],
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
    author: AuthorOpt = None,
    message: MessageOpt = None,
) -> None:
    """Change the mandated opening line (checked: company name and an offer of help)."""
    run_edit(config, me.set_greeting(text), dry_run, author, message)


@greeting_app.command("show")
def greeting_show(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """The opening line callers hear first."""
    cfg = load(config)
    if as_json:
        print_json({"company": cfg.company, "opening_line": cfg.opening_line})
    else:
        console.print(Text(cfg.opening_line))


# ---------------------------------------------------------------- lint


@menu_app.command("lint")
def lint(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Check the menus: one line per problem naming menu and digit; exit 2 if any is an error."""
    path = config_path(config)
    problems = lint_file(path)
    if as_json:
        print_json({"file": str(path), "errors": len(errors(problems)),
                    "problems": [p.as_dict() for p in problems]})  # fmt: skip
    else:
        for p in problems:
            style = "red" if p.severity == "error" else "yellow"
            console.print(Text(p.format(path), style=style), soft_wrap=True, highlight=False)
        n_err = len(errors(problems))
        summary = f"{n_err} error(s), {len(problems) - n_err} warning(s)" if problems else "ok: no problems"
        console.print(Text(summary, style="bold red" if n_err else "bold green"))
    if errors(problems):
        raise typer.Exit(2)


# ---------------------------------------------------------------- versions


@menu_app.command("history")
def history_cmd(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Every saved version: number, when, who, why."""
    from menus.versions import history

    cfg = load(config)
    rows = history(cfg)
    if as_json:
        print_json([r.as_dict() for r in rows])
        return
    if not rows:
        console.print("no versions yet: the first saved edit records the current file as version 1")
        return
    table = Table("version", "at (UTC)", "author", "message", "sha256")
    for r in rows:
        table.add_row(str(r.number), r.at.strftime("%Y-%m-%d %H:%M:%S"), r.author, r.message, r.sha256[:12])
    console.print(table)


@menu_app.command("diff")
def diff_cmd(
    v1: Annotated[int, typer.Argument(help="Older version.")],
    v2: Annotated[int | None, typer.Argument(help="Newer version [default: the file as it is now].")] = None,
    full: Annotated[bool, typer.Option("--full", help="The whole file, not only the menu sections.")] = False,
    config: ConfigOpt = None,
) -> None:
    """What changed between two versions (the menu sections, or --full for the whole file)."""
    from menus.versions import diff_versions

    cfg = load(config)
    try:
        text = diff_versions(cfg, v1, v2, full=full)
    except EditError as exc:
        fail(str(exc))
    if text:
        print_diff(text)
    else:
        console.print("no differences" + ("" if full else " in the menu sections (try --full)"))


@menu_app.command("rollback")
def rollback(
    version: Annotated[int, typer.Argument(help="The version to go back to.")],
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
    author: AuthorOpt = None,
    message: MessageOpt = None,
) -> None:
    """Put an earlier version back (checked like any edit, recorded as a new version)."""
    from menus.versions import commit, prepare_rollback

    cfg = load(config)
    try:
        pending = prepare_rollback(cfg, version)
    except EditError as exc:
        for line in exc.lines:
            err_console.print(Text("error: ", style="bold red") + Text(line), soft_wrap=True, highlight=False)
        raise typer.Exit(2) from None
    _save(pending, dry_run, author, message, commit)


# ---------------------------------------------------------------- prompts and walk


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
