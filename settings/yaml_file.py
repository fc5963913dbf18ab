"""Reading config.yaml: round-trip YAML so every error can name its line, hints for the usual
hand-edit slips, and ConfigError (one line: ``file:line: field: what is wrong``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

DEFAULT_CONFIG_ENV = "HOTLINE_CONFIG"


class ConfigError(Exception):
    """One line: ``file:line: field: what is wrong``; ``problems``: every such line (the first is str())."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


UNQUOTED_HASH = re.compile(r"^\s*(?:-\s*)?#\s*:")  # `#: {action: ...}`: a comment to YAML, no error at all
# What a hand edit on a Chinese keyboard or a quick typist gets wrong, and what to type instead.
HAND_EDIT_HINTS = (
    (re.compile(r"^\s*(?:-\s*)?['\"]?[\w.-]+['\"]?\s*：|[{,]\s*\w+\s*："),
     "a full-width colon '：': type ':' and a space"),
    (re.compile(r"\{[^}]*，"), "a full-width comma '，' between fields: type ',' and a space"),
    (re.compile(r"^\s*(?:-\s*)?[“”‘’]|[{,:]\s*[“‘]"), "curly quotes “ ” ‘ ’: YAML quotes are straight, type ' or \""),
    (re.compile(r"^\s*(?:-\s*)?\*\s*:|[{,]\s*\*\s*:|:\s*\*(?=[\s,}]|$)"),
     "an unquoted * starts a YAML alias: type '*' (in quotes)"),
    (UNQUOTED_HASH, "an unquoted # starts a comment, the rest of the line is ignored: type '#' (in quotes)"),
)


def hand_edit_hint(line: str) -> str | None:
    """What to type instead, for a config line with one of the usual hand-edit slips."""
    return next((hint for pattern, hint in HAND_EDIT_HINTS if pattern.search(line)), None)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def default_config_path() -> Path:
    return Path(os.environ.get(DEFAULT_CONFIG_ENV) or "config.yaml")


def load_yaml(path: Path, missing: str, error: Callable[[str], Exception] = ConfigError) -> Any:
    """Round-trip load of a hand-edited YAML file (keeps comments and line numbers). Every error is
    one line, ``error("file:line: what is wrong")``, with a hint for the usual hand-edit slips;
    ``missing``: what to say when there is no such file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read: {exc}") from None
    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        slip = _slip_near(text.splitlines(), line)
        if slip:  # the parser notices a line or more after the slip: name the slip's line
            line, hint = slip
            raise error(f"{path}:{line}: {hint} (YAML syntax: {exc.problem or exc.context})") from None
        raise error(f"{path}:{line}: YAML syntax: {exc.problem or exc.context}") from None
    except ValueError as exc:  # a date YAML cannot build (2027-13-01): ruamel's own, with no position
        line = next((n for n, t in enumerate(text.splitlines(), 1) if _impossible_date(t)), 1)
        raise error(f"{path}:{line}: not a date ({exc}): write YYYY-MM-DD") from None
    except YAMLError as exc:  # the reader's own errors (control characters) carry a position, no mark
        pos = getattr(exc, "position", None)
        line = text.count("\n", 0, pos) + 1 if isinstance(pos, int) else 1
        raise error(f"{path}:{line}: YAML: {' '.join(str(exc).split())}") from None


def read_yaml(path: Path) -> CommentedMap:
    """config.yaml, round-trip loaded (load_yaml); errors are ConfigError."""
    data = load_yaml(path, f"no such config file (pass --config PATH or set ${DEFAULT_CONFIG_ENV})")
    if not isinstance(data, CommentedMap):
        raise ConfigError(f"{path}:1: the file must be a mapping of sections (company, menus, ...)")
    return data


def _impossible_date(line: str) -> bool:
    for y, m, d in re.findall(r"(?<![\w.'\"])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w'\"])", line.split("#")[0]):
        try:
            date(int(y), int(m), int(d))
        except ValueError:
            return True
    return False


def _slip_near(lines: list[str], line: int) -> tuple[int, str] | None:
    """A hand-edit slip on the error's line or the two lines of content before it."""
    content = 0
    for n in range(min(line, len(lines)), 0, -1):
        text = lines[n - 1]
        hint = hand_edit_hint(text)
        if hint:
            return n, hint
        if text.strip() and not text.lstrip().startswith("#"):
            content += 1
            if content == 3:
                break
    return None


def line_of(data: Any, loc: Sequence[str | int]) -> int:
    """The 1-based line of the deepest key of ``loc`` that exists in the YAML tree."""
    line = 1
    node = data
    for key in loc:
        if isinstance(node, CommentedMap):
            match = next((k for k in node if str(k) == str(key)), None)
            if match is None:
                break
            line = node.lc.key(match)[0] + 1
            node = node[match]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
            line = node.lc.item(key)[0] + 1
            node = node[key]
        else:
            break
    return line

