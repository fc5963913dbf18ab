"""The menus package's table: every saved version of the menus."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db import Base, UTCDateTime, now


class MenuVersion(Base):
    """Every saved menu change: the whole config text as saved, who, when and why."""

    __tablename__ = "menu_versions"

    id: Mapped[int] = mapped_column(primary_key=True)  # the version number
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    author: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    config_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
