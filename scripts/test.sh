#!/usr/bin/env bash
# Install Loudou with its dev extras into a fresh virtualenv and run every check:
# ruff (lint + format), missing migrations, then the test suite on SQLite and on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${LOUDOU_TEST_VENV:-.venv-test}
PG_URL=${LOUDOU_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}

step() { printf '\n==> %s\n' "$*"; }

step "fresh virtualenv in $VENV"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[dev]"
PY="$VENV/bin/python"
unset LOUDOU_DATABASE_URL DJANGO_SETTINGS_MODULE

step "chromium and CJK fonts for the browser tests"
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
# The browser tests fail, never skip, when the browser is missing here.
export LOUDOU_REQUIRE_BROWSER=1

step "ruff"
"$VENV/bin/ruff" check src bench
"$VENV/bin/ruff" format --check src bench

step "migrations are complete"
export LOUDOU_HOME
LOUDOU_HOME=$(mktemp -d)
"$VENV/bin/loudou" makemigrations --check --dry-run

step "tests on SQLite"
"$PY" -m pytest -q -p no:cacheprovider

step "PostgreSQL"
if ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  if [ "${LOUDOU_TEST_SKIP_POSTGRES:-}" = 1 ] && [ "${CI:-}" != true ]; then
    echo "PostgreSQL is not running and LOUDOU_TEST_SKIP_POSTGRES=1: skipping its run (never in CI)."
    exit 0
  fi
  echo "PostgreSQL is not answering; starting it."
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  for _ in $(seq 30); do pg_isready -h 127.0.0.1 -q && break; sleep 1; done
fi
if ! pg_isready -h 127.0.0.1; then
  echo "FAILED: PostgreSQL does not answer on 127.0.0.1:5432; its test run cannot be skipped." >&2
  exit 1
fi

step "tests on PostgreSQL ($PG_URL)"
LOUDOU_DATABASE_URL=$PG_URL LOUDOU_SECRET_KEY=test-only-not-secret \
  "$PY" -m pytest -q -p no:cacheprovider --create-db
