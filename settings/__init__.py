"""config.yaml -> typed, validated settings.

The whole service lives in one YAML file. It is read with ruamel.yaml so that every
error can name the file, the line and the field (``config.yaml:42: menus.main.options.7.target:
unknown menu 'sales'``), and validated with pydantic models that forbid unknown keys, so a
typo is an error instead of a silently ignored setting. Relative paths resolve against the
config file's folder, so a copied config works from anywhere.

One module per part of the file (service, menus, schedules, transcription, qa, scorecard,
review_app; config holds them all), one for reading the YAML (yaml_file) and one for turning
it into a Config (loading). The rest of the project imports from here, ``from settings import
Config, load_config``, never from the modules, so they can be regrouped freely.
"""

from settings.base import Strict, did_you_mean
from settings.config import Config
from settings.gaps import (
    CLAUSE_END,
    DEFAULT_GAP_WORDS,
    bare,
    fillings,
    gap_parts,
    gap_problem,
    longest_first,
    spelled_out,
)
from settings.loading import load_config, validate
from settings.menus import (
    ACTIONS,
    DIGITS,
    DIGITS_RANGE,
    RETRIES_RANGE,
    ROUTE_FIELDS,
    TARGET_ACTIONS,
    TARGET_KIND,
    TIMEOUT_RANGE,
    Action,
    Collect,
    Extension,
    IvrSettings,
    Menu,
    Queue,
    Route,
    route_shape_problem,
    route_target_problem,
)
from settings.qa import (
    ClosingRule,
    ConversationRules,
    HangupRule,
    HoldRule,
    InterruptionRule,
    OpeningRule,
    PhraseRule,
    PiiKind,
    PiiRule,
    QaSettings,
    SecretRequestRule,
    Severity,
    SilenceRule,
    SlowAnswerRule,
    Speaker,
    SpeechRateRule,
    per_rule_set,
)
from settings.review_app import WebSettings
from settings.schedules import WEEKDAYS, Schedule, ScheduleEntry, TimeRange, date_span, time_range, weekday_span
from settings.scorecard import (
    FLAG_CATEGORIES,
    REVIEW_CATEGORY,
    REVIEW_RULE,
    ScorecardItem,
    ScorecardSettings,
    scorecard_problem,
)
from settings.service import AmiSettings, DatabaseSettings, PromptSettings, RecordingSettings, database_url_in
from settings.transcription import AsrSettings, WorkersSettings
from settings.yaml_file import (
    DEFAULT_CONFIG_ENV,
    HAND_EDIT_HINTS,
    UNQUOTED_HASH,
    ConfigError,
    default_config_path,
    hand_edit_hint,
    line_of,
    load_yaml,
    read_yaml,
)

__all__ = [
    "ACTIONS", "CLAUSE_END", "DEFAULT_CONFIG_ENV", "DEFAULT_GAP_WORDS", "DIGITS", "DIGITS_RANGE", "FLAG_CATEGORIES",
    "HAND_EDIT_HINTS", "RETRIES_RANGE", "REVIEW_CATEGORY", "REVIEW_RULE", "ROUTE_FIELDS", "TARGET_ACTIONS",
    "TARGET_KIND", "TIMEOUT_RANGE", "UNQUOTED_HASH", "WEEKDAYS",
    "Action", "AmiSettings", "AsrSettings", "ClosingRule", "Collect", "Config", "ConfigError", "ConversationRules",
    "DatabaseSettings", "Extension", "HangupRule", "HoldRule", "InterruptionRule", "IvrSettings", "Menu", "OpeningRule",
    "PhraseRule", "PiiKind", "PiiRule", "PromptSettings", "QaSettings", "Queue", "RecordingSettings", "Route",
    "Schedule", "ScheduleEntry", "ScorecardItem", "ScorecardSettings", "SecretRequestRule", "Severity", "SilenceRule",
    "SlowAnswerRule", "Speaker", "SpeechRateRule", "Strict", "TimeRange", "WebSettings", "WorkersSettings",
    "bare", "database_url_in", "date_span", "default_config_path", "did_you_mean", "fillings", "gap_parts",
    "gap_problem", "hand_edit_hint",
    "line_of", "load_config", "load_yaml", "longest_first", "per_rule_set", "read_yaml", "route_shape_problem",
    "route_target_problem", "scorecard_problem", "spelled_out", "time_range",
    "validate", "weekday_span",
]  # fmt: skip
