"""`hotline menu show|tree|lint` and `hotline greeting show`: the menus as they are, and their problems."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from cliutil import ConfigOpt, JsonOpt, config_path, console, fail, load, print_json
from menus.lint import errors, lint_file
from settings import Config, Menu, Route, Schedule


def _route_row(r: Route) -> tuple[str, str, str]:
    return r.action, r.target or "", r.category or ""


def _route_dict(r: Route) -> dict[str, Any]:
    return {"action": r.action, "target": r.target, "category": r.category}


def _hours(s: Schedule) -> str:
    week = "; ".join(f"{days} {', '.join(ranges)}" for days, ranges in s.hours.items()) or "no weekly hours"
    return week + (", make-up working days" if s.workdays else "")


def entries(cfg: Config) -> dict[str, list[str]]:
    """menu -> when calls start there: ``entry`` (all hours), or what each schedule picks it for.

    ivr.entry_menu is an entry only while some calls go by no schedule (no ivr.schedule): with
    one, it is just where a schedule naming a missing menu falls back to (menus/schedule.py)."""
    out: dict[str, list[str]] = {}
    if cfg.ivr.schedule is None:
        out[cfg.ivr.entry_menu] = ["entry"]
    for name, s in cfg.schedules.items():
        if name != cfg.ivr.schedule and not s.numbers:
            continue  # no call goes by it
        who = f"schedule {name}" + (f" (calls to {', '.join(s.numbers)})" if s.numbers else "")
        holidays = ", ".join(dict.fromkeys(s.holidays.values()))
        closed_too = f", holidays {holidays}" if holidays and not s.entry.holiday else ""
        picks = [(s.entry.open, f"{who} open: {_hours(s)}"), (s.entry.closed, f"{who} closed: outside its open hours"
                                                                                + closed_too)]  # fmt: skip
        if s.entry.holiday:
            picks.append((s.entry.holiday, f"{who} holidays: {holidays or 'none listed'}"))
        for menu, when in picks:
            out.setdefault(menu, []).append(when)
    return out


def _collect_dict(m: Menu) -> dict[str, Any] | None:
    c = m.collect
    if c is None:
        return None
    return {"name": c.name, "min_digits": c.min_digits, "max_digits": c.max_digits, "next": _route_dict(c.next)}


def _collect_text(m: Menu) -> str:
    assert m.collect is not None
    c = m.collect
    span = f"{c.min_digits}-{c.max_digits}" if c.min_digits != c.max_digits else str(c.min_digits)
    return f"<{c.name}: {span} digits, recording paused>"


def _menu_dict(cfg: Config, name: str, when: list[str]) -> dict[str, Any]:
    m = cfg.menus[name]
    return {
        "menu": name, "entry": bool(when), "entry_when": when, "prompt": m.prompt,
        "prompt_file": str(m.prompt_file) if m.prompt_file else None, "timeout": m.timeout, "retries": m.retries,
        "fallback": _route_dict(m.fallback),
        "options": [{"digit": d, **_route_dict(r)} for d, r in m.options.items()], "collect": _collect_dict(m),
    }  # fmt: skip


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
    starts = entries(cfg)
    if as_json:
        print_json([_menu_dict(cfg, n, starts.get(n, [])) for n in names])
        return
    for name in names:
        m = cfg.menus[name]
        fallback = " ".join(x for x in _route_row(m.fallback)[:2] if x)
        when = starts.get(name, [])
        entry = "" if not when else " (entry)" if when == ["entry"] else f" (entry: {'; '.join(when)})"
        console.print(Text.assemble("menu ", (name, "bold"), entry,
                                    f"  timeout {m.timeout:g}s, retries {m.retries}, fallback {fallback}"),
                      soft_wrap=True)  # fmt: skip
        console.print(Text(f"prompt: {m.prompt}" + (f"  (recording: {m.prompt_file})" if m.prompt_file else "")),
                      soft_wrap=True)
        table = Table("digit", "action", "target", "category")
        for digit, r in m.options.items():
            table.add_row(digit, *_route_row(r))
        if m.collect is not None:  # a number keyed in, then one way on
            table.add_row(_collect_text(m), *_route_row(m.collect.next))
        console.print(table)


def _tree_data(cfg: Config, name: str, path: list[str]) -> dict[str, Any]:
    m = cfg.menus[name]
    node: dict[str, Any] = {"menu": name, "prompt": m.prompt, "options": []}
    routes = [*m.options.items(), ("fallback", m.fallback)]
    if m.collect is not None:
        routes.insert(0, (_collect_text(m), m.collect.next))
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


def tree(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """The menus as trees, one from each entry menu (business hours may pick several), each saying when
    calls start there: digit → action → target; submenus expanded once, loops marked."""
    cfg = load(config)
    starts = {m: when for m, when in entries(cfg).items() if m in cfg.menus}
    data = [{**_tree_data(cfg, name, []), "entry_when": when} for name, when in starts.items()]
    if as_json:
        print_json(data)
        return
    console.print(Text(f"greeting: {cfg.opening_line}"), soft_wrap=True)
    for node in data:
        name = node["menu"]
        when = "" if node["entry_when"] == ["entry"] else f"  ({'; '.join(node['entry_when'])})"
        root = Tree(Text.assemble(("menu ", ""), (name, "bold"), (when, "green"),
                                  (f"  {cfg.menus[name].prompt}", "italic")))  # fmt: skip
        _tree_add(root, node)
        console.print(root)


def greeting_show(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """The opening line callers hear first."""
    cfg = load(config)
    if as_json:
        print_json({"company": cfg.company, "opening_line": cfg.opening_line})
    else:
        console.print(Text(cfg.opening_line))


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



def print_diff(diff: str) -> None:
    styles = {"+": "green", "-": "red", "@": "cyan"}
    for line in diff.splitlines():
        style = "bold" if line.startswith(("+++", "---")) else styles.get(line[:1], "")
        console.print(Text(line, style=style), soft_wrap=True, highlight=False)
