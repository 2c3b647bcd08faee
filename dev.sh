#!/usr/bin/env bash
# One entry point for people working on revu-widgets.
#
#   ./dev.sh demo   set up .venv and run the demo site on the built-in fake RevU (offline)
#   ./dev.sh test   set up .venv and run everything CI runs: lint, format, types, the docs
#                   build (warnings are errors), tests, packaging
#   ./dev.sh docs   build the manual and serve it on http://127.0.0.1:8000/ (PORT=... to change)
#
# Needs only Python 3.11+ (python3 on PATH, or PYTHON=/path/to/python). The browser tests use
# Debian's chromium and the shared-store tests Debian's redis-server; when one is missing and this
# runs as root with apt-get, it is installed.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

setup_venv() {
  local extras=$1
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "revu-widgets needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" -V 2>&1)." >&2
    echo "Set PYTHON=/path/to/python3.11 and run again." >&2
    exit 1
  fi
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  # Reinstall only when the dependency list changed since the last run.
  local stamp="$VENV/.revu-$extras.stamp" want
  want=$(cat setup.cfg pyproject.toml | "$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    # --no-compile: byte-compiling every installed package costs about as much CPU as the rest
    # of the install; Python compiles the modules a run really imports, once, on first use.
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
      -e ".[$extras]"
    echo "$want" > "$stamp"
  fi
}

ensure_chromium() {
  if [ -n "${REVU_CHROMIUM:-}" ] && [ -x "$REVU_CHROMIUM" ]; then return; fi
  if command -v chromium >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    echo "The browser tests need Chromium: install it (Debian/Ubuntu: sudo apt-get install chromium)" >&2
    echo "or point REVU_CHROMIUM at a Chromium binary, then run ./dev.sh test again." >&2
    exit 1
  fi
}

build_docs() {
  # Warnings are errors: a broken reference, a config key or macro parameter the manual does
  # not describe, or a missing screenshot fails the build.
  # -E: read every page again, so tables generated from the code are never stale.
  "$VENV/bin/sphinx-build" -E -W --keep-going -q -b html docs docs/_build/html
}

ensure_redis() {
  if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's redis-server for the shared-store tests ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "The shared-store tests need Redis: install it (Debian/Ubuntu: sudo apt-get install" >&2
    echo "redis-server), then run ./dev.sh test again. The tests start their own server." >&2
    exit 1
  fi
}

case "${1:-}" in
  demo)
    shift
    setup_venv demo
    echo "Demo site: http://127.0.0.1:${PORT:-5000}/  (Ctrl+C to stop)"
    exec "$VENV/bin/flask" --app demo_app run --host 127.0.0.1 --port "${PORT:-5000}" "$@"
    ;;
  test)
    shift
    setup_venv test
    ensure_chromium
    ensure_redis
    export REVU_CHROMIUM="${REVU_CHROMIUM:-$(command -v chromium)}"
    # Every test worker, server and command the tests start is a new Python process: without
    # byte-code caches each of them compiles every module it imports again (pytest, hypothesis,
    # flask, ...). Keep the caches in .venv, out of the checkout, even where the environment
    # turns them off (PYTHONDONTWRITEBYTECODE).
    unset PYTHONDONTWRITEBYTECODE
    PYTHONPYCACHEPREFIX="$(cd "$VENV" && pwd)/pycache"
    export PYTHONPYCACHEPREFIX
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/mypy"
    build_docs
    # The browser tests take their screenshots of this build instead of building it again.
    export REVU_BUILT_MANUAL="$PWD/docs/_build/html"
    # The tests run in parallel, one worker per CPU (TEST_WORKERS=0 runs them in this process).
    # A test file stays on one worker, so its module fixtures (a wheel build, a gunicorn, a
    # browser) start once; see CONTRIBUTING.md for what that asks of fixtures.
    exec "$VENV/bin/python" -m pytest -n "${TEST_WORKERS:-auto}" --dist loadfile "$@"
    ;;
  docs)
    shift
    setup_venv test
    build_docs
    echo "The manual: http://127.0.0.1:${PORT:-8000}/  (Ctrl+C to stop)"
    exec "$VENV/bin/python" -m http.server --bind 127.0.0.1 --directory docs/_build/html "${PORT:-8000}"
    ;;
  *)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
