"""Safe edits of config.yaml: change the round-trip tree, check, show the diff, write atomically.

An edit is a function on the ruamel tree that returns a one-line summary. `prepare()`
applies it to a fresh read of the file, renders the new text, re-parses that text and
runs lint and validation on exactly what would be written; any error raises EditError
and nothing is touched. menus.versions.commit() then writes under `edit_lock`: it
refuses when the file changed since it was read (another admin, an editor), writes a
temp file in the same folder, fsyncs, keeps the mode and renames over the original, so
the service (which re-reads on mtime change) sees the old file or the new one, never
half of one.

Only the top-level sections an edit changed are re-emitted by ruamel; the others are
copied from the original text verbatim, because ruamel re-wraps long flow lists (the QA
phrase lists) and would otherwise put noise into every diff.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.tokens import CommentToken

from menus.lint import MENU_ID, Problem, errors, lint_data
from settings import DIGITS, Config, ConfigError, read_yaml, route_shape_problem, validate

Edit = Callable[[CommentedMap], str]
MENU_KEYS = ("prompt", "prompt_file", "timeout", "retries", "fallback", "options")  # order in a new menu


class EditError(Exception):
    """An edit that was refused; ``lines`` are printed one per line, nothing was written."""

    def __init__(self, lines: str | list[str]) -> None:
        self.lines = [lines] if isinstance(lines, str) else lines
        super().__init__("; ".join(self.lines))


@dataclass
class Pending:
    """A checked edit, ready to write: what the file was, what it will be, and why."""

    path: Path  # the real file (symlinks resolved)
    old_text: str
    new_text: str
    summary: str
    config: Config  # the new text, validated
    warnings: list[Problem] = field(default_factory=list)

    @property
    def old_sha(self) -> str:
        return sha256(self.old_text)

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text

    def diff(self, context: int = 3) -> str:
        return unified_diff(self.old_text, self.new_text, f"a/{self.path.name}", f"b/{self.path.name}", context)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def unified_diff(old: str, new: str, old_name: str, new_name: str, context: int = 3) -> str:
    lines = difflib.unified_diff(old.splitlines(True), new.splitlines(True), old_name, new_name, n=context)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


# ---------------------------------------------------------------- YAML text


def _represent_none(representer: Any, _data: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")  # not an empty value


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never fold a prompt onto two lines
    yaml.representer.add_representer(type(None), _represent_none)
    return yaml


def parse(text: str, path: Path) -> CommentedMap:
    try:
        data = _yaml().load(text)
    except YAMLError as exc:
        raise EditError(f"{path}: YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, CommentedMap):
        raise EditError(f"{path}:1: the file must be a mapping of sections")
    return data


def dump(data: CommentedMap) -> str:
    buf = io.StringIO()
    _yaml().dump(data, buf)
    return buf.getvalue()


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def sections(text: str, data: CommentedMap) -> tuple[str, dict[str, str]]:
    """The text before the first key, and each top-level key's text up to the next key."""
    lines = text.splitlines(True)
    starts = [(str(k), data.lc.key(k)[0]) for k in data]
    head = "".join(lines[: starts[0][1]]) if starts else text
    out = {}
    for i, (key, start) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else len(lines)
        out[key] = "".join(lines[start:end])
    return head, out


def render(old_text: str, new_data: CommentedMap, path: Path) -> str:
    """The new file text: ruamel's output for changed sections, the original bytes for the rest."""
    dumped = dump(new_data)
    old_data = parse(old_text, path)
    new_parsed = parse(dumped, path)
    old_head, old_parts = sections(old_text, old_data)
    new_head, new_parts = sections(dumped, new_parsed)
    pieces = [old_head if old_head.strip() == new_head.strip() else new_head]
    keys = list(new_parsed)
    for i, key in enumerate(keys):
        same = key in old_data and _plain(old_data[key]) == _plain(new_parsed[key])
        piece = old_parts[key] if same else new_parts[key]
        if i + 1 < len(keys) and not piece.endswith("\n"):
            piece += "\n"
        pieces.append(piece)
    text = "".join(pieces)
    try:
        if _plain(parse(text, path)) == _plain(new_parsed):
            return text
    except EditError:
        pass
    return dumped  # splicing went wrong somehow: the plain dump is at least correct


# ---------------------------------------------------------------- comments on the last item


