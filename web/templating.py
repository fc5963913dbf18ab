"""Jinja2 templates with what every page needs in its context.

``render(request, "page.html", {...})`` gives each template: ``_()`` (the request's language,
web/i18n.py), ``lang`` and ``lang_url(code)`` for the switch, ``account`` (the signed-in one, or
None), ``csrf`` (the session's token, for forms), ``can(P.SEE_REPORTS)`` (``P``: the permission
constants of accounts/roles.py), and ``when(value)``, a stored UTC time as text in the configured
timezone (``qa.web.timezone``). ``request.app.state.tz`` is that timezone, for code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from accounts import roles
from accounts.roles import allowed
from web.i18n import LANGUAGES, language, translations

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# for templates: ``can(P.SEE_REPORTS)``
PERMISSIONS = {"REVIEW": roles.REVIEW, "HEAR_REDACTED": roles.HEAR_REDACTED, "HEAR_ORIGINAL": roles.HEAR_ORIGINAL,
               "UNMASK": roles.UNMASK, "EDIT_RULES": roles.EDIT_RULES, "SEE_REPORTS": roles.SEE_REPORTS,
               "MANAGE_USERS": roles.MANAGE_USERS, "APPEAL": roles.APPEAL, "DECIDE_APPEALS": roles.DECIDE_APPEALS}


def local_time(value: datetime | str | None, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time (datetime or ISO text, UTC when naive) as local text; '' for none."""
    if value is None or value == "":
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(tz).strftime(fmt)


def _context(request: Request) -> dict[str, Any]:
    lang = language(request)
    account = getattr(request.state, "account", None)
    sess = getattr(request.state, "web_session", None)
    tz: tzinfo = request.app.state.tz

    def lang_url(code: str) -> str:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        return request.url.path + "?" + urlencode([*query, ("lang", code)])

    def when(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return local_time(value, tz, fmt)

    def can(permission: str) -> bool:
        return account is not None and allowed(account.role, permission)

    return {"_": translations(lang).gettext, "lang": lang, "languages": LANGUAGES, "lang_url": lang_url,
            "account": account, "csrf": sess.csrf if sess else "", "when": when, "can": can, "P": PERMISSIONS}


templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[_context])
templates.env.trim_blocks = templates.env.lstrip_blocks = True  # pages without the tags' blank lines


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200,
           headers: Mapping[str, str] | None = None) -> Response:
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code, headers=headers)
