"""`hotline qa web`: the review app on 127.0.0.1, served by uvicorn.

Registered under the ``qa`` group by cli.py (qa/ may not import web/). The app is imported
when the command runs, so ``hotline --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cliutil import ConfigOpt, fail, load


def web_cmd(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1.")] = 8765,
    config: ConfigOpt = None,
) -> None:
    """The review web app on 127.0.0.1 (sign in with an account: `hotline users add`)."""
    import uvicorn
    from sqlalchemy import func, select

    import db
    from accounts.tables import Account
    from web.app import create_app

    cfg = load(config)
    app = create_app(cfg)  # migrates the database first
    with db.transaction(cfg.database_url) as s:
        active = s.scalar(select(func.count()).select_from(Account).where(Account.active.is_(True)))
    if not active:
        fail("no account can sign in: add one first, e.g. `hotline users add NAME --role admin`")
    print(f"QA review app on http://127.0.0.1:{port}/  (Ctrl-C stops)", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", server_header=False)
