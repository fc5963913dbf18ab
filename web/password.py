"""Changing one's own password (GET/POST /password), for every role.

The current password is asked again (a session left open at a shared desk must not be enough to
lock its owner out), and wrong ones count in the sign-in throttle under the account's name. A
change ends every session of the account, in every app process (accounts.users.set_password);
this browser gets a fresh one, so whoever changed it stays signed in and nobody else does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

import db
from accounts.tables import Account
from accounts.users import MIN_PASSWORD, get_account, password_matches, record_access, set_password
from web.auth import COOKIE, VIA, address, current_account, secure
from web.i18n import N_
from web.sessions import Sessions, Throttle
from web.templating import render

router = APIRouter()
Me = Annotated[Account, Depends(current_account)]


def _page(request: Request, error: str = "", status: int = 200, changed: bool = False) -> Response:
    return render(request, "password.html", {"error": error, "changed": changed, "min_length": MIN_PASSWORD},
                  status_code=status)


@router.get("/password")
def password_form(request: Request, account: Me, changed: int = 0) -> Response:
    return _page(request, changed=bool(changed))


@router.post("/password")
def change_password(request: Request, account: Me, current: Annotated[str, Form(max_length=1024)] = "",
                    new: Annotated[str, Form(max_length=1024)] = "",
                    again: Annotated[str, Form(max_length=1024)] = "") -> Response:
    throttle: Throttle = request.app.state.throttle
    key = f"account:{account.name.lower()}"  # the sign-in form's key: guesses here and there add up
    if throttle.blocked(key):
        return _page(request, N_("Too many failed sign-ins: wait a few minutes and try again."), 429)
    if not password_matches(account, current):
        throttle.fail(key)
        return _page(request, N_("The current password is wrong."), 403)
    if len(new) < MIN_PASSWORD:
        return _page(request, N_("The new password is too short: use at least 8 characters."), 400)
    if new != again:
        return _page(request, N_("The two new passwords differ."), 400)
    with db.transaction(request.app.state.cfg.database_url) as s:
        if get_account(s, account.name) is None:  # removed meanwhile: nothing to change
            return _page(request, N_("Sign in first."), 401)
        set_password(s, account.name, new)  # ends every session of the account, this one too
        record_access(s, account.name, "password-change", None, VIA, address=address(request))
    sessions: Sessions = request.app.state.sessions
    response = RedirectResponse("/password?changed=1", status_code=303)
    response.set_cookie(COOKIE, sessions.open(account.name), httponly=True, samesite="strict", path="/",
                        secure=secure(request))
    return response
