"""config.yaml -> typed, validated settings.

The whole service lives in one YAML file. It is read with ruamel.yaml so that every
error can name the file, the line and the field (``config.yaml:42: menus.main.options.7.target:
unknown menu 'sales'``), and validated with pydantic models that forbid unknown keys, so a
typo is an error instead of a silently ignored setting. Relative paths resolve against the
config file's folder, so a copied config works from anywhere.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Collection, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

DEFAULT_CONFIG_ENV = "HOTLINE_CONFIG"
DIGITS = set("0123456789*#")

Action = Literal["submenu", "queue", "extension", "repeat", "hangup"]
ACTIONS: tuple[str, ...] = get_args(Action)
TARGET_KIND = {"submenu": "menu", "queue": "queue", "extension": "extension"}  # what each action's target names
TARGET_ACTIONS = tuple(TARGET_KIND)  # the actions that need a target; the others take none
TIMEOUT_RANGE = (1, 30)  # seconds a menu waits for a key
RETRIES_RANGE = (0, 5)
Severity = Literal["high", "medium", "low"]
Speaker = Literal["agent", "caller", "any"]


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


def did_you_mean(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AmiSettings(Strict):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 5038
    username: str = "hotline"
    secret: str = ""
    secret_env: str = "HOTLINE_AMI_SECRET"
    ping_interval: Annotated[float, Field(gt=0, le=300)] = 20.0
    reconnect_max: Annotated[float, Field(gt=0, le=600)] = 30.0

    @property
    def password(self) -> str:
        """The environment variable wins, so the secret need not sit in the file."""
        return os.environ.get(self.secret_env) or self.secret


class DatabaseSettings(Strict):
    url: str = "sqlite:///var/hotline.db"


class RecordingSettings(Strict):
    directory: Path = Path("var/recordings")
    asterisk_directory: str = "/var/spool/asterisk/monitor"
    retention_days: Annotated[int, Field(ge=1)] = 180
    # after this many days `recordings purge` deletes the originals of tracks with a redacted copy
    # (recordings/redacted.py); the copies and transcripts stay until retention_days. None: off.
    original_retention_days: Annotated[int | None, Field(ge=1)] = None


class PromptSettings(Strict):
    directory: Path = Path("var/sounds")
    asterisk_prefix: str = "custom"
    invalid: str = "输入有误，请重新选择。"
    timeout: str = "您没有按键，请重新选择。"
    goodbye: str = "感谢您的来电，再见。"
    transfer: str = "正在为您转接，请稍候。"
    retry: str = "抱歉，请您重新选择。"  # a call taken over after a restart, before its menu again


def route_shape_problem(action: object, target: object) -> str | None:
    """Why an action/target pair is not a route (names are checked against the config elsewhere)."""
    if action not in ACTIONS:
        return f"unknown action '{action}' (one of: {', '.join(ACTIONS)})"
    if action in TARGET_ACTIONS and not target:
        return f"action '{action}' needs a target"
    if action not in TARGET_ACTIONS and target:
        return f"action '{action}' takes no target (got '{target}')"
    return None


def route_target_problem(action: object, target: object, *, menus: Collection[str], queues: Collection[str],
                         extensions: Collection[str]) -> str | None:  # fmt: skip
    """Why a route's target is not among the configured menus/queues/extensions, or None.

    The one rule for the schema (on the validated model) and menu lint (on the raw tree)."""
    kind = TARGET_KIND.get(str(action))
    if kind is None:
        return None
    names = {"menu": menus, "queue": queues, "extension": extensions}[kind]
    if str(target) not in names:
        return f"unknown {kind} '{target}' (configured {kind}s: {', '.join(sorted(names)) or 'none'})"
    return None


class Route(Strict):
    action: Action
    target: str | None = None
    category: str | None = None  # feedback category (POLICY.md §6) this route files calls under

    @model_validator(mode="after")
    def _target_matches_action(self) -> Route:
        problem = route_shape_problem(self.action, self.target)
        if problem:
            raise ValueError(problem)
        return self


ROUTE_FIELDS = tuple(Route.model_fields)
DIGITS_RANGE = (1, 32)  # how many digits a collect menu may read (a card number has up to 19)


class Collect(Strict):
    """A menu that reads a number (an account or card number) instead of one key, with the call's
    recording paused while it is keyed in (ivr/collect.py). The menu's prompt asks for it, its
    timeout is the wait for each digit, '#' ends a shorter entry; too few digits count as a try.
    The call keeps only ``name``, how many digits came and whether they pass Luhn: never the digits."""

    name: Annotated[str, Field(pattern=r"^\w{1,32}$")]
    min_digits: Annotated[int, Field(ge=DIGITS_RANGE[0], le=DIGITS_RANGE[1])] = 1
    max_digits: Annotated[int, Field(ge=DIGITS_RANGE[0], le=DIGITS_RANGE[1])] = 19
    next: Route  # where the caller goes once the number is in

    @model_validator(mode="after")
    def _sane(self) -> Collect:
        if self.min_digits > self.max_digits:
            raise ValueError(f"min_digits {self.min_digits} is above max_digits {self.max_digits}")
        if self.next.action == "repeat":
            raise ValueError("next: 'repeat' would ask for the number again; send the caller on")
        return self


class Menu(Strict):
    prompt: str
    prompt_file: Path | None = None  # an admin's recording wins over the synthesized prompt
    timeout: Annotated[float, Field(ge=TIMEOUT_RANGE[0], le=TIMEOUT_RANGE[1])] = 5.0
    retries: Annotated[int, Field(ge=RETRIES_RANGE[0], le=RETRIES_RANGE[1])] = 2
    fallback: Route = Route(action="hangup")
    options: dict[str, Route] = {}
    collect: Collect | None = None  # read a number instead of one key (then no options)

    @model_validator(mode="after")
    def _collect_or_options(self) -> Menu:
        if self.collect is not None and self.options:
            raise ValueError("a collect menu reads a number, not keys: remove its options")
        return self

    @field_validator("options", mode="before")
    @classmethod
    def _digits_are_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, route in value.items():
                digit = str(key)
                if digit not in DIGITS:
                    raise ValueError(f"'{digit}' is not a DTMF key (0-9, *, #)")
                if digit in out:
                    raise ValueError(f"digit '{digit}' appears twice")
                out[digit] = route
            return out
        return value


class Queue(Strict):
    name: str  # the Asterisk queue name (queues.conf)
    category: str | None = None


class Extension(Strict):
    dial: str  # Dial() argument, e.g. SIP/agent1001 or PJSIP/1001
    timeout: Annotated[int, Field(ge=1, le=300)] = 20


class IvrSettings(Strict):
    entry_menu: str = "main"
    schedule: str | None = None  # a `schedules` entry that picks the entry menu by the clock; none: entry_menu always
    max_steps: Annotated[int, Field(ge=1, le=100)] = 20  # hard stop so no caller loops forever
    # One driving `serve` per Asterisk (ivr/lease.py): renew every lease_interval s; a standby
    # takes over after lease_ttl s without a renew.
    lease_interval: Annotated[float, Field(gt=0, le=10)] = 1.0
    lease_ttl: Annotated[float, Field(gt=0, le=60)] = 5.0


# ----- business hours (`schedules:`; the clock's logic is menus/schedule.py) ------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*[-–—－~～至]\s*(\d{1,2}):(\d{2})")  # 至, ～: as typed on a Chinese keyboard


def time_range(text: object) -> tuple[int, int]:
    """``'09:00-18:00'`` -> minutes after midnight (540, 1080); the ValueError says what to write.
    A range past midnight ends on the next day: ``'22:00-02:00'`` -> (1320, 1560)."""
    m = _RANGE.fullmatch(text.strip()) if isinstance(text, str) else None
    if m is None:
        slip = " (a full-width colon '：': type ':')" if "：" in str(text) else ""
        raise ValueError(f"'{text}' is not a time range{slip}: write 'HH:MM-HH:MM' in quotes, e.g. '09:00-18:00'")
    h1, m1, h2, m2 = map(int, m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60:
        raise ValueError(f"'{text}': times run from 00:00 to 24:00")
    if end == start:
        raise ValueError(f"'{text}': an empty range (it ends when it starts); for a whole day write '00:00-24:00'")
    return start, end if end > start else end + 24 * 60  # the next day's hours belong to this day (holidays)


def weekday_span(key: object) -> list[int]:
    """``'mon-fri'`` -> [0..4], ``'sat'`` -> [5] (datetime.weekday() numbers)."""
    first, _, last = str(key).strip().lower().partition("-")
    if first not in WEEKDAYS or last not in ("", *WEEKDAYS) or WEEKDAYS.index(last or first) < WEEKDAYS.index(first):
        raise ValueError(f"'{key}' is not a weekday: write mon, tue, wed, thu, fri, sat, sun or a span such as mon-fri")
    a = WEEKDAYS.index(first)
    return list(range(a, WEEKDAYS.index(last or first) + 1))


def date_span(key: object) -> tuple[date, date]:
    """``2027-10-01`` (YAML reads it as a date) or ``'2027-10-01..2027-10-07'`` -> (first, last) day."""
    first, sep, last = str(key).strip().partition("..")
    try:
        a = date.fromisoformat(first.strip())
        b = date.fromisoformat(last.strip()) if sep else a
    except ValueError:
        raise ValueError(f"'{key}' is not a date: write YYYY-MM-DD, or a span YYYY-MM-DD..YYYY-MM-DD") from None
    if b < a:
        raise ValueError(f"'{key}': the span ends before it starts")
    return a, b


def _days(value: Any) -> Any:
    """Date keys as text (YAML gives date objects for unquoted ones), each checked."""
    if not isinstance(value, dict):
        return value
    out = {str(k): v for k, v in value.items()}
    for key in out:
        date_span(key)
    return out


def _range_text(value: str) -> str:
    time_range(value)
    return value


TimeRange = Annotated[str, AfterValidator(_range_text)]  # its error names the weekday's line and the range


class ScheduleEntry(Strict):
    open: str  # the menu callers get in opening hours
    closed: str  # nights, days off: the after-hours menu
    holiday: str | None = None  # public holidays (default: the closed menu)


class Schedule(Strict):
    timezone: str = "Asia/Shanghai"  # the hotline's wall clock, whatever the server's is
    hours: dict[str, list[TimeRange]] = {}  # mon-fri: ['08:00-20:00']; a day not named is closed
    workday_hours: list[TimeRange] | None = None  # make-up working days; default: Monday's hours
    holidays: dict[str, str] = {}  # date or span -> name; closed
    workdays: dict[str, str] = {}  # 调休: a weekend date that is a working day -> name
    overrides: dict[str, str | list[str]] = {}  # date -> open | closed | ['09:00-12:00']; beats all else
    entry: ScheduleEntry
    numbers: list[str] = []  # dialled numbers (DIDs) this schedule answers; ivr.schedule answers the rest

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone '{value}' (an IANA name such as Asia/Shanghai)") from None
        return value

    @field_validator("hours", mode="before")
    @classmethod
    def _weekdays(cls, value: Any) -> Any:
        if isinstance(value, dict):
            seen: set[int] = set()
            for key in value:
                days = weekday_span(key)
                if seen & set(days):
                    raise ValueError(f"'{key}': a day named twice (each weekday once)")
                seen |= set(days)
            return {str(k): v if isinstance(v, list) else [v] for k, v in value.items()}
        return value

    _holidays = field_validator("holidays", "workdays", mode="before")(_days)

    @field_validator("overrides", mode="before")
    @classmethod
    def _override(cls, value: Any) -> Any:
        value = _days(value)
        for key, what in (value.items() if isinstance(value, dict) else ()):
            if isinstance(what, list):
                for r in what:
                    time_range(r)
            elif what not in ("open", "closed"):
                raise ValueError(f"{key}: '{what}' is not an override: write open, closed or a list of "
                                 "hours such as ['09:00-12:00']")
        return value


class AsrSettings(Strict):
    """The ASR knobs an admin may set. Their defaults are the engine's (transcribe.options.AsrOptions
    takes them from here), and why each is what it is, measured, is written there."""

    model_dir: Path | None = None  # a CTranslate2 Whisper directory; default: base from PyPI parts
    workers: Annotated[int, Field(ge=0, le=64)] = 0  # 0 = one per core
    language: str = "zh"
    compute_type: str = "int8"
    cpu_threads: Annotated[int, Field(ge=1, le=64)] = 1
    beam_size: Annotated[int, Field(ge=1, le=10)] = 1
    vad: bool = True
    vad_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.35
    vad_speech_pad_ms: Annotated[int, Field(ge=0, le=5000)] = 600
    condition_on_previous_text: bool = False
    no_speech_threshold: float | None = None
    log_prob_threshold: float | None = -1.0
    compression_ratio_threshold: float | None = 2.4
    hotwords: str | None = None
    word_timestamps: bool = True


class WorkersSettings(Strict):
    """Where transcription runs: this host's process pool, or workers on many hosts (Procrastinate)."""

    engine: Literal["pool", "procrastinate"] = "pool"  # procrastinate needs database.url on PostgreSQL
    # A recording path as serve's host stores it -> where this host mounts the same folder.
    path_map: dict[str, str] = {}
    heartbeat_s: Annotated[float, Field(gt=0, le=300)] = 10.0  # a busy worker marks itself alive this often
    stalled_after_s: Annotated[float, Field(gt=0, le=3600)] = 60.0  # no heartbeat this long: taken over
    recover_every_s: Annotated[float, Field(gt=0, le=600)] = 10.0  # each worker looks for dead ones this often


