"""``request.get_json`` refuses JSON nested too deep instead of raising ``RecursionError``.

Flask turns a ``ValueError`` from the JSON provider into a 400 (or ``None`` with
``silent=True``); Python's parser raises ``RecursionError`` for a few thousand nested
brackets, which went through as a 500.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider


class BoundedJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def init_app(app: Flask) -> None:
    previous = app.json
    provider = BoundedJSONProvider(app)
    for name in ("ensure_ascii", "sort_keys", "compact", "mimetype"):
        setattr(provider, name, getattr(previous, name))
    app.json = provider
