#!/usr/bin/env bash
# One entry point for a fresh Debian machine: installs what Hotline needs (apt + venv),
# then runs the demo or the tests.   ./dev.sh demo | ./dev.sh test [pytest args] | ./dev.sh setup
set -euo pipefail
cd "$(dirname "$0")"
APT_PACKAGES="espeak-ng sox chromium fonts-noto-cjk libsox-fmt-all python3-venv postgresql sip-tester libedit2 libjansson4 libxml2 libxslt1.1 libsqlite3-0 libssl3 libuuid1 libicu72"
# postgresql: the queue tests start a throwaway server; sip-tester: sipp, the SIP peer of the dial and
# real-PBX tests; libedit2 ... libicu72: what ../shared/asterisk20 (a real Asterisk 20) links against

setup() {
  local missing=()
  for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  fi
  if [ ! -x .venv/bin/hotline ] || [ pyproject.toml -nt .venv/.installed ]; then
    python3 -m venv .venv
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e '.[dev]'
    touch .venv/.installed
  fi
}

cmd="${1:-test}"; shift || true
setup
case "$cmd" in
  setup) ;;
  demo) exec .venv/bin/hotline demo "$@" ;;
  test) .venv/bin/ruff check . && .venv/bin/lint-imports --no-cache || exit $?
        # A whole run (no test paths given; options such as CI's -p are fine) runs again on PostgreSQL (a
        # throwaway server, tests/on_postgres.py) every module that opened a database file in the SQLite run
        # (db.py notes them in HOTLINE_TEST_DB_LOG, in-process and in `hotline` children). Not there: the real
        # Asterisk tests (wall-clock calls; their store path runs on PostgreSQL in the simulator tests), the
        # Whisper ones (model time, not database time) and those marked covered_on_postgres_by (tests/conftest.py).
        for a in "$@"; do case "$a" in tests*|*.py|*::*) exec .venv/bin/pytest "$@" ;; esac; done
        log=$(mktemp); HOTLINE_TEST_DB_LOG=$log .venv/bin/pytest "$@" || { c=$?; rm -f "$log"; exit $c; }
        mapfile -t modules < <(sort -u "$log"); rm -f "$log"
        ((${#modules[@]})) || exit 0
        exec .venv/bin/python tests/on_postgres.py -q "$@" -m "not slow and not pbx" "${modules[@]}" ;;
  *) echo "usage: ./dev.sh demo|test|setup" >&2; exit 2 ;;
esac
