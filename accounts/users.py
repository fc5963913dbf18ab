"""Accounts: add, sign in, change passwords, disable; and the access log.

Passwords are kept as argon2id hashes (argon2-cffi, its default parameters). Signing in
with a name that does not exist still verifies a hash, so the time taken does not tell
which names exist. A hash made with older parameters is replaced on the next good sign-in.
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.roles import MANAGE_USERS, ROLES, allowed
from accounts.sessions import end_sessions
from accounts.tables import AccessLog, Account
from db import now

MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
VIA = ("web", "cli")

_hasher = PasswordHasher()
_dummy_hash: str | None = None  # made on first use, not at import: a hash costs ~0.1 s of CPU


class AccountError(Exception):
    """An account change that cannot be made; the message says what to do instead."""


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("no such account: this hash only spends the time a real one would")
    return _dummy_hash


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password too short: use at least {MIN_PASSWORD} characters")


def get_account(session: Session, name: str) -> Account | None:
    """The account called ``name``, enabled or not."""
    return session.scalars(select(Account).where(Account.name == name)).first()


def _existing(session: Session, name: str) -> Account:
    account = get_account(session, name)
    if account is None:
        raise AccountError(f"no account {name!r}: see `hotline users list`")
    return account


def add_user(session: Session, name: str, role: str, password: str, *, display_name: str | None = None,
             agent_id: str | None = None) -> Account:
    """A new active account; AccountError for a bad or taken name, an unknown role or a short password."""
    name = name.strip()
    if not _NAME.match(name):
        raise AccountError(f"account name {name!r}: 1-64 letters, digits or . _ @ - (starting with a letter or "
                           "digit)")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}")
    check_password(password)
    taken = session.scalars(select(Account.name).where(func.lower(Account.name) == name.lower())).first()
    if taken is not None:  # "Lin" beside "lin" would credit one person's reviews to two names
        raise AccountError(f"account {taken!r} exists already: choose another name, or `hotline users passwd "
                           f"{taken}` to change its password")
    agent_id = (agent_id or "").strip() or None
    account = Account(name=name, role=role, password_hash=_hasher.hash(password),
                      display_name=(display_name or "").strip() or None, agent_id=agent_id, active=True)
    session.add(account)
    session.flush()
    return account


def authenticate(session: Session, name: str, password: str) -> Account | None:
    """The active account whose password this is, else None (unknown, disabled or wrong: not told apart)."""
    account = get_account(session, name.strip())
    if account is None:
        with suppress(VerificationError):  # the time a real check takes, so names cannot be probed
            _hasher.verify(_dummy(), password)
        return None
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if not account.active:
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    account.last_login_at = now()
    session.flush()
    return account


def password_matches(account: Account, password: str) -> bool:
    """Whether ``password`` is the account's (a signed-in user confirming it before changing it)."""
    try:
        return bool(_hasher.verify(account.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def set_password(session: Session, name: str, password: str) -> None:
    """A new password; the account's open sessions end (a stolen session does not outlive the change)."""
    check_password(password)
    account = _existing(session, name)
    account.password_hash = _hasher.hash(password)
    account.password_changed_at = now()
    end_sessions(session, account.name)  # whoever knew the old password is signed out, in every app process
    session.flush()


def _keep_an_admin(session: Session, account: Account) -> None:
    """Refuse to leave no enabled account that may manage users (the web's users page needs one)."""
    if not (account.active and allowed(account.role, MANAGE_USERS)):
        return
    others = session.scalars(select(Account).where(Account.active.is_(True), Account.id != account.id)).all()
    if not any(allowed(a.role, MANAGE_USERS) for a in others):
        raise AccountError(f"{account.name!r} is the last enabled admin: add or enable another admin first")


def disable(session: Session, name: str) -> None:
    """The account can no longer sign in or act, and its open sessions end; its reviews and log rows stay."""
    account = _existing(session, name)
    _keep_an_admin(session, account)
    account.active = False
    end_sessions(session, account.name)  # signed out at once, in every app process
    session.flush()


def update_user(session: Session, name: str, *, role: str | None = None, agent_id: str | None = None,
                display_name: str | None = None) -> Account:
    """Change an account's role, agent id or display name (None leaves one as it is, "" clears it)."""
    account = _existing(session, name)
    if role is not None and role != account.role:
        if role not in ROLES:
            raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}")
        if not allowed(role, MANAGE_USERS):
            _keep_an_admin(session, account)
        account.role = role
    if agent_id is not None:
        account.agent_id = agent_id.strip() or None
    if display_name is not None:
        account.display_name = display_name.strip() or None
    session.flush()
    return account


def enable(session: Session, name: str) -> None:
    _existing(session, name).active = True
    session.flush()


def list_users(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.name)))


def get_active(session: Session, name: str) -> Account | None:
    """The account called ``name`` if it exists and is enabled (a web session re-checks this on each request)."""
    account = get_account(session, name)
    return account if account is not None and account.active else None


def record_access(session: Session, account_name: str, action: str, target: str | None, via: str,
                  address: str | None = None) -> AccessLog:
    """Log one sensitive act under an account (or under the name tried, for a failed sign-in)."""
    if via not in VIA:
        raise ValueError(f"via {via!r}: one of {', '.join(VIA)}")
    row = AccessLog(account=account_name[:64], action=action, target=target, via=via,
                    address=address[:64] if address else None)
    session.add(row)
    session.flush()
    return row


def access_log(session: Session, *, account: str | None = None, action: str | None = None,
               since: datetime | None = None, limit: int = 200) -> list[AccessLog]:
    """The newest access-log rows first, optionally for one account, one action, or after ``since``."""
    query = select(AccessLog).order_by(AccessLog.at.desc(), AccessLog.id.desc()).limit(limit)
    if account is not None:
        query = query.where(AccessLog.account == account)
    if action is not None:
        query = query.where(AccessLog.action == action)
    if since is not None:
        query = query.where(AccessLog.at >= since)
    return list(session.scalars(query))
