"""Scripted calls as data (issue 11 part 6): a YAML file of callers and agents.

QA leads write calls to test their rules on; ``hotline demo --script FILE`` places them
through the simulator and the real pipeline, ``hotline qa eval-calls FILE`` scores the
flags they get against what each call ``expect``s. The demo's own calls are such a file
(``app/demo_calls.yaml``). The form::

    calls:
      - name: polite-order-query
        digits: [{at: 6.0, key: "1"}, {at: 7.0, key: "1"}]   # call seconds from the answer
        hangs_up_at: null          # the caller hangs up at this second; null = after the conversation
        caller_says: [{at: 2.0, text: 你好，我想查一下订单。}]
        agent:                     # null (or left out) = no agent answers
          says: [{at: 0.5, text: 您好，这里是海尔斯科技，请问有什么可以帮您？}]
          hangs_up_after: null     # the agent hangs up first, this many seconds after answering
        expect: []                 # rule ids or categories this call should be flagged with

Optional fields beside those: ``caller_num``, ``caller_name``, ``exten`` and ``note`` on a
call; ``interface`` (``SIP/agent1001``) and ``answer_after`` (seconds of ringing, 2.0;
null = never answers) on the agent. Times follow pbx.simulator.CallScript: ``digits`` and
``hangs_up_at`` count from the call being answered, ``caller_says`` and the agent's lines
from the agent answering (from the call's answer when no agent answers).

A time is a number of seconds or a sum of terms that may name rendered prompts, so a key
press can wait for the greeting however long the voice reads it: ``greeting + 1.5``,
``0.5 * greeting``, ``greeting + invalid + 2`` (names: the IVR's prompts, e.g. greeting,
menu-main, invalid, timeout, transfer).

Any problem is one :class:`ScriptError` line: ``FILE:LINE: calls[2].agent.says[0].at: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pbx.simulator import Agent, CallScript, Press, Say
from pbx.simulator.script import DTMF_DIGITS
from settings import load_yaml

DEFAULT_SCRIPT = Path(__file__).resolve().parent / "demo_calls.yaml"
CALL_FIELDS = {"name", "digits", "hangs_up_at", "caller_says", "agent", "expect", "caller_num", "caller_name",
               "exten", "note"}
AGENT_FIELDS = {"says", "hangs_up_after", "interface", "answer_after"}
_TERM = re.compile(r"^\s*(?:(?P<num>\d+(?:\.\d+)?)\s*(?:\*\s*(?P<name1>[a-z][a-z0-9_-]*))?|"
                   r"(?P<name2>[a-z][a-z0-9_-]*)(?:\s*\*\s*(?P<num2>\d+(?:\.\d+)?))?)\s*$")


class ScriptError(ValueError):
    """A bad call-script file; str() is one line naming file, line and field."""


@dataclass(frozen=True)
class When:
    """A time: ``seconds`` plus ``factor * prompt length`` for each named prompt."""

    seconds: float
    prompts: tuple[tuple[str, float], ...] = ()
    where: str = ""  # file:line: field, for an unknown prompt name found later

    def resolve(self, prompt_seconds: Mapping[str, float]) -> float:
        total = self.seconds
        for name, factor in self.prompts:
            if name not in prompt_seconds:
                raise ScriptError(f"{self.where}: unknown prompt {name!r} (one of {', '.join(sorted(prompt_seconds))})")
            total += factor * prompt_seconds[name]
        return total


@dataclass(frozen=True)
class ScriptedCall:
    name: str
    line: int
    digits: tuple[tuple[When, str], ...] = ()
    hangs_up_at: When | None = None
    caller_says: tuple[tuple[When, str], ...] = ()
    agent: dict[str, Any] | None = None  # says: ((When, text), ...), hangs_up_after, interface, answer_after
    expect: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)  # caller_num, caller_name, exten, note

    @property
    def polite(self) -> bool:
        """Expected to raise no flag at all."""
        return not self.expect

    def call_script(self, prompt_seconds: Mapping[str, float]) -> CallScript:
        """The simulator's script, with prompt-relative times resolved."""
        def t(w: When | None) -> float | None:
            return None if w is None else w.resolve(prompt_seconds)

        agent = None
        if self.agent is not None:
            a = self.agent
            agent = Agent(interface=a["interface"], answer_after=t(a["answer_after"]),
                          says=tuple(Say(t(w) or 0.0, text) for w, text in a["says"]),
                          hangs_up_after=t(a["hangs_up_after"]))
        kwargs = {k: v for k, v in self.extra.items() if k in ("caller_num", "caller_name", "exten")}
        return CallScript(self.name, presses=tuple(Press(t(w) or 0.0, key) for w, key in self.digits),
                          says=tuple(Say(t(w) or 0.0, text) for w, text in self.caller_says),
                          hangs_up_at=t(self.hangs_up_at), agent=agent, **kwargs)