class PhraseRule(Strict):
    id: str
    category: Literal["forbidden", "vague"]
    severity: Severity
    speaker: Speaker = "agent"
    phrases: Annotated[list[str], Field(min_length=1)]
    allow: list[str] = []  # longer phrases in which a hit is not a violation (请您耐心等候)
    source: str
    suggestion: str | None = None


class OpeningRule(Strict):
    id: str = "opening.mandated"
    severity: Severity = "high"
    within_s: Annotated[float, Field(gt=0)] = 15.0
    min_similarity: Annotated[float, Field(ge=0, le=1)] = 0.6
    offer_phrases: list[str] = ["有什么可以帮您", "有什么可以帮你", "为您服务"]
    source: str = ""


class ClosingRule(Strict):
    id: str = "closing.courtesy"
    severity: Severity = "low"
    last_s: Annotated[float, Field(gt=0)] = 30.0
    phrases: list[str] = ["感谢您的来电", "谢谢您的来电", "再见"]
    source: str = ""
    suggestion: str | None = None


PiiKind = Literal["id_card", "bank_card", "phone", "code", "password", "name", "address"]  # transcribe.pii.KINDS


class PiiRule(Strict):
    id: str = "pii.spoken"
    severity: Severity = "medium"
    # flagged when the agent says them (a caller giving their own is only masked)
    kinds: list[PiiKind] = ["id_card", "bank_card", "phone", "code", "password"]
    # hidden wherever a transcript is shown; names and addresses are masked, never flagged
    mask_kinds: list[PiiKind] = ["id_card", "bank_card", "phone", "code", "password", "name", "address"]
    source: str = ""


