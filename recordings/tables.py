"""Tables the recordings package owns: the audio files of each call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db import Base, UTCDateTime, now


class Recording(Base):
    """One file MixMonitor wrote: the mix, the caller track (r()) or the agent track (t())."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # mix | caller | agent; + "-r": redacted copy (recordings/redacted.py)
    path: Mapped[str] = mapped_column(Text)  # as this service reads it
    asterisk_path: Mapped[str | None] = mapped_column(Text)  # as Asterisk wrote it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    status: Mapped[str] = mapped_column(String(12), default="recording")  # recording|ready|missing|corrupt|purged
    duration_s: Mapped[float | None]
    size_bytes: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("call_id", "kind"),)
