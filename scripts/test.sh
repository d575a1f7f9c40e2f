#!/bin/sh
# Install the test tools and run the whole suite. Default: SQLite, no Redis (tests that
# need PostgreSQL, Redis or Chromium skip if those are missing). REQUIRE_SERVICES=1 runs the
# suite on PostgreSQL + Redis and fails if any of them, or Chromium, is missing.
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
exec .venv/bin/python -m pytest -ra -p no:cacheprovider -n "${TEST_WORKERS:-auto}" --dist loadfile tests "$@"
