"""Who is acting at the command line: an account named explicitly or configured, never the OS user.

Issue 14: CLI reviews were credited to the OS user (``root``). A command that acts on
someone's behalf now names an account (its ``--reviewer`` / ``--as`` option), else
``$HOTLINE_USER``, else the one configured, and that account must exist, be enabled and
hold the permission.
"""

from __future__ import annotations

import os

from sqlalchemy.orm import Session

from accounts.roles import allowed
from accounts.tables import Account
from accounts.users import get_active

ENV = "HOTLINE_USER"


def _hint(option: str) -> str:
    return f"pass {option} NAME or set {ENV}; create accounts with `hotline users add`"


class IdentityError(Exception):
    """No usable account for a CLI action; the message is one line saying what to do."""


def cli_identity(session: Session, explicit: str | None, configured: str | None, permission: str, *,
                 option: str = "--reviewer") -> Account:
    """The account acting: ``explicit``, else $HOTLINE_USER, else ``configured``; checked for ``permission``.

    ``option`` is the command's own option for ``explicit`` (``--as`` for an agent's appeal), named in
    the error so the hint can be followed as written."""
    name = next((n.strip() for n in (explicit, os.environ.get(ENV), configured) if n and n.strip()), None)
    if name is None:
        raise IdentityError(f"who is acting? {_hint(option)}")
    account = get_active(session, name)
    if account is None:
        raise IdentityError(f"no enabled account {name!r}: {_hint(option)}")
    if not allowed(account.role, permission):
        raise IdentityError(f"account {name!r} ({account.role}) may not {permission}: use an account whose role "
                            "may (see `hotline users list`)")
    return account
