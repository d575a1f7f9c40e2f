"""Served by gunicorn under gunicorn.conf.py in tests: a worker's garbage-collector state."""

from __future__ import annotations

import gc
import os

from flask import Flask

from app.extensions import db

app = Flask("gc_probe")
# gunicorn.conf.py's post_fork renews the database pool of the app it serves.
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
db.init_app(app)


@app.get("/gc")
def state():
    return {"pid": os.getpid(), "enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
