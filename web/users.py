"""The accounts page (admins only): list, add, disable, enable.

The same operations as ``hotline users`` (accounts/users.py). Disabling ends the account's open
sessions at once, in every app process (they live in the database; every request re-reads the
account too). Each change is written to the access
log under the admin who made it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

import db
from accounts.roles import MANAGE_USERS, ROLES
from accounts.tables import Account
from accounts.users import AccountError, add_user, disable, enable, list_users, record_access
from web.auth import VIA, address, require
from web.i18n import N_
from web.templating import render

router = APIRouter()
Admin = Annotated[Account, Depends(require(MANAGE_USERS))]


@router.get("/users")
def users_page(request: Request, admin: Admin) -> Response:
    with db.transaction(request.app.state.cfg.database_url) as s:
        accounts = list_users(s)
    return render(request, "users.html", {"accounts": accounts, "roles": ROLES})


@router.post("/users")
def add(request: Request, admin: Admin, name: Annotated[str, Form(max_length=64)] = "",
        role: Annotated[str, Form()] = "", password: Annotated[str, Form(max_length=1024)] = "",
        display_name: Annotated[str, Form(max_length=128)] = "", agent_id: Annotated[str, Form(max_length=128)] = "",
        ) -> Response:
    try:
        with db.transaction(request.app.state.cfg.database_url) as s:
            made = add_user(s, name, role, password, display_name=display_name, agent_id=agent_id)
            record_access(s, admin.name, "user-add", f"{made.name} ({made.role})", VIA, address=address(request))
    except AccountError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{name}/{change}")
def change(request: Request, admin: Admin, name: str, change: str) -> Response:
    if change not in ("disable", "enable"):
        raise HTTPException(404)
    if change == "disable" and name == admin.name:
        raise HTTPException(400, N_("An admin cannot disable their own account here."))
    try:
        with db.transaction(request.app.state.cfg.database_url) as s:
            (disable if change == "disable" else enable)(s, name)
            record_access(s, admin.name, f"user-{change}", name, VIA, address=address(request))
    except AccountError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse("/users", status_code=303)