def _last_key_holder(node: Any) -> tuple[CommentedMap, Any] | None:
    """The innermost mapping and key whose comment slot holds what follows ``node`` in the file."""
    holder = None
    while isinstance(node, CommentedMap) and len(node):
        key = list(node)[-1]
        holder = (node, key)
        value = node[key]
        if not isinstance(value, CommentedMap) or value.fa.flow_style() or not len(value):
            break
        node = value
    return holder


def _take_trailing(node: Any) -> str:
    """Detach the comment lines after the last item of ``node`` (keeping an end-of-line comment)."""
    holder = _last_key_holder(node)
    if holder is None:
        return ""
    mapping, key = holder
    slot = mapping.ca.items.get(key)
    if not slot or len(slot) < 3 or not isinstance(slot[2], CommentToken):
        return ""
    value = slot[2].value
    cut = value.find("\n")
    if cut < 0 or cut == len(value) - 1:
        return ""
    slot[2].value = value[: cut + 1]
    return value[cut + 1 :]


def _give_trailing(node: Any, text: str) -> None:
    if not text:
        return
    holder = _last_key_holder(node)
    if holder is None:
        return
    mapping, key = holder
    slot = mapping.ca.items.setdefault(key, [None, None, None, None])
    while len(slot) < 4:
        slot.append(None)
    if isinstance(slot[2], CommentToken):
        slot[2].value = slot[2].value.rstrip("\n") + "\n" + text
    else:
        slot[2] = CommentToken("\n" + text, _mark(), None)


def _mark() -> Any:
    return CommentMark(0)


def _append(mapping: CommentedMap, key: Any, value: Any) -> None:
    """Add at the end; comments that followed the old last item move after the new one."""
    tail = _take_trailing(mapping)
    mapping[key] = value
    _give_trailing(mapping, tail)


def _delete(mapping: CommentedMap, key: Any) -> None:
    """Remove a key; if it was the last, the comments after it stay where they were in the file."""
    last = len(mapping) and list(mapping)[-1] == key
    tail = _take_trailing(mapping) if last else ""
    del mapping[key]
    if tail and len(mapping):
        _give_trailing(mapping, tail)


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
        _append(menus, menu_id, menu)
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
            _delete(menu, "prompt_file")
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
        _append(menu, key, value)
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
        _delete(menus, menu_id)
        return f"remove menu {menu_id}"

    return edit


def set_option(menu_id: str, digit: str, action: str, target: str | None = None,
               category: str | None = None) -> Edit:  # fmt: skip
    def edit(data: CommentedMap) -> str:
        if digit not in DIGITS:
            raise EditError(f"menu {menu_id} digit {digit}: not a phone key (0-9, *, #)")
        menu = _menu(data, menu_id)
        new = route(action, target, category)
        options = menu.get("options")
        if not isinstance(options, CommentedMap):
            options = CommentedMap()
            _put(menu, "options", options)
        if not len(options):
            options.fa.set_block_style()  # `options: {}` grows into one option per line
        key = _option_key(options, digit)
        if key is None:
            _append(options, digit, new)
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
        _delete(options, key)
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


# ---------------------------------------------------------------- prepare and commit


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EditError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EditError(f"{path}: cannot read: {exc}") from None


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
    bad = errors(problems)
    if bad:
        raise EditError([f"refused: {p.where}: {p.message} [{p.rule}]" for p in bad])
    try:
        config = validate(data, real)
    except ConfigError as exc:
        raise EditError(f"refused: {_strip_path(str(exc), real)}") from None
    return Pending(real, old_text, new_text, summary, config, problems)


def _strip_path(line: str, path: Path) -> str:
    return re.sub(rf"^{re.escape(str(path))}:\d+: ", "", line)


class ConcurrentEdit(EditError):
    pass


@contextlib.contextmanager
def edit_lock(path: Path) -> Iterator[None]:
    """Serialise `hotline menu` writers of one file (a lock file beside it: the file itself gets replaced)."""
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_unchanged(path: Path, expect_sha: str) -> None:
    if sha256(read_text(path)) != expect_sha:
        raise ConcurrentEdit(f"{path}: changed since it was read (another edit?); nothing written, run it again")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` atomically (same-folder temp file, fsync, rename), keeping its mode."""
    st = path.stat()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        with contextlib.suppress(OSError):  # not ours to give away; the mode is what matters
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)
