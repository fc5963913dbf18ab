"""Numbered versions of config.yaml: every saved menu change, who made it, when and why.

Each save stores the whole file text (table ``menu_versions``; the id is the version
number), so `diff` and `rollback` need nothing but the database. The file as it was
before the first recorded edit becomes version 1; a file changed by hand since the last
version is recorded as found before the edit on top of it, so a rollback can always get
back to what callers actually heard.

The file write happens inside the database transaction, under the edit lock: if the
write fails the version is not recorded, and two admins' saves are serialised.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import select

from db import now, transaction
from menus.configfile import EditError, edit_lock, ensure_unchanged, read_text, sha256, unified_diff, write_atomic
from menus.edit import Pending, prepare_text
from menus.tables import MenuVersion
from menus.yamltree import own_part, parse, sections
from settings import ConfigError, DatabaseSettings, database_url_in, load_config, read_yaml

# What `menu diff` compares by default: the parts of the file a caller hears.
MENU_SECTIONS = ("company", "opening_line", "prompts", "ivr", "queues", "extensions", "menus")
FOUND_FIRST = "the file as found before the first recorded edit"
FOUND_CHANGED = "the file as found: changed outside `hotline menu` since the last version"


class Store(Protocol):
    """Where a config file's versions live: a loaded Config, or a BrokenFile's best reading."""

    @property
    def database_url(self) -> str: ...

    @property
    def source(self) -> Path | None: ...


@dataclass(frozen=True)
class BrokenFile:
    """A config file that does not load, and the database its versions are in (found in its text)."""

    source: Path
    database_url: str
    error: str  # why it does not load, one line


_DB_URL = re.compile(r"^database:[ \t]*\n(?:[ \t]+.*\n|[ \t]*\n)*?[ \t]+url:[ \t]*['\"]?([^'\"\s#]+)", re.M)


def store_of(path: Path) -> Store:
    """The versions of ``path``: its loaded config, or, when a hand edit broke it, the database its text names
    (``database.url``, else the default), so `history`, `diff` and `rollback` still work: the cure."""
    try:
        return load_config(path)
    except ConfigError as exc:
        error = str(exc)
    real = path.resolve()
    text = read_text(real)  # a missing file is an EditError: there is nothing to version
    try:
        url = str((read_yaml(real).get("database") or {}).get("url") or "")
    except (ConfigError, AttributeError):
        m = _DB_URL.search(text)
        url = m.group(1) if m else ""
    return BrokenFile(real, database_url_in(url or DatabaseSettings().url, real.parent), error)


@dataclass(frozen=True)
class VersionInfo:
    number: int
    at: datetime
    author: str
    message: str
    sha256: str

    def as_dict(self) -> dict[str, object]:
        return {"version": self.number, "at": self.at.isoformat(), "author": self.author,
                "message": self.message, "sha256": self.sha256}  # fmt: skip


def default_author() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def commit(pending: Pending, author: str | None = None, message: str | None = None) -> int:
    """Write a prepared edit atomically and record it; returns the new version number."""
    who = author or default_author()
    url = pending.config.database_url
    with edit_lock(pending.path):
        ensure_unchanged(pending.path, pending.old_sha)
        with transaction(url) as session:
            last = session.scalars(select(MenuVersion).order_by(MenuVersion.id.desc()).limit(1)).first()
            if last is None or last.sha256 != pending.old_sha:
                session.add(_version(pending.old_text, who, FOUND_FIRST if last is None else FOUND_CHANGED))
            row = _version(pending.new_text, who, message or pending.summary)
            session.add(row)
            session.flush()  # the number is known before the file is written
            write_atomic(pending.path, pending.new_text)
            return row.id


def _version(text: str, author: str, message: str) -> MenuVersion:
    return MenuVersion(at=now(), author=author, message=message, config_text=text, sha256=sha256(text))


def history(config: Store) -> list[VersionInfo]:
    with transaction(config.database_url) as session:
        rows = session.scalars(select(MenuVersion).order_by(MenuVersion.id)).all()
        return [VersionInfo(r.id, r.at, r.author, r.message, r.sha256) for r in rows]


def version_text(config: Store, number: int) -> str:
    with transaction(config.database_url) as session:
        row = session.get(MenuVersion, number)
        if row is None:
            last = session.scalars(select(MenuVersion.id).order_by(MenuVersion.id.desc()).limit(1)).first()
            known = f"1-{last}" if last else "none yet"
            raise EditError(f"version {number}: no such version (versions: {known})")
        return row.config_text


def menu_part(text: str, path: Path) -> str:
    """Only the sections a caller hears, verbatim, in file order."""
    _head, parts = sections(text, parse(text, path))
    out = []
    for key, part in parts.items():
        if key in MENU_SECTIONS:
            out.append(own_part(part))
    return "".join(out)


def diff_versions(config: Store, old: int, new: int | None = None, *, full: bool = False) -> str:
    """Unified diff from version ``old`` to version ``new`` (default: the file as it is now)."""
    path = config.source or Path("config.yaml")
    a = version_text(config, old)
    b = version_text(config, new) if new is not None else read_text(path)
    if not full:
        with contextlib.suppress(EditError):  # a side that is not even YAML (a broken hand edit): whole texts
            a, b = menu_part(a, path), menu_part(b, path)
    return unified_diff(a, b, f"version {old}", f"version {new}" if new is not None else f"{path.name} (now)")


def prepare_rollback(config: Store, number: int) -> Pending:
    """The file text of version ``number``, checked like any edit (it must still lint and validate)."""
    path = config.source or Path("config.yaml")
    text = version_text(config, number)
    if sha256(text) == sha256(read_text(path)):
        raise EditError(f"version {number}: the file already holds it; nothing to do")
    return prepare_text(path, text, f"rollback to version {number}")


def version_of_file(url: str, path: Path) -> int | None:
    """The saved menu version whose text is this file's, if `hotline menu` recorded it."""
    try:
        digest = sha256(path.read_text(encoding="utf-8"))
        with transaction(url) as s:
            return s.scalar(select(MenuVersion.id).where(MenuVersion.sha256 == digest)
                            .order_by(MenuVersion.id.desc()).limit(1))
    except (OSError, UnicodeDecodeError):
        return None
