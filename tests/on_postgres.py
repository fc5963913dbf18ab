"""Run pytest with every test database on a throwaway PostgreSQL server.

    .venv/bin/python tests/on_postgres.py tests/test_jobs.py -q

Starts the server of tests/test_fault_callstore.py (Debian's `postgresql`: initdb on a Unix
socket in a temp folder), sets HOTLINE_TEST_DATABASE_URL so db.py gives each SQLite file a test
names a database of its own there, runs pytest with the arguments given, and removes the server.
Tests that check the SQLite file itself are marked ``sqlite_only`` and skipped (tests/conftest.py), and so
are those marked ``covered_on_postgres_by(MODULES)``: their time is simulated calls or edits, and what they
do in the database the named modules do here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_fault_callstore import PgServer

# A whole pass makes ~550 databases of ~8 MB (a copy of template1 each) and ~1 GB of WAL: ~6 GB (3.3 GB
# seen at 276). On disk, removing them took 2.7-3.7 min after the last test (twice); in /dev/shm 12 s.
# Only with room to spare in both, else the system's temp folder as before.
SHM, NEEDS = Path("/dev/shm"), 10 << 30


def _server_folder() -> str | None:
    try:
        room = os.statvfs(SHM)
        meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        available = int(meminfo["MemAvailable"].split()[0]) << 10
    except (OSError, KeyError, ValueError):
        return None
    return str(SHM) if room.f_bavail * room.f_frsize >= NEEDS and available >= NEEDS else None


def main() -> int:
    tempfile.tempdir = _server_folder()  # this process only: the tests' own temp folders stay where they were
    with PgServer.running() as pg:
        env = {**os.environ, "HOTLINE_TEST_DATABASE_URL": pg.url}
        return subprocess.run([sys.executable, "-m", "pytest", *sys.argv[1:]], env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main())
