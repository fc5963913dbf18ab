"""The review app: ``create_app(cfg)`` builds it, uvicorn serves it (web/commands.py).

What holds for every response is set here: the security headers (a CSP allowing this site's own
scripts, styles and media only, no framing, no referrer to other sites, no caching of pages that
hold what callers said), the language cookie when ``?lang=`` picks one, one log line per request,
and the error pages (in the reader's language; a missing sign-in goes to the sign-in form).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import db
import web.reports
from accounts.tables import Account
from settings import Config
from web import auth, calls, password, queue, scores, users
from web.i18n import COOKIE as LANG_COOKIE
from web.i18n import N_, gettext, normalize
from web.sessions import Sessions, Throttle
from web.templating import render

log = logging.getLogger("web")
GENERIC = {404: N_("No such page."), 405: N_("This page does not take that request.")}
STATIC_DIR = Path(__file__).resolve().parent / "static"
HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                                "frame-ancestors 'none'"),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def create_app(cfg: Config) -> FastAPI:
    db.engine_for(cfg.database_url)  # migrate before the first request, and fail here if the database is broken
    app = FastAPI(title="hotline QA", docs_url=None, redoc_url=None, openapi_url=None)  # no unsigned pages
    w = cfg.qa.web
    app.state.cfg = cfg
    app.state.tz = ZoneInfo(w.timezone)
    app.state.sessions = Sessions(cfg.database_url, idle_s=w.session_idle_minutes * 60,
                                  max_s=w.session_max_hours * 3600)
    app.state.throttle = Throttle(w.sign_in_failures, w.sign_in_window_minutes * 60)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (auth, queue, calls, users, web.reports, scores, password):
        app.include_router(module.router)

    @app.get("/")
    def home(account: Annotated[Account, Depends(auth.current_account)]) -> Response:
        return RedirectResponse(auth.home_of(account), status_code=303)

    app.add_exception_handler(auth.SignInRequired, _sign_in_required)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _bad_request)  # type: ignore[arg-type]
    app.middleware("http")(_every_response)
    return app


async def _every_response(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    for name, value in HEADERS.items():
        response.headers[name] = value
    response.headers.setdefault("Cache-Control", "no-store")
    chosen = normalize(request.query_params.get("lang"))
    if chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax", path="/",
                            secure=auth.secure(request))
    account = getattr(request.state, "account", None)
    log.info("%s %s %s -> %s (%s)", auth.address(request), request.method, request.url.path, response.status_code,
             account.name if account is not None else "-")
    return response


async def _sign_in_required(request: Request, exc: auth.SignInRequired) -> Response:
    if request.method in ("GET", "HEAD"):
        return RedirectResponse(auth.sign_in_url(request), status_code=303)
    return PlainTextResponse(gettext(request, N_("Sign in first.")), status_code=401)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """An error page: ``detail`` is a message (English, translated here) or {"message": ..., "detail": ...}."""
    given = exc.detail if isinstance(exc.detail, dict) else {"message": exc.detail}
    message, detail = str(given.get("message", "")), given.get("detail")
    if message == HTTPStatus(exc.status_code).phrase:  # Starlette's own (an unknown path): say it plainly
        message = GENERIC.get(exc.status_code, message)
    return render(request, "error.html", {"status": exc.status_code, "message": message, "detail": detail},
                  status_code=exc.status_code, headers=exc.headers)


async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
    fields = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) for e in exc.errors())
    return render(request, "error.html", {"status": 400, "message": N_("Bad request."), "detail": fields},
                  status_code=400)