class SecretRequestRule(Strict):
    """The agent asks the caller to say a password or a whole verification code (transcribe.pii.secret_requests)."""

    id: str = "pii.asks-secret"
    severity: Severity = "high"
    source: str = ""
    suggestion: str | None = None


class HangupRule(Strict):
    id: str = "hangup.agent-first"
    severity: Severity = "high"
    source: str = ""
    suggestion: str | None = None


class SlowAnswerRule(Strict):
    id: str = "slow-answer.rings"
    severity: Severity = "medium"
    max_ring_s: Annotated[float, Field(gt=0)] = 15.0
    source: str = ""


class HoldRule(Strict):
    id: str = "hold.no-apology"
    severity: Severity = "medium"
    max_wait_s: Annotated[float, Field(gt=0)] = 30.0
    apology_phrases: list[str] = ["久等", "抱歉", "不好意思", "感谢您的耐心", "谢谢您的耐心"]
    source: str = ""
    suggestion: str | None = None


class SilenceRule(Strict):
    id: str = "conversation.silence"
    severity: Severity = "low"
    max_s: Annotated[float, Field(gt=0)] = 10.0  # nobody speaking this long while connected, no hold
    source: str = ""
    suggestion: str | None = None


class InterruptionRule(Strict):
    id: str = "conversation.interruptions"
    severity: Severity = "medium"
    max: Annotated[int, Field(ge=0)] = 1  # flagged when the agent starts over the caller more often
    min_overlap_s: Annotated[float, Field(gt=0)] = 1.0  # both speaking this long: an interruption
    source: str = ""
    suggestion: str | None = None