class _Reader:
    """Walks the round-trip YAML tree, keeping the line of every node for error messages."""

    def __init__(self, path: Path, prompts: set[str] | None = None) -> None:
        self.path = path
        self.prompts = prompts

    def fail(self, line: int, where: str, message: str) -> ScriptError:
        return ScriptError(f"{self.path}:{line}: {where}: {message}")

    @staticmethod
    def key_line(node: CommentedMap, key: str, default: int) -> int:
        try:
            return int(node.lc.key(key)[0]) + 1
        except (KeyError, TypeError, AttributeError):
            return default

    @staticmethod
    def item_line(node: CommentedSeq, i: int, default: int) -> int:
        try:
            return int(node.lc.item(i)[0]) + 1
        except (KeyError, TypeError, AttributeError, IndexError):
            return default

    def mapping(self, node: Any, line: int, where: str, allowed: set[str], required: tuple[str, ...] = ()
                ) -> CommentedMap:
        if not isinstance(node, CommentedMap):
            raise self.fail(line, where, f"a mapping expected, got {_kind(node)}")
        for key in node:
            if str(key) not in allowed:
                raise self.fail(self.key_line(node, key, line), f"{where}.{key}",
                                f"unknown field (a typo?); fields: {', '.join(sorted(allowed))}")
        for key in required:
            if key not in node:
                raise self.fail(line, f"{where}.{key}", "required field is missing")
        return node

    def seq(self, node: Any, line: int, where: str) -> CommentedSeq:
        if node is None:
            return CommentedSeq()
        if not isinstance(node, CommentedSeq):
            raise self.fail(line, where, f"a list expected, got {_kind(node)}")
        return node

    def time(self, value: Any, line: int, where: str, *, nullable: bool = False) -> When | None:
        if value is None:
            if nullable:
                return None
            raise self.fail(line, where, "a time in seconds expected, got null")
        if isinstance(value, bool):
            raise self.fail(line, where, f"a time in seconds expected, got {value!r}")
        if isinstance(value, int | float):
            if value != value or value < 0:
                raise self.fail(line, where, f"a time >= 0 seconds expected, got {value!r}")
            return When(float(value), where=f"{self.path}:{line}: {where}")
        if isinstance(value, str):
            seconds, prompts = 0.0, []
            for term in value.split("+"):
                m = _TERM.match(term)
                if m is None:
                    raise self.fail(line, where, f"{value!r}: seconds, or a sum like 'greeting + 1.5' "
                                                 "or '0.5 * greeting' expected")
                name = m["name1"] or m["name2"]
                factor = float(m["num"] or m["num2"] or 1.0)
                if name and self.prompts is not None and name not in self.prompts:
                    raise self.fail(line, where, f"{value!r}: unknown prompt {name!r} "
                                                 f"(one of {', '.join(sorted(self.prompts))})")
                if name:
                    prompts.append((name, factor))
                else:
                    seconds += factor
            return When(seconds, tuple(prompts), where=f"{self.path}:{line}: {where}")
        raise self.fail(line, where, f"a time in seconds expected, got {_kind(value)}")

    def text(self, value: Any, line: int, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(line, where, f"a line of text expected, got {_kind(value)}")
        if "\n" in value or "\r" in value:
            raise self.fail(line, where, "one line of text expected (no line breaks)")
        return value.strip()

    def lines(self, node: Any, line: int, where: str) -> tuple[tuple[When, str], ...]:
        out = []
        items = self.seq(node, line, where)
        for i, item in enumerate(items):
            w = f"{where}[{i}]"
            ln = self.item_line(items, i, line)
            m = self.mapping(item, ln, w, {"at", "text"}, ("at", "text"))
            when = self.time(m["at"], self.key_line(m, "at", ln), f"{w}.at")
            assert when is not None
            out.append((when, self.text(m["text"], self.key_line(m, "text", ln), f"{w}.text")))
        return tuple(out)

    def digits(self, node: Any, line: int, where: str) -> tuple[tuple[When, str], ...]:
        out = []
        items = self.seq(node, line, where)
        for i, item in enumerate(items):
            w = f"{where}[{i}]"
            ln = self.item_line(items, i, line)
            m = self.mapping(item, ln, w, {"at", "key"}, ("at", "key"))
            when = self.time(m["at"], self.key_line(m, "at", ln), f"{w}.at")
            assert when is not None
            key = m["key"]
            key = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
            if not isinstance(key, str) or len(key) != 1 or key.upper() not in DTMF_DIGITS:
                raise self.fail(self.key_line(m, "key", ln), f"{w}.key",
                                f"one DTMF key expected (0-9, *, #, A-D), got {key!r}")
            out.append((when, key.upper()))
        return tuple(out)

    def agent(self, node: Any, line: int, where: str) -> dict[str, Any] | None:
        if node is None:
            return None
        m = self.mapping(node, line, where, AGENT_FIELDS)
        interface = m.get("interface", "SIP/agent1001")
        tech, sep, peer = str(interface).partition("/")
        if not isinstance(interface, str) or not (tech and sep and peer) or "-" in peer:
            raise self.fail(self.key_line(m, "interface", line), f"{where}.interface",
                            f"'TECH/peer' expected (e.g. SIP/agent1001), got {interface!r}")
        answer = m.get("answer_after", 2.0)
        return {
            "interface": interface,
            "answer_after": self.time(answer, self.key_line(m, "answer_after", line), f"{where}.answer_after",
                                      nullable=True),
            "says": self.lines(m.get("says"), self.key_line(m, "says", line), f"{where}.says"),
            "hangs_up_after": self.time(m.get("hangs_up_after"), self.key_line(m, "hangs_up_after", line),
                                        f"{where}.hangs_up_after", nullable=True),
        }

    def expect(self, node: Any, line: int, where: str, known: set[str] | None) -> tuple[str, ...]:
        items = self.seq(node, line, where)
        out = []
        for i, item in enumerate(items):
            ln = self.item_line(items, i, line)
            if not isinstance(item, str) or not item.strip():
                raise self.fail(ln, f"{where}[{i}]", f"a rule id or category expected, got {_kind(item)}")
            if known is not None and item not in known:
                raise self.fail(ln, f"{where}[{i}]", f"{item!r} is no rule id or category of the config")
            out.append(item.strip())
        return tuple(out)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, CommentedMap):
        return "a mapping"
    if isinstance(value, CommentedSeq):
        return "a list"
    return repr(value)


