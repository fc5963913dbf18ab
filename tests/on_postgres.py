"""Run pytest with every test database on a throwaway PostgreSQL server.

    .venv/bin/python tests/on_postgres.py tests/test_jobs.py -q

Starts the server of tests/test_fault_callstore.py (Debian's `postgresql`: initdb on a Unix
socket in a temp folder), sets HOTLINE_TEST_DATABASE_URL so db.py gives each SQLite file a test
names a database of its own there, runs pytest with the arguments given, and removes the server.
Tests that check the SQLite file itself are marked ``sqlite_only`` and skipped (tests/conftest.py), and so
are those marked ``covered_on_postgres_by(MODULES)``: their time is simulated calls or edits, and what they
do in the database the named modules do here.
`./dev.sh test` (a whole run) calls this with the modules that opened a database in its SQLite run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_fault_callstore import PgServer


def main() -> int:
    with PgServer.running() as pg:
        env = {**os.environ, "HOTLINE_TEST_DATABASE_URL": pg.url}
        return subprocess.run([sys.executable, "-m", "pytest", *sys.argv[1:]], env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main())