class SpeechRateRule(Strict):
    id: str = "conversation.speech-rate"
    severity: Severity = "low"
    min_cpm: Annotated[float, Field(gt=0)] = 100.0  # the agent's characters per minute of speech
    max_cpm: Annotated[float, Field(gt=0)] = 280.0
    min_speech_s: Annotated[float, Field(ge=0)] = 10.0  # judged only on this much agent speech
    min_turn_s: Annotated[float, Field(ge=0)] = 2.0  # the turn named in the flag is at least this long
    source: str = ""
    suggestion: str | None = None

    @model_validator(mode="after")
    def _band(self) -> SpeechRateRule:
        if self.min_cpm >= self.max_cpm:
            raise ValueError(f"min_cpm {self.min_cpm:g} must be below max_cpm {self.max_cpm:g}")
        return self


class ConversationRules(Strict):
    """Rules on the measured conversation (qa/conversation.py)."""

    silence: SilenceRule = SilenceRule()
    interruptions: InterruptionRule = InterruptionRule()
    speech_rate: SpeechRateRule = SpeechRateRule()


class WebSettings(Strict):
    """The review web app (web/): display timezone, session lifetimes, sign-in throttling."""

    timezone: str = "Asia/Shanghai"  # times on the pages; stored times are UTC
    session_idle_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 30
    session_max_hours: Annotated[float, Field(gt=0, le=7 * 24)] = 12
    sign_in_failures: Annotated[int, Field(ge=1, le=100)] = 5  # per account and per address, then 429
    sign_in_window_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 5
    secure_cookies: bool = False  # Secure flag on cookies: on when users reach the app over HTTPS (a proxy)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (an IANA name such as Asia/Shanghai)") from None
        return value


