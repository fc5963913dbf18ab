"""Where serve connects and keeps its files: the AMI link, the database, the recordings and the
prompts (``ami:``, ``database:``, ``recording:``, ``prompts:``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field

from settings.base import Strict


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


def database_url_in(url: str, folder: Path | None) -> str:
    """SQLite URLs with a relative file resolve against the config folder too (``folder``)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith(prefix + "/") or url == prefix + ":memory:":
        return url
    p = Path(url[len(prefix):]).expanduser()
    return prefix + str(p if p.is_absolute() or folder is None else (folder / p).resolve())

