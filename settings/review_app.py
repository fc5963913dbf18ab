"""``qa.web:``: the review web app's display timezone, session lifetimes and sign-in throttling."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from settings.base import Strict


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