FLAG_CATEGORIES = ("opening", "forbidden", "vague", "closing", "pii", "hangup", "slow-answer", "hold", "conversation")
SCORE_REVIEW_RULE = "transcript.needs-review"  # qa.rules.REVIEW_RULE: a flag with no rule section of its own


class ScorecardItem(Strict):
    """One line of the scorecard form (qa/scorecard.py). Tied to rules (``rules`` ids and/or flag
    ``categories``: the item's points are lost when such a flag counts) or to a reviewer's ``answer``
    (yes_no: all or nothing; points: 0..points). ``instant_fail``: a confirmed flag of its rules makes
    the whole call score 0. What is wrong with an item is checked in QaSettings, which knows the rules."""

    id: Annotated[str, Field(pattern=r"^[\w.-]{1,32}$")]
    label: str
    points: Annotated[float, Field(ge=0, le=1000)] = 0.0
    rules: list[str] = []
    categories: list[str] = []
    answer: Literal["yes_no", "points"] | None = None
    instant_fail: bool = False
    source: str = ""


class ScorecardSettings(Strict):
    # which flags cost an item its points: confirmed ones, or any not dismissed (unreviewed too)
    deduct_on: Literal["confirmed", "any"] = "confirmed"
    teams: dict[str, str] = {}  # agent (as on calls, SIP/agent1001) -> team, for team averages
    items: list[ScorecardItem] = []


def scorecard_problem(card: ScorecardSettings, rule_ids: Collection[str]) -> tuple[tuple[str | int, ...], str] | None:
    """The first thing wrong with the form, as (field under qa.scorecard, message), or None."""
    seen: set[str] = set()
    for n, item in enumerate(card.items):
        at: tuple[str | int, ...] = ("items", n)
        tied = bool(item.rules or item.categories)
        if item.id in seen:
            return (*at, "id"), f"item id '{item.id}' is used twice"
        seen.add(item.id)
        for rule in item.rules:
            if rule not in rule_ids:
                return (*at, "rules"), f"unknown rule '{rule}'{did_you_mean(rule, rule_ids)}"
        for cat in item.categories:
            if cat not in FLAG_CATEGORIES:
                return (*at, "categories"), f"unknown category '{cat}' (one of: {', '.join(FLAG_CATEGORIES)})"
        if item.answer is not None and tied:
            return (*at, "answer"), "an item is scored by its rules or by a reviewer's answer, not both"
        if item.answer is None and not tied:
            return (*at, "rules"), "give rules or categories (points lost on their flags) or answer: yes_no | points"
        if item.instant_fail and not tied:
            return (*at, "instant_fail"), "an instant-fail item needs rules or categories"
        if item.points == 0 and not item.instant_fail:
            return (*at, "points"), "must be above 0 (only an instant-fail item may carry no points)"
    if card.items and not any(item.points for item in card.items):
        return ("items",), "no item carries points: the form cannot give a score"
    return None


