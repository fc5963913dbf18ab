"""Who is asking: sign-in and sign-out, the session cookie, CSRF, permissions.

Every page but the sign-in page needs a signed-in account; a route says so with
``Depends(current_account)`` or, for what only some roles may do, ``Depends(require(PERMISSION))``
(permissions and roles: accounts/roles.py). The account is read again from the database on each
request, so disabling it takes effect at once. ``current_account`` also checks the CSRF token on
every POST (form field ``csrf`` or header ``X-CSRF-Token``), so no route can forget it.

The session cookie holds only a random token (HttpOnly, SameSite=Strict). The sign-in form is
protected too: its token is a pre-session cookie the form must echo (the session cookie does not
exist yet). Wrong passwords are counted per account and per address (web/sessions.Throttle);
every sign-in, failure, refusal and sign-out is written to the access log (accounts.users).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

import db
from accounts.roles import REVIEW, allowed
from accounts.sessions import end_session
from accounts.tables import Account
from accounts.users import authenticate, get_active, record_access
from web.i18n import N_
from web.sessions import Sessions, Throttle, WebSession
from web.templating import render

log = logging.getLogger("web")
COOKIE = "hotline_session"
PRE_COOKIE = "hotline_signin"  # the sign-in form's CSRF token, before any session exists
HOME = "/flags"
AGENT_HOME = "/my/calls"  # an agent has no queue: its own calls (web/scores.py)
VIA = "web"

router = APIRouter()


class SignInRequired(Exception):
    """No live session: pages redirect to the sign-in form, other requests get 401 (web/app.py)."""


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site, else the queue.

    Refused: anything with a scheme or host, ``//`` and ``/\\`` (browsers read both as another
    host), backslashes anywhere, and control characters (a CR/LF would split the Location header)."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return HOME
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME
    return value


def address(request: Request) -> str:
    return request.client.host if request.client else "-"


def secure(request: Request) -> bool:
    """Whether cookies get the Secure flag: when the config says the app is reached over HTTPS (behind
    a proxy the app itself sees plain HTTP), or when this request came over HTTPS anyway."""
    return bool(request.app.state.cfg.qa.web.secure_cookies) or request.url.scheme == "https"


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


def _signed_in(request: Request, token: str) -> tuple[WebSession, Account] | None:
    """The live session of ``token`` and its enabled account, in one transaction (run off the event loop).
    A session whose account was disabled or removed is ended here (disabling ends them too)."""
    with db.transaction(request.app.state.cfg.database_url) as s:
        sess = _sessions(request).get(s, token)
        if sess is None:
            return None
        account = get_active(s, sess.account)
        if account is None:
            end_session(s, token)
            return None
        return sess, account


async def current_account(request: Request) -> Account:
    """The signed-in account (FastAPI dependency); on POST, the CSRF token must match too.
    (Async to read the form; the database is read in the thread pool, off the event loop.)"""
    found = await run_in_threadpool(_signed_in, request, request.cookies.get(COOKIE, ""))
    if found is None:
        raise SignInRequired()
    sess, account = found
    if request.method not in ("GET", "HEAD"):
        sent = request.headers.get("x-csrf-token")
        if sent is None:
            sent = str((await request.form()).get("csrf", ""))
        if not hmac.compare_digest(sent.encode(), sess.csrf.encode()):
            raise HTTPException(403, N_("This form is out of date: reload the page and try again."))
    request.state.account = account
    request.state.web_session = sess
    return account


def require(permission: str) -> Callable[..., Awaitable[Account]]:
    """A dependency giving the signed-in account if its role has ``permission``, else 403."""

    async def allowed_account(account: Annotated[Account, Depends(current_account)]) -> Account:
        if not allowed(account.role, permission):
            raise HTTPException(403, N_("Your role may not do this."))
        return account

    return allowed_account


def session_of(request: Request) -> WebSession:
    """The session ``current_account`` found for this request (for its CSRF token)."""
    sess: WebSession = request.state.web_session
    return sess


def _login_page(request: Request, nxt: str, error: str = "", status: int = 200) -> Response:
    token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", {"next": safe_next(nxt), "form_token": token, "error": error},
                      status_code=status)
    response.set_cookie(PRE_COOKIE, token, httponly=True, samesite="strict", path="/login", secure=secure(request))
    return response


@router.get("/login")
def login_form(request: Request, next: str = HOME) -> Response:
    return _login_page(request, next)


@router.post("/login")
def login(request: Request, name: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=1024)] = "", csrf: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = HOME) -> Response:
    name = name.strip()
    expected = request.cookies.get(PRE_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        return _login_page(request, next, N_("This form is out of date: reload the page and try again."), 403)
    where = address(request)
    keys = (f"account:{name.lower()}", f"address:{where}")
    throttle: Throttle = request.app.state.throttle
    with db.transaction(request.app.state.cfg.database_url) as s:
        if throttle.blocked(*keys):
            record_access(s, name, "sign-in-refused", None, VIA, address=where)
            log.warning("sign-in as %r from %s refused: too many failures", name, where)
            return _login_page(request, next, N_("Too many failed sign-ins: wait a few minutes and try again."), 429)
        account = authenticate(s, name, password) if name and password else None
        if account is None:
            throttle.fail(*keys)
            record_access(s, name, "sign-in-failed", None, VIA, address=where)
            log.warning("failed sign-in as %r from %s", name, where)
            return _login_page(request, next, N_("Wrong name or password."), 403)
        record_access(s, account.name, "sign-in", None, VIA, address=where)
        signed_in, reviews = account.name, allowed(account.role, REVIEW)
    throttle.clear(keys[0])
    token = _sessions(request).open(signed_in)
    target = safe_next(next)
    response = RedirectResponse(target if reviews or target != HOME else AGENT_HOME, status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/", secure=secure(request))
    response.delete_cookie(PRE_COOKIE, path="/login", secure=secure(request))
    return response


@router.post("/logout")
def logout(request: Request, account: Annotated[Account, Depends(current_account)]) -> Response:
    _sessions(request).close(request.cookies.get(COOKIE, ""))
    with db.transaction(request.app.state.cfg.database_url) as s:
        record_access(s, account.name, "sign-out", None, VIA, address=address(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=secure(request))
    return response


def home_of(account: Account) -> str:
    """Where ``/`` leads: the queue for those who review, an agent's own calls for agents."""
    return HOME if allowed(account.role, REVIEW) else AGENT_HOME


def sign_in_url(request: Request) -> str:
    """The sign-in form, coming back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?" + urlencode({"next": here})
