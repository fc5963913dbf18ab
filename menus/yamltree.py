"""config.yaml as a round-trip tree: parse, dump, and render with the untouched sections verbatim.

Only the top-level sections an edit changed are re-emitted by ruamel; the others are
copied from the original text verbatim, because ruamel re-wraps long flow lists (the QA
phrase lists) and would otherwise put noise into every diff. Adding or removing the last
item of a mapping moves the comment lines that followed it, so they stay where they were.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.tokens import CommentToken

from menus.configfile import EditError


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


def own_part(part: str) -> str:
    """A section's text without the blank and comment lines at its end: those introduce the next section."""
    lines = part.splitlines(True)
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        lines.pop()
    return "".join(lines)


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


# -- comments after the last item


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


def append(mapping: CommentedMap, key: Any, value: Any) -> None:
    """Add at the end; comments that followed the old last item move after the new one."""
    tail = _take_trailing(mapping)
    mapping[key] = value
    _give_trailing(mapping, tail)


def delete(mapping: CommentedMap, key: Any) -> None:
    """Remove a key; if it was the last, the comments after it stay where they were in the file."""
    last = len(mapping) and list(mapping)[-1] == key
    tail = _take_trailing(mapping) if last else ""
    del mapping[key]
    if tail and len(mapping):
        _give_trailing(mapping, tail)
