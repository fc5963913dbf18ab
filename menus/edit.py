"""Safe edits of config.yaml: change the round-trip tree, check, show the diff.

An edit is a function on the ruamel tree (``menus.yamltree``) that returns a one-line
summary. `prepare()` applies it to a fresh read of the file, renders the new text, re-parses
that text and runs lint and validation on exactly what would be written; any error raises
EditError and nothing is touched. menus.versions.commit() then writes it under `edit_lock`
(``menus.configfile``: refused when the file changed since it was read, written atomically).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from menus.configfile import EditError, read_text, sha256, unified_diff
from menus.guard import Harm, harms
from menus.lint import MENU_ID, Problem, errors, lint_data
from menus.yamltree import append, delete, parse, render
from settings import DIGITS, Config, ConfigError, read_yaml, route_shape_problem, validate

Edit = Callable[[CommentedMap], str]
MENU_KEYS = ("prompt", "prompt_file", "timeout", "retries", "fallback", "options")  # order in a new menu


@dataclass
class Pending:
    """A checked edit, ready to write: what the file was, what it will be, and why."""

    path: Path  # the real file (symlinks resolved)
    old_text: str
    new_text: str
    summary: str
    config: Config  # the new text, validated
    warnings: list[Problem] = field(default_factory=list)
    harms: list[Harm] = field(default_factory=list)  # refused unless forced (menus.guard)

    @property
    def old_sha(self) -> str:
        return sha256(self.old_text)

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text

    def diff(self, context: int = 3) -> str:
        return unified_diff(self.old_text, self.new_text, f"a/{self.path.name}", f"b/{self.path.name}", context)


# ---------------------------------------------------------------- the edits


def _flow(**items: Any) -> CommentedMap:
    out = CommentedMap((k, v) for k, v in items.items() if v is not None)
    out.fa.set_flow_style()
    return out


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _menus(data: CommentedMap) -> CommentedMap:
    menus = data.get("menus")
    if not isinstance(menus, CommentedMap):
        raise EditError("config.yaml has no 'menus' section")
    return menus


def _menu(data: CommentedMap, menu_id: str) -> CommentedMap:
    menus = _menus(data)
    if menu_id not in menus:
        raise EditError(f"menu {menu_id}: no such menu (known: {', '.join(map(str, menus))})")
    return menus[menu_id]


def _option_key(options: CommentedMap, digit: str) -> Any:
    return next((k for k in options if str(k) == digit), None)


def route(action: str, target: str | None = None, category: str | None = None) -> CommentedMap:
    """A route as a one-line flow mapping, checked for shape (names are checked by lint)."""
    problem = route_shape_problem(action, target)
    if problem:
        raise EditError(problem)
    return _flow(action=action, target=target, category=category)


def describe(r: Any) -> str:
    if not isinstance(r, dict):
        return "?"
    return " ".join(str(r[k]) for k in ("action", "target") if r.get(k))


def chain(*edits: Edit) -> Edit:
    """Several edits as one change: one diff, one check, one version."""

    def edit(data: CommentedMap) -> str:
        return "; ".join(e(data) for e in edits)

    return edit


def option_spec(text: str) -> tuple[str, str, str | None, str | None]:
    """``1=queue:support``, ``9=repeat``, ``2=extension:aftersales:产品问题`` -> digit, action, target, category."""
    digit, sep, rest = text.partition("=")
    if not sep or not digit.strip() or not rest.strip():
        raise EditError(f"--option {text}: write DIGIT=ACTION[:TARGET[:CATEGORY]], e.g. 1=queue:support or 9=repeat")
    action, _, tail = rest.partition(":")
    target, _, category = tail.partition(":")
    return digit.strip(), action.strip(), target.strip() or None, category.strip() or None


def add_menu(menu_id: str, prompt: str, timeout: float | None = None, retries: int | None = None,
             fallback: CommentedMap | None = None, prompt_file: str | None = None) -> Edit:  # fmt: skip
    def edit(data: CommentedMap) -> str:
        menus = _menus(data)
        if not MENU_ID.fullmatch(menu_id):
            raise EditError(f"menu {menu_id}: ids may hold only letters, digits, '-' and '_'")
        if menu_id in menus:
            raise EditError(f"menu {menu_id}: already exists (use `hotline menu set`)")
        # A new menu's callers who press nothing go where the entry menu's go: to a person.
        entry = menus.get(str((data.get("ivr") or {}).get("entry_menu", "main")))
        fb = fallback
        if fb is None and isinstance(entry, dict) and isinstance(entry.get("fallback"), dict):
            fb = _flow(**{k: entry["fallback"][k] for k in entry["fallback"]})
        menu = CommentedMap()
        menu["prompt"] = prompt
        if prompt_file:
            menu["prompt_file"] = prompt_file
        menu["timeout"] = _number(timeout if timeout is not None else 5)
        menu["retries"] = retries if retries is not None else 2
        menu["fallback"] = fb if fb is not None else _flow(action="hangup")
        menu["options"] = _flow()
        append(menus, menu_id, menu)
        return f"add menu {menu_id}"

    return edit


def set_menu(menu_id: str, prompt: str | None = None, timeout: float | None = None, retries: int | None = None,
             fallback: CommentedMap | None = None, prompt_file: str | None = None,
             clear_prompt_file: bool = False) -> Edit:  # fmt: skip
    def edit(data: CommentedMap) -> str:
        menu = _menu(data, menu_id)
        changes: list[str] = []
        wanted: dict[str, Any] = {"prompt": prompt, "prompt_file": prompt_file, "timeout": timeout,
                                  "retries": retries, "fallback": fallback}  # fmt: skip
        for key, value in wanted.items():
            if value is None:
                continue
            if key == "timeout":
                value = _number(value)
            old = menu.get(key)
            if key == "fallback":
                was = describe(old) if old is not None else "hangup"  # the schema's default
                if was != describe(value) or (old or {}).get("category") != value.get("category"):
                    changes.append(f"fallback {was} -> {describe(value)}")
            elif old != value:
                was = old if old is not None else "default"
                changes.append(f"{key} changed" if key == "prompt" else f"{key} {was} -> {value}")
            _put(menu, key, value)
        if clear_prompt_file and "prompt_file" in menu:
            changes.append("prompt_file removed")
            delete(menu, "prompt_file")
        if not changes:
            raise EditError(f"menu {menu_id}: nothing to change (give --prompt, --timeout, --retries, ...)")
        return f"menu {menu_id}: " + ", ".join(changes)

    return edit


def _put(menu: CommentedMap, key: str, value: Any) -> None:
    """Set a menu key in place, or insert a missing one where a new menu would have it."""
    if key in menu:
        menu[key] = value
        return
    order = MENU_KEYS.index(key)
    pos = sum(1 for k in menu if k in MENU_KEYS and MENU_KEYS.index(k) < order)
    if pos >= len(menu):
        append(menu, key, value)
    else:
        menu.insert(pos, key, value)


def remove_menu(menu_id: str) -> Edit:
    def edit(data: CommentedMap) -> str:
        menus = _menus(data)
        _menu(data, menu_id)
        entry = str((data.get("ivr") or {}).get("entry_menu", "main"))
        if menu_id == entry:
            raise EditError(f"menu {menu_id}: is the entry menu (ivr.entry_menu); callers start there")
        users = []
        for name, menu in menus.items():
            if name == menu_id or not isinstance(menu, dict):
                continue
            for digit, r in (menu.get("options") or {}).items():
                if isinstance(r, dict) and r.get("action") == "submenu" and r.get("target") == menu_id:
                    users.append(f"menu {name} digit {digit}")
            fb = menu.get("fallback")
            if isinstance(fb, dict) and fb.get("action") == "submenu" and fb.get("target") == menu_id:
                users.append(f"menu {name} fallback")
        if users:
            raise EditError(f"menu {menu_id}: still routed to from {', '.join(users)}; change those first")
        delete(menus, menu_id)
        return f"remove menu {menu_id}"

    return edit


def set_option(menu_id: str, digit: str, action: str, target: str | None = None,
               category: str | None = None) -> Edit:  # fmt: skip
    def edit(data: CommentedMap) -> str:
        if digit not in DIGITS:
            raise EditError(f"menu {menu_id} digit {digit}: not a phone key (0-9, *, #)")
        menu = _menu(data, menu_id)
        try:
            new = route(action, target, category)
        except EditError as exc:
            raise EditError(f"menu {menu_id} digit {digit}: {exc}") from None
        options = menu.get("options")
        if not isinstance(options, CommentedMap):
            options = CommentedMap()
            _put(menu, "options", options)
        if not len(options):
            options.fa.set_block_style()  # `options: {}` grows into one option per line
        key = _option_key(options, digit)
        if key is None:
            append(options, digit, new)
            return f"menu {menu_id}: option {digit} -> {describe(new)}"
        old = options[key]
        options[key] = new
        return f"menu {menu_id}: option {digit} {describe(old)} -> {describe(new)}"

    return edit


def remove_option(menu_id: str, digit: str) -> Edit:
    def edit(data: CommentedMap) -> str:
        menu = _menu(data, menu_id)
        options = menu.get("options") or {}
        key = _option_key(options, digit) if isinstance(options, CommentedMap) else None
        if key is None:
            known = ", ".join(str(k) for k in options) or "none"
            raise EditError(f"menu {menu_id} digit {digit}: no such option (options: {known})")
        old = options[key]
        delete(options, key)
        return f"menu {menu_id}: remove option {digit} ({describe(old)})"

    return edit


def set_greeting(text: str) -> Edit:
    def edit(data: CommentedMap) -> str:
        text_ = text.strip()
        if not text_:
            raise EditError("opening_line: the mandated opening line cannot be empty")
        old = data.get("opening_line")
        if old == text_:
            raise EditError("opening_line: unchanged")
        data["opening_line"] = text_
        return f"opening line: {text_}"

    return edit


# ---------------------------------------------------------------- prepare and check


def prepare(path: Path, edit: Edit) -> Pending:
    """Apply ``edit`` to the file as it is now; raise EditError (nothing written) if the result is not clean."""
    real = path.resolve()
    old_text = read_text(real)
    try:
        read_yaml(real)  # the file's own errors, worded as everywhere else
    except ConfigError as exc:
        raise EditError(str(exc)) from None
    data = parse(old_text, real)
    summary = edit(data)
    return check(real, old_text, render(old_text, data, real), summary)


def prepare_text(path: Path, new_text: str, summary: str) -> Pending:
    """Replace the whole file (a rollback) after the same checks as an edit."""
    real = path.resolve()
    return check(real, read_text(real), new_text, summary)


def check(real: Path, old_text: str, new_text: str, summary: str) -> Pending:
    data = parse(new_text, real)
    problems = lint_data(data, real)
    try:
        old = parse(old_text, real)
    except EditError:
        old = None  # a broken file (a rollback is the cure): nothing callers hear now to compare with
    bad = errors(problems)
    if bad:
        raise EditError([f"refused: {p.where}: {p.message} [{p.rule}]" for p in bad])
    try:
        config = validate(data, real)
    except ConfigError as exc:
        raise EditError(f"refused: {_strip_path(str(exc), real)}") from None
    return Pending(real, old_text, new_text, summary, config, problems, harms(old, data) if old is not None else [])


def _strip_path(line: str, path: Path) -> str:
    return re.sub(rf"^{re.escape(str(path))}:\d+: ", "", line)
