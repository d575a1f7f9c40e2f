#!/bin/sh
# Install and start 家站点 on the embedded default: SQLite, no Redis, the built-in WeChat
# mock, demo data, http://127.0.0.1:5000. Needs only Python 3.11.
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
.venv/bin/flask --app wsgi db upgrade
.venv/bin/flask --app wsgi demo seed
exec .venv/bin/flask --app wsgi run --host 127.0.0.1 --port "${PORT:-5000}" --with-threads