class QaSettings(Strict):
    reviewer: str | None = None  # the account CLI reviews are credited to when neither --reviewer nor
    # $HOTLINE_USER names one (accounts.identity); never the OS user
    opening: OpeningRule = OpeningRule()
    closing: ClosingRule = ClosingRule()
    pii: PiiRule = PiiRule()
    ask_secret: SecretRequestRule = SecretRequestRule()
    agent_hangup: HangupRule = HangupRule()
    slow_answer: SlowAnswerRule = SlowAnswerRule()
    hold: HoldRule = HoldRule()
    conversation: ConversationRules = ConversationRules()
    web: WebSettings = WebSettings()
    phrases: list[PhraseRule] = []
    scorecard: ScorecardSettings = ScorecardSettings()

    @model_validator(mode="after")
    def _unique_ids(self) -> QaSettings:
        seen: set[str] = set()
        for rule in self.phrases:
            if rule.id in seen:
                raise ValueError(f"rule id '{rule.id}' is used twice")
            seen.add(rule.id)
        problem = scorecard_problem(self.scorecard, self.rule_ids())
        if problem:
            raise _FieldError(("qa", "scorecard", *problem[0]), problem[1])
        return self

    def rule_ids(self) -> set[str]:
        """Every rule id a flag can carry."""
        singles = (self.opening, self.closing, self.pii, self.ask_secret, self.agent_hangup, self.slow_answer,
                   self.hold, self.conversation.silence, self.conversation.interruptions,
                   self.conversation.speech_rate)
        return {r.id for r in singles} | {r.id for r in self.phrases} | {SCORE_REVIEW_RULE}


class Config(Strict):
    company: str
    opening_line: str
    ami: AmiSettings = AmiSettings()
    database: DatabaseSettings = DatabaseSettings()
    recording: RecordingSettings = RecordingSettings()
    prompts: PromptSettings = PromptSettings()
    ivr: IvrSettings = IvrSettings()
    queues: dict[str, Queue] = {}
    extensions: dict[str, Extension] = {}
    menus: Annotated[dict[str, Menu], Field(min_length=1)]
    schedules: dict[str, Schedule] = {}
    asr: AsrSettings = AsrSettings()
    workers: WorkersSettings = WorkersSettings()
    qa: QaSettings = QaSettings()
    source: Path | None = Field(default=None, exclude=True)  # the file this came from

    @model_validator(mode="after")
    def _routes_resolve(self) -> Config:
        if self.ivr.entry_menu not in self.menus:
            raise _FieldError(("ivr", "entry_menu"), f"unknown menu '{self.ivr.entry_menu}'")
        if self.ivr.schedule is not None and self.ivr.schedule not in self.schedules:
            known = ", ".join(self.schedules) or "none"
            raise _FieldError(("ivr", "schedule"), f"unknown schedule '{self.ivr.schedule}' (configured: {known})"
                              f"{did_you_mean(self.ivr.schedule, self.schedules)}")
        owner: dict[str, str] = {}
        for name, sched in self.schedules.items():
            for number in sched.numbers:
                if owner.setdefault(number, name) != name:
                    raise _FieldError(("schedules", name, "numbers"), f"number {number} is also in schedule "
                                      f"{owner[number]} (a dialled number answers by one schedule)")
        for name, menu in self.menus.items():
            routes = [((*(), "fallback"), menu.fallback)]
            routes += [(("options", d), r) for d, r in menu.options.items()]
            routes += [(("collect", "next"), menu.collect.next)] if menu.collect else []
            for loc, route in routes:
                problem = route_target_problem(route.action, route.target, menus=self.menus, queues=self.queues,
                                               extensions=self.extensions)  # fmt: skip
                if problem:
                    raise _FieldError(("menus", name, *loc, "target"), problem)
        return self

    def path(self, value: Path | str) -> Path:
        """A path from the config, made absolute against the config file's folder."""
        p = Path(value).expanduser()
        if p.is_absolute() or self.source is None:
            return p
        return (self.source.parent / p).resolve()

    @property
    def database_url(self) -> str:
        return database_url_in(self.database.url, self.source.parent if self.source else None)


