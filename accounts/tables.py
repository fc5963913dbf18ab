"""Tables accounts owns: who may sign in, and every sensitive access made under an account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db import Base, UTCDateTime, now


class Account(Base):
    """A person who uses Hotline (QA staff, leads, admins) or an agent who takes calls."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # the sign-in name; reviews are credited to it
    display_name: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))  # accounts.roles.ROLES
    # An agent account's identity as calls record it (calls.agent, the interface that answered,
    # e.g. "SIP/agent1001"): how an agent finds its own calls. NULL for QA staff.
    agent_id: Mapped[str | None] = mapped_column(String(128), index=True)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id, with its parameters
    active: Mapped[bool] = mapped_column(default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccessLog(Base):
    """One sensitive act: a listen, an unmask, a review, a sign-in (POLICY.md §5: access is logged).

    The account is kept by name, not by foreign key, so the log outlives a renamed or removed
    account and also records failed sign-ins under names that do not exist.
    """

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    account: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # listen | listen-original | unmask | review | sign-in | ...
    target: Mapped[str | None] = mapped_column(Text)  # what was touched, e.g. "call 12 agent track"
    via: Mapped[str] = mapped_column(String(8))  # web | cli
    address: Mapped[str | None] = mapped_column(String(64))  # the client's address (web)

    __table_args__ = (Index("ix_access_log_account_at", "account", "at"),)


class SignInSession(Base):
    """A signed-in browser (the review app's session), kept here so a restart or a second app process
    keeps it, and so the CLI can end it (`hotline users passwd / disable`).

    Only a SHA-256 of the cookie's token is kept: someone reading the database (a backup, a copy)
    cannot sign in with what they read. The token is 32 random bytes, so no salt or slow hash is needed.
    """

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex SHA-256 of the cookie's token
    account: Mapped[str] = mapped_column(String(64), index=True)  # by name, like reviews and the access log
    csrf: Mapped[str] = mapped_column(String(64))  # the forms' token: worthless without the session cookie
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the absolute limit counts from here
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the idle limit counts from here
