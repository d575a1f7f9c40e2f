"""The floor of ``POST /wechat`` (``wechat_floor.py``), except that each 留言 is handled by the app.

A 留言 goes to the real application — the endpoint, msg_sec_check, the opinion intake that
the H5 pages and the mini-program share (``submit_opinion``, through the ORM), the real
reply — and every other push is the floor's bare statements. ``wechat_endpoint.py --floor``
serves it to show what a lean endpoint that kept that one shared intake could reach
(README → Benchmarks). The app is loaded at import, so gunicorn preloads it in the master
as it does ``wsgi:app``.
"""

from __future__ import annotations

import os
import threading

from flask import Flask

from app import create_app
from app.extensions import db
from scripts.bench.wechat_floor import _floor

real = create_app()
_pool_of: list[int] = []  # the worker whose connection pool ``real`` holds
_lock = threading.Lock()


def _real_app(environ, start_response):
    if _pool_of != [os.getpid()]:
        with _lock:
            if _pool_of != [os.getpid()]:
                with real.app_context():
                    db.engine.dispose(close=False)  # never the master's connections (none expected)
                _pool_of[:] = [os.getpid()]
    return real.wsgi_app(environ, start_response)


def intake(environ, start_response):
    return _floor(environ, start_response, _real_app)


# As in wechat_floor.py: a Flask object only so gunicorn.conf.py's hooks run unchanged.
app = Flask("floor_intake")
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
db.init_app(app)
app.wsgi_app = intake