def load_script(path: Path, known: set[str] | None = None, prompts: set[str] | None = None) -> list[ScriptedCall]:
    """Read and check a call-script file. ``known``: the rule ids and categories ``expect`` may name;
    ``prompts``: the prompt names a time may use (menus.prompts.prompt_texts; None: checked when resolved)."""
    data = load_yaml(path, "no such script file", ScriptError)
    r = _Reader(path, prompts)
    top = r.mapping(data, 1, "(top)", {"calls"}, ("calls",))
    calls = r.seq(top["calls"], r.key_line(top, "calls", 1), "calls")
    if not calls:
        raise r.fail(r.key_line(top, "calls", 1), "calls", "no calls in the file")
    out: list[ScriptedCall] = []
    names: dict[str, int] = {}
    for i, node in enumerate(calls):
        where = f"calls[{i}]"
        line = r.item_line(calls, i, 1)
        m = r.mapping(node, line, where, CALL_FIELDS, ("name",))
        name = r.text(m["name"], r.key_line(m, "name", line), f"{where}.name")
        if name in names:
            raise r.fail(r.key_line(m, "name", line), f"{where}.name",
                         f"{name!r} is used twice (first at line {names[name]})")
        names[name] = line
        extra = {}
        for key in ("caller_num", "caller_name", "exten", "note"):
            if key in m:
                value = m[key]
                if not isinstance(value, str | int) or isinstance(value, bool):
                    raise r.fail(r.key_line(m, key, line), f"{where}.{key}", f"text expected, got {_kind(value)}")
                extra[key] = str(value)
        call = ScriptedCall(
            name=name, line=line,
            digits=r.digits(m.get("digits"), r.key_line(m, "digits", line), f"{where}.digits"),
            hangs_up_at=r.time(m.get("hangs_up_at"), r.key_line(m, "hangs_up_at", line), f"{where}.hangs_up_at",
                               nullable=True),
            caller_says=r.lines(m.get("caller_says"), r.key_line(m, "caller_says", line), f"{where}.caller_says"),
            agent=r.agent(m.get("agent"), r.key_line(m, "agent", line), f"{where}.agent"),
            expect=r.expect(m.get("expect"), r.key_line(m, "expect", line), f"{where}.expect", known),
            extra=extra,
        )
        try:  # what the simulator itself refuses (a bad exten, a line break in a number)
            call.call_script({})
        except ScriptError:
            pass  # prompt-relative times: checked when the prompts are rendered
        except ValueError as exc:
            raise r.fail(line, where, str(exc)) from None
        out.append(call)
    return out


def resolve(calls: list[ScriptedCall], prompt_seconds: Mapping[str, float]) -> list[CallScript]:
    """The simulator's scripts for rendered prompts of these lengths (ScriptError on an unknown name)."""
    return [c.call_script(prompt_seconds) for c in calls]
