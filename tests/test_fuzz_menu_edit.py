"""Fuzzing the menu-edit commands (menus/edit.py) with odd menu ids, digits, actions and
targets: an edit either applies or is refused with one EditError line; the edited tree then
renders, lints and validates (menus.edit.check) without any other exception; a refusal
there may list several problems, each one line."""

from __future__ import annotations

import copy
from pathlib import Path

from fuzzing import EXAMPLES, FUZZ, TAPE, Clock, Tape, one_line
from hypothesis import given

from menus.configfile import EditError
from menus.edit import add_menu, check, remove_menu, remove_option, set_greeting, set_menu, set_option
from menus.yamltree import parse, render
from settings import ACTIONS

TEXT = """\
company: X
opening_line: 您好
menus:
  main:
    prompt: 请按键
    fallback: {action: hangup}
    options: {'1': {action: submenu, target: orders}, '2': {action: hangup}}
  orders:
    prompt: 订单
    options: {'1': {action: repeat}}
"""
NAMES = ["main", "orders", "new", "a-b_1", "", " ", "x\ny", "菜单", "main ", "9", "support", "-x", "a" * 70, "\x00",
         "orders\r"]
DIGITS = ["1", "2", "9", "0", "*", "#", "", "10", "a", "１", "\n", " 1"]
TEXTS = ["请按一", "", "  ", "x\ny", "a" * 200, "\t", "您好"]


def test_fuzz_menu_edit_commands(tmp_path: Path) -> None:
    seen = 0
    path = tmp_path / "config.yaml"
    base = parse(TEXT, path)

    @FUZZ
    @given(TAPE)
    def one(data: bytes) -> None:
        nonlocal seen
        seen += 1
        tape = Tape(data)
        tree = copy.deepcopy(base)
        for _ in range(1 + tape.byte() % 3):
            kind = tape.byte() % 6
            name, digit, text = tape.pick(NAMES), tape.pick(DIGITS), tape.pick(TEXTS)
            action = tape.pick([*ACTIONS, "nope", ""])
            target = tape.pick([None, *NAMES])
            number = tape.pick([None, 0, 1.5, -1, 1e9, float("nan")])
            try:
                if kind == 0:
                    edit = add_menu(name, text, timeout=number, retries=tape.pick([None, 0, 3, -2]))
                elif kind == 1:
                    edit = set_menu(name, prompt=text or None, timeout=number)
                elif kind == 2:
                    edit = remove_menu(name)
                elif kind == 3:
                    edit = set_option(name, digit, action, target)
                elif kind == 4:
                    edit = remove_option(name, digit)
                else:
                    edit = set_greeting(text)
                assert isinstance(edit(tree), str)
            except EditError as exc:
                one_line(exc)
        # What `prepare` does next (render, re-parse, lint, validate) costs ~50 ms of ruamel per
        # input here: run it on one input in 32, so the whole stays within minutes.
        if tape.byte() % 32 == 31:  # (past the tape every byte is 0: short tapes skip it)
            try:
                check(path, TEXT, render(TEXT, tree, path), "fuzz")
            except EditError as exc:
                assert exc.lines and all("\n" not in ln for ln in exc.lines)

    with Clock() as clock:
        one()
    clock.report("menu edits", seen)
    assert seen >= EXAMPLES
