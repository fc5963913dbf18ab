"""Hand edits of config.yaml: each usual slip gets a line saying what to type instead (issue 16).

`config check` and `menu lint` print the same problems with the same line numbers, every one
of them (no "+N more"), and `menu history`, `diff` and `rollback` work while the file is broken:
exactly when a rollback is the cure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from menus.versions import FOUND_CHANGED, FOUND_FIRST, history, store_of, version_text
from settings import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (ROOT / "config.yaml").read_text(encoding="utf-8")

TYPOS = [
    # (id, shipped text, the slip, what the line must say)
    ("full-width-colon", "    timeout: 5\n", "    timeout：5\n", "full-width colon '：': type ':'"),
    ("full-width-comma", "{action: submenu, target: orders}", "{action: submenu，target: orders}",
     "full-width comma '，' between fields: type ','"),
    ("curly-quoted-key", "'1': {action: submenu", "“1”: {action: submenu", "curly quotes"),
    ("curly-quoted-value", "target: complaints}", "target: “complaints”}", "curly quotes"),
    ("unquoted-star", "'*': {action: submenu, target: main}", "*: {action: submenu, target: main}",
     "an unquoted * starts a YAML alias: type '*'"),
    ("unquoted-hash", "'9': {action: repeat}", "#: {action: repeat}", "an unquoted # starts a comment"),
    ("acton", "'9': {action: repeat}", "'9': {acton: repeat}", "unknown field 'acton' (did you mean 'action'?)"),
    ("menu-field", "    retries: 2\n", "    retires: 2\n", "unknown field 'retires' (did you mean 'retries'?)"),
]  # fmt: skip


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def cli(*args: str) -> tuple[int, list[str]]:
    """Exit code and the non-empty output lines (stdout and stderr together)."""
    result = CliRunner().invoke(app, list(args), terminal_width=400)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, [ln for ln in (result.stdout + result.stderr).splitlines() if ln.strip()]


@pytest.mark.parametrize(("slip", "hint"), [(t[2], t[3]) for t in TYPOS], ids=[t[0] for t in TYPOS])
def test_each_slip_says_what_to_type_on_its_own_line_number(tmp_path: Path, slip: str, hint: str) -> None:
    shipped = next(t[1] for t in TYPOS if t[2] == slip)
    assert SHIPPED.count(shipped) >= 1
    path = write(tmp_path, SHIPPED.replace(shipped, slip, 1))
    line_no = SHIPPED[: SHIPPED.index(shipped)].count("\n") + 1  # the slip's own line, not the parser's next one
    code, lines = cli("config", "check", str(path))
    assert code == 2
    hits = [ln for ln in lines if hint in ln]
    assert hits, lines
    assert all(ln.startswith(f"{path}:{line_no}: ") for ln in hits), hits
    assert any(ln.startswith(f"{path}:{line_no}: error: ") for ln in hits), hits
    assert not any("more)" in ln for ln in lines)
    lint_code, lint_lines = cli("menu", "lint", "--config", str(path))
    assert lint_code == 2
    assert lint_lines[:-1] == lines  # the same problems, numbered alike (lint adds its count line)


def test_every_problem_is_listed_none_hidden(tmp_path: Path) -> None:
    text = (SHIPPED.replace("  port: 5038", "  prot: 5038", 1).replace("    timeout: 5\n", "    timeout: 50\n", 1)
            .replace("  retention_days: 180", "  retention_days: 0", 1))  # fmt: skip
    path = write(tmp_path, text)
    code, lines = cli("config", "check", str(path))
    assert code == 2
    assert any("ami.prot: unknown field 'prot' (did you mean 'port'?)" in ln for ln in lines)
    assert any("menu main: timeout 50 is out of range" in ln for ln in lines)
    assert any("recording.retention_days" in ln for ln in lines)
    assert len(lines) == 3 and not any("more" in ln for ln in lines)
    with pytest.raises(ConfigError) as err:  # every other command: the first, and where to see the rest
        load_config(path)
    assert "(+2 more: `hotline config check` lists every one)" in str(err.value)
    assert len(err.value.problems) == 3


def test_history_diff_and_rollback_work_on_a_broken_file(tmp_path: Path) -> None:
    # the database named in the file itself, not the default: found in the text of a file YAML cannot read
    text = SHIPPED.replace("sqlite:///var/hotline.db", "sqlite:///data/menus.db", 1)
    assert text != SHIPPED
    path = write(tmp_path, text)
    code, lines = cli("menu", "option", "set", "main", "4", "queue", "support", "-m", "four", "--config", str(path))
    assert code == 0, lines
    good = path.read_bytes()
    path.write_text(path.read_text(encoding="utf-8").replace("    timeout: 5\n", "    timeout：5\n", 1),
                    encoding="utf-8")  # the hand edit that breaks it  # fmt: skip
    with pytest.raises(ConfigError):
        load_config(path)
    assert store_of(path).database_url == f"sqlite:///{tmp_path / 'data' / 'menus.db'}"
    code, lines = cli("menu", "history", "--config", str(path))
    assert code == 0 and any("four" in ln for ln in lines)
    assert any("rollback V" in ln for ln in lines)  # the cure is named
    code, lines = cli("menu", "diff", "2", "--config", str(path))
    assert code == 0 and "+    timeout：5" in lines and "-    timeout: 5" in lines
    code, lines = cli("menu", "rollback", "2", "-m", "undo the broken hand edit", "--config", str(path))
    assert code == 0, lines
    assert path.read_bytes() == good
    cfg = load_config(path)
    assert [r.message for r in history(cfg)] == [FOUND_FIRST, "four", FOUND_CHANGED, "undo the broken hand edit"]
    assert "    timeout：5\n" in version_text(cfg, 3)  # the broken text is kept as a version too
