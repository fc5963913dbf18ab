"""From the YAML tree to Config: each of pydantic's errors becomes one line naming the file, the
line and the field. load_config is the way in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from settings.base import FieldError, did_you_mean
from settings.config import Config
from settings.yaml_file import ConfigError, default_config_path, line_of, read_yaml


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
    if isinstance(ctx_error, FieldError):
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