def database_url_in(url: str, folder: Path | None) -> str:
    """SQLite URLs with a relative file resolve against the config folder too (``folder``)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith(prefix + "/") or url == prefix + ":memory:":
        return url
    p = Path(url[len(prefix):]).expanduser()
    return prefix + str(p if p.is_absolute() or folder is None else (folder / p).resolve())


class _FieldError(ValueError):
    """Raised inside validators to point at a field other than the one being validated."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def default_config_path() -> Path:
    return Path(os.environ.get(DEFAULT_CONFIG_ENV) or "config.yaml")


def read_yaml(path: Path) -> CommentedMap:
    """Round-trip load (keeps comments and line numbers); errors name file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file (pass --config PATH or set ${DEFAULT_CONFIG_ENV})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        data = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        slip = _slip_near(text.splitlines(), line)
        if slip:  # the parser notices a line or more after the slip: name the slip's line
            line, hint = slip
            raise ConfigError(f"{path}:{line}: {hint} (YAML syntax: {exc.problem or exc.context})") from None
        raise ConfigError(f"{path}:{line}: YAML syntax: {exc.problem or exc.context}") from None
    except ValueError as exc:  # a date YAML cannot build (2027-13-01): ruamel's own, with no position
        line = next((n for n, t in enumerate(text.splitlines(), 1) if _impossible_date(t)), 1)
        raise ConfigError(f"{path}:{line}: not a date ({exc}): write YYYY-MM-DD") from None
    except YAMLError as exc:  # the reader's own errors (control characters) carry a position, no mark
        pos = getattr(exc, "position", None)
        line = text.count("\n", 0, pos) + 1 if isinstance(pos, int) else 1
        raise ConfigError(f"{path}:{line}: YAML: {' '.join(str(exc).split())}") from None
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


def validate(data: Any, path: Path) -> Config:
    """Validate a loaded YAML tree; the first problem becomes the ConfigError's line, ``problems`` holds all."""
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        found = [_located(err) for err in exc.errors()]
        # `acton:` is one slip, not two: its "unknown field, did you mean 'action'" covers "action is missing".
        meant = {(*loc[:-1], _suggested(msg)) for loc, msg in found if _suggested(msg)}
        lines = [f"{path}:{line_of(data, loc)}: {'.'.join(map(str, loc)) or '(top)'}: {msg}"
                 for loc, msg in found if not (msg == _MISSING and loc in meant)]  # fmt: skip
        more = f" (+{len(lines) - 1} more: `hotline config check` lists every one)" if len(lines) > 1 else ""
        raise ConfigError(lines[0] + more, lines) from None
    return config.model_copy(update={"source": path.resolve()})


_MISSING = "required field is missing"


def _suggested(message: str) -> str | None:
    m = re.search(r"did you mean '([^']+)'", message)
    return m.group(1) if m else None


def _located(err: Any) -> tuple[tuple[str | int, ...], str]:
    loc: tuple[str | int, ...] = tuple(err["loc"])
    ctx_error = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_error, _FieldError):
        loc, message = ctx_error.loc, str(ctx_error)
    elif err["type"] == "extra_forbidden":
        message = f"unknown field '{loc[-1]}'{did_you_mean(str(loc[-1]), _fields_at(loc[:-1]))}"
    else:
        message = _message(err)
    return tuple(x for x in loc if not (isinstance(x, str) and re.fullmatch(r"function-\w+.*", x))), message


def _fields_at(loc: Sequence[str | int]) -> list[str]:
    """The field names of the model at ``loc`` (``menus.main.options.9`` -> Route's), for did-you-mean."""
    kind: Any = Config
    for key in loc:
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            field = kind.model_fields.get(str(key))
            kind = field.annotation if field else None
        elif get_origin(kind) is dict:
            kind = get_args(kind)[1]
        else:
            return []
    return list(kind.model_fields) if isinstance(kind, type) and issubclass(kind, BaseModel) else []


def _message(err: Any) -> str:
    kind = err["type"]
    if kind == "missing":
        return _MISSING
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def load_config(path: Path | str | None = None) -> Config:
    """Load and validate config.yaml; raise ConfigError with one line on any problem."""
    p = Path(path) if path else default_config_path()
    return validate(read_yaml(p), p)
