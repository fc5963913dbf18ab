"""What every section's model shares: strict models (an unknown key is an error, a typo never a
silently ignored setting; values frozen), did-you-mean suggestions, and the error a validator
raises to point at a field other than its own.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection

from pydantic import BaseModel, ConfigDict


def did_you_mean(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldError(ValueError):
    """Raised inside validators to point at a field other than the one being validated."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc

