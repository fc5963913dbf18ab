"""The review web page: the flag queue, one call with its transcript and audio, verdicts.

Standard library only (``http.server``), bound to 127.0.0.1. Every page needs a
signed-in reviewer, not only the recordings: transcripts hold what callers said.
Signing in takes the reviewer's name and the shared password from
``$HOTLINE_QA_PASSWORD`` (the server refuses to start without one); the session is
an HttpOnly, SameSite=Strict cookie holding a random token, and every form carries
the session's CSRF token. Each recording served is logged (``qa.tables.RecordingAccess``
and the ``qa.web`` logger): who, which call, which track, from where. Reviewers hear each
track's redacted copy (personal data under a tone: recordings/redacted.py); the original
only with ``?original=1``, logged as such (no roles yet decide who may ask).

The audio player starts at the flag's second: flag links carry ``?t=SECONDS`` and
the page seeks there; the audio URL answers HTTP Range requests so browsers can seek.
"""

from __future__ import annotations

import hmac
import html
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sqlalchemy import select

import db
from qa.review import ReviewError, review
from qa.tables import RecordingAccess
from qa.views import CATEGORIES, STATUSES, ViewError, call_view, list_flags
from recordings.redacted import redacted_kind
from recordings.store import recording_file
from recordings.tables import Recording
from settings import Config

log = logging.getLogger("qa.web")
PASSWORD_ENV = "HOTLINE_QA_PASSWORD"
COOKIE = "hotline_qa"
TRACK_ORDER = ("mix", "agent", "caller")
MAX_BODY = 64 * 1024
CSS = """body{font-family:sans-serif;margin:1.5em;max-width:70em}table{border-collapse:collapse}
td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
mark.forbidden{background:#f99}mark.vague{background:#ff9}mark.pii{background:#9cf}mark{background:#fc9}
.caller{color:#555}.ivr{color:#999}.seg{margin:.2em 0}.t{font-family:monospace;color:#888}form.inline{display:inline}"""


def _conf(value: float | None) -> str:
    """A flag's confidence for the page; '-' for flags raised before scores existed."""
    return "-" if value is None else f"{value:.2f}"


class WebError(RuntimeError):
    pass


@dataclass
class _Session:
    reviewer: str
    csrf: str


class QaWeb:
    """Shared state of one server: config, password, signed-in sessions."""

    def __init__(self, config: Config, password: str) -> None:
        self.config = config
        self.password = password
        self.sessions: dict[str, _Session] = {}
        self.lock = threading.Lock()

    def sign_in(self, reviewer: str, password: str) -> str | None:
        if not reviewer or len(reviewer) > 64 or not hmac.compare_digest(password.encode(), self.password.encode()):
            return None
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.sessions[token] = _Session(reviewer, secrets.token_urlsafe(16))
        return token


def make_server(config: Config, port: int = 8765, password: str | None = None) -> ThreadingHTTPServer:
    pw = password if password is not None else os.environ.get(PASSWORD_ENV, "")
    if len(pw) < 8:
        raise WebError(f"set ${PASSWORD_ENV} (at least 8 characters): reviewers sign in with it")
    db.engine_for(config.database_url)  # migrate before the first request, and fail here if broken
    state = QaWeb(config, pw)
    handler = type("Handler", (_Handler,), {"web": state})
    try:
        return ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise WebError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None


