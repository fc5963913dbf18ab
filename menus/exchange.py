"""`hotline menu export` / `menu import FILE`: the `menus:` section as a file of its own.

Export prints the section verbatim (comments kept). Import puts a file's `menus:` section in
place of the config's, as one change: the whole new file is linted, validated and checked for
harms to callers like any edit (menus.edit.check), and saved as one version. The comments that
introduce the section after `menus:` stay where they were.
"""

from __future__ import annotations

from pathlib import Path

from menus.configfile import EditError, read_text
from menus.edit import Pending, prepare_text
from menus.yamltree import own_part, parse, sections


def _menus_part(text: str, path: Path, *, only: bool) -> tuple[str, dict[str, str]]:
    data = parse(text, path)
    if only and [str(k) for k in data] != ["menus"]:
        raise EditError(f"{path}: must hold one top-level section, 'menus:' (what `hotline menu export` prints)")
    head, parts = sections(text, data)
    if "menus" not in parts:
        raise EditError(f"{path}: has no 'menus' section")
    return head, parts


def export_text(path: Path) -> str:
    real = path.resolve()
    _head, parts = _menus_part(read_text(real), real, only=False)
    return own_part(parts["menus"])


def prepare_import(path: Path, source: Path) -> Pending:
    """The config with ``source``'s menus in place of its own, checked as a whole."""
    real = path.resolve()
    old_text = read_text(real)
    _, incoming = _menus_part(read_text(source), source, only=True)
    head, parts = _menus_part(old_text, real, only=False)
    menus = own_part(parts["menus"])
    new_menus = own_part(incoming["menus"]).rstrip("\n") + "\n"
    parts["menus"] = new_menus + parts["menus"][len(menus):]
    new_text = head + "".join(parts.values())
    if new_text == old_text:
        raise EditError(f"{source}: the config's menus are already these; nothing to do")
    return prepare_text(real, new_text, f"import menus from {source.name}")
