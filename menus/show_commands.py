"""`hotline menu show|tree|lint` and `hotline greeting show`: the menus as they are, and their problems."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from cliutil import ConfigOpt, JsonOpt, config_path, console, fail, load, print_json
from menus.lint import errors, lint_file
from settings import Config, Route


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