def serve(config: Config, port: int = 8765) -> None:
    server = make_server(config, port)
    print(f"QA review page on http://127.0.0.1:{server.server_address[1]}/  (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _who(speaker: str) -> str:
    """The speaker as reviewers read it: the IVR's prompts (speaker ``ivr``) are the IVR, not the agent."""
    return "IVR" if speaker == "ivr" else speaker


def _marked(text: str, marks: list[dict[str, Any]]) -> str:
    """The segment text as HTML with each flag's span in a <mark>."""
    spans = sorted((m for m in marks if m["start"] is not None), key=lambda m: (m["start"], -m["end"]))
    out, pos = [], 0
    for m in spans:
        if m["start"] < pos:
            continue  # overlapping spans: the first one is shown
        out.append(_e(text[pos:m["start"]]))
        out.append(f'<mark class="{_e(m["category"])}" title="{_e(m["rule"])}" id="m{m["flag"]}">'
                   f'{_e(text[m["start"]:m["end"]])}</mark>')
        pos = m["end"]
    out.append(_e(text[pos:]))
    return "".join(out)


class _Handler(BaseHTTPRequestHandler):
    web: QaWeb
    server_version = "hotline-qa"

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    # --- plumbing ---------------------------------------------------------------------
    def _session(self) -> _Session | None:
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        token = cookie[COOKIE].value if COOKIE in cookie else ""
        with self.web.lock:
            return self.web.sessions.get(token)

    def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _page(self, title: str, body: str, status: int = 200, sess: _Session | None = None) -> None:
        who = (f'<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" '
               f'value="{_e(sess.csrf)}">{_e(sess.reviewer)} <button>sign out</button></form>') if sess else ""
        doc = (f"<!doctype html><html lang=zh><head><meta charset=utf-8><title>{_e(title)}</title>"
               f"<style>{CSS}</style></head><body><p><a href='/flags'>flags</a> {who}</p>"
               f"<h1>{_e(title)}</h1>{body}</body></html>")
        self._send(status, doc.encode())

    def _redirect(self, to: str, headers: dict[str, str] | None = None) -> None:
        self._send(HTTPStatus.SEE_OTHER, b"", headers={"Location": to, **(headers or {})})

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("form too large")
        data = parse_qs(self.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in data.items()}

    # --- routes -----------------------------------------------------------------------
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/login":
            return self._login_page()
        sess = self._session()
        if sess is None:
            return self._redirect("/login?" + urlencode({"next": self.path}))
        if url.path in ("/", "/flags"):
            return self._flags_page(sess, query)
        m = re.fullmatch(r"/calls/(\d+)(/audio)?", url.path)
        if m and m.group(2):
            return self._audio(sess, int(m.group(1)), query.get("track"), query.get("original") == "1")
        if m:
            return self._call_page(sess, int(m.group(1)), query)
        self._page("not found", "<p>no such page</p>", 404, sess)

    do_HEAD = do_GET

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        try:
            form = self._form()
        except ValueError as exc:
            return self._page("bad request", f"<p>{_e(exc)}</p>", 400)
        if url.path == "/login":
            token = self.web.sign_in(form.get("reviewer", "").strip(), form.get("password", ""))
            if token is None:
                log.warning("%s failed sign-in as %r", self.address_string(), form.get("reviewer", "")[:64])
                return self._login_page("wrong name or password", 403)
            nxt = form.get("next") or "/flags"
            if not nxt.startswith("/") or nxt.startswith("//"):
                nxt = "/flags"
            return self._redirect(nxt, {"Set-Cookie": f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"})
        sess = self._session()
        if sess is None:
            return self._page("sign in first", "<p><a href='/login'>sign in</a></p>", 403)
        if not hmac.compare_digest(form.get("csrf", ""), sess.csrf):
            return self._page("bad request", "<p>stale form: reload the page</p>", 403, sess)
        if url.path == "/logout":
            with self.web.lock:
                self.web.sessions = {k: v for k, v in self.web.sessions.items() if v is not sess}
            return self._redirect("/login", {"Set-Cookie": f"{COOKIE}=; Max-Age=0; Path=/"})
        m = re.fullmatch(r"/flags/(\d+)/review", url.path)
        if m:
            return self._review(sess, int(m.group(1)), form)
        self._page("not found", "<p>no such page</p>", 404, sess)

    def _login_page(self, error: str = "", status: int = 200) -> None:
        nxt = parse_qs(urlsplit(self.path).query).get("next", ["/flags"])[0]
        body = (f"<p style='color:#b00'>{_e(error)}</p>" if error else "") + (
            "<form method=post action='/login'><input type=hidden name=next value='" + _e(nxt) + "'>"
            "<p>name <input name=reviewer required maxlength=64></p>"
            "<p>password <input name=password type=password required></p><button>sign in</button></form>")
        self._page("QA sign in", body, status)

    def _flags_page(self, sess: _Session, q: dict[str, str]) -> None:
        status, category = q.get("status") or None, q.get("category") or None
        try:
            with db.transaction(self.web.config.database_url) as s:
                flags = list_flags(s, status=status, category=category, limit=500)
        except ViewError as exc:
            return self._page("flags", f"<p>{_e(exc)}</p>", 400, sess)

        def options(values: tuple[str, ...], chosen: str | None) -> str:
            return "<option value=''>all</option>" + "".join(
                f"<option{' selected' if v == chosen else ''}>{_e(v)}</option>" for v in values)

        rows = "".join(
            f"<tr><td>{f['id']}</td><td><a href='/calls/{f['call']}?flag={f['id']}&t={f['offset_s'] or 0}'>"
            f"call {f['call']}</a></td><td>{_e((f.get('call_started_at') or '')[:16])}</td>"
            f"<td>{_e(f.get('agent'))}</td>"
            f"<td>{_e(f['status'])}</td><td>{_e(f['category'])}</td><td>{_e(f['rule'])}</td>"
            f"<td>{_e(f['shown_severity'])}</td><td>{_conf(f['confidence'])}</td><td>{_e(f['matched'])}</td></tr>"
            for f in flags)
        body = (f"<form method=get>status <select name=status>{options(STATUSES, status)}</select> "
                f"category <select name=category>{options(CATEGORIES, category)}</select> <button>filter</button>"
                f"</form><p>{len(flags)} flag(s)</p><table><tr><th>flag</th><th>call</th><th>when</th><th>agent</th>"
                f"<th>status</th><th>category</th><th>rule</th><th>severity</th><th>confidence</th><th>matched</th></tr>"
                f"{rows}</table>")
        self._page("QA flags", body, sess=sess)

    def _call_page(self, sess: _Session, call_id: int, q: dict[str, str]) -> None:
        try:
            with db.transaction(self.web.config.database_url) as s:
                view = call_view(s, self.web.config, call_id)
        except ViewError as exc:
            return self._page("not found", f"<p>{_e(exc)}</p>", 404, sess)
        c = view["call"]
        try:
            start = max(0.0, float(q.get("t", "0")))
        except ValueError:
            start = 0.0
        audio = ""
        if view["recordings"]:
            audio = (f"<p><audio id=player controls preload=metadata src='/calls/{call_id}/audio#t={start:.1f}'>"
                     f"</audio></p><script>const p=document.getElementById('player');"
                     f"function play(t){{p.currentTime=t;p.play();}}"
                     f"p.addEventListener('loadedmetadata',()=>{{p.currentTime={start:.1f};}},{{once:true}});</script>")
        segs = "".join(
            f"<div class='seg {_e(sg['speaker'])}'><span class=t>{sg['start']:7.1f}s</span> "
            f"<b>{_e(_who(sg['speaker']))}</b> "
            f"{_marked(sg['text'], sg['marks'])}</div>" for sg in view["segments"])
        flag_rows = []
        for f in view["flags"]:
            at = f["offset_s"] or 0.0
            play = f"<button type=button onclick='play({at})'>▶ {at:.1f}s</button>" if audio else f"{at:.1f}s"
            history = "<br>".join(f"{_e(r['decision'])} by {_e(r['reviewer'])} {_e(r['at'][:16])} {_e(r['note'])}"
                                  for r in f["reviews"])
            forms = "".join(
                f"<form class=inline method=post action='/flags/{f['id']}/review'>"
                f"<input type=hidden name=csrf value='{_e(sess.csrf)}'><input type=hidden name=decision value={d}>"
                f"<input name=note placeholder=note size=12><button>{label}</button></form>"
                for d, label in (("confirmed", "confirm"), ("dismissed", "dismiss")))
            flag_rows.append(
                f"<tr id='flag{f['id']}'><td>{f['id']}</td><td>{play}</td><td>{_e(f['status'])}</td>"
                f"<td>{_e(f['category'])}<br><small>{_e(f['rule'])} ({_e(f['shown_severity'])}, "
                f"confidence {_conf(f['confidence'])})</small></td>"
                f"<td>{_e(f['matched'])}</td><td>{_e(f['suggestion'])}<br><small>{_e(f['source'])}</small></td>"
                f"<td>{forms}<br><small>{history}</small></td></tr>")
        needs = view["transcript"] and view["transcript"]["needs_review"]
        body = (f"<p>caller {_e(c['caller'])} · agent {_e(c['agent'])} · route {_e(c['route'])} · "
                f"started {_e((c['started_at'] or '')[:19])} · hangup by {_e(c['hangup_by'])}</p>{audio}"
                + ("<p><b>transcript needs manual review</b></p>" if needs else "")
                + f"<h2>flags</h2><table><tr><th>flag</th><th>play</th><th>status</th><th>rule</th><th>matched</th>"
                f"<th>suggestion / source</th><th>review</th></tr>{''.join(flag_rows)}</table>"
                f"<h2>transcript</h2>{segs or '<p>no transcript</p>'}")
        self._page(f"call {call_id}", body, sess=sess)

    def _review(self, sess: _Session, flag_id: int, form: dict[str, str]) -> None:
        try:
            with db.transaction(self.web.config.database_url) as s:
                row = review(s, flag_id, sess.reviewer, form.get("decision", ""), form.get("note"))
                call_id, offset = row.flag.call_id, row.flag.offset_s or 0
        except ReviewError as exc:
            return self._page("review refused", f"<p>{_e(exc)}</p>", 400, sess)
        self._redirect(f"/calls/{call_id}?flag={flag_id}&t={offset}#flag{flag_id}")

    def _audio(self, sess: _Session, call_id: int, track: str | None, original: bool) -> None:
        """A track's redacted copy (recordings/redacted.py); the original only with ``?original=1``.
        Every file served is logged; an original as a warning, as it holds what the copy hides."""
        cfg = self.web.config
        with db.transaction(cfg.database_url) as s:
            rows = {r.kind: r for r in s.scalars(select(Recording).where(Recording.call_id == call_id))}
            served = {k: (k if original else redacted_kind(k)) for k in TRACK_ORDER}
            have = [k for k in TRACK_ORDER if served[k] in rows]
            kind = track if track in have else next(iter(have), None)
            if kind is None:
                what = "recording" if original or not any(k in rows for k in TRACK_ORDER) else "redacted copy yet"
                return self._page("no recording", f"<p>this call has no {what}</p>", 404, sess)
            path = recording_file(cfg, rows[served[kind]].path)
            if not path.is_file():
                return self._page("no recording", f"<p>recording file missing ({_e(served[kind])})</p>", 404, sess)
            s.add(RecordingAccess(call_id=call_id, reviewer=sess.reviewer, remote=self.client_address[0],
                                  kind=served[kind]))
        log.log(logging.WARNING if original else logging.INFO, "%s recording of call %s (%s) served to %s from %s",
                "ORIGINAL" if original else "redacted", call_id, kind, sess.reviewer, self.client_address[0])
        self._send_file(path)

    def _send_file(self, path: Path) -> None:
        size = path.stat().st_size
        start, end = 0, size - 1
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
        partial = bool(m and (m.group(1) or m.group(2)))
        if partial and m:
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            else:
                start = max(0, size - int(m.group(2)))
            if start > end or start >= size:
                return self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"",
                                  headers={"Content-Range": f"bytes */{size}"})
        self.send_response(HTTPStatus.PARTIAL_CONTENT if partial else HTTPStatus.OK)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "no-store")
        if partial:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if self.command == "HEAD":
            return
        with path.open("rb") as fh:  # streamed: a long call's recording is never held in memory
            fh.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = fh.read(min(64 * 1024, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
