"""The pieces every API resource is built from: the Api class and ``api_blueprint``."""

from __future__ import annotations

import json
from datetime import datetime

from flask_smorest import Api, Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from app.api.errors import ErrorSchema, handle_api_domain_error, handle_api_http_exception
from app.errors import DomainError
from app.timeutil import LOCAL_TZ, to_local

API_PREFIX = "/api/v1"


class JiazhandianApi(Api):
    """flask-smorest's Api, documenting and answering errors in our ``{"error": …}`` shape."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        # flask-smorest registers an app-wide HTTPException handler here, which would turn the
        # console's HTML error pages into JSON; each API blueprint carries its own instead.
        pass


class BoundedJsonParser(FlaskParser):
    """webargs' parser, with JSON nested too deep for Python's parser refused as invalid JSON.

    ``json.loads`` raises ``RecursionError`` (not a ``ValueError``) on a body such as
    ``{"a": {"a": …}}`` a few thousand levels deep; unhandled, that was a 500.
    """

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", "", 0) from None


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = BoundedJsonParser()


def api_blueprint(name: str, import_name: str, path: str, description: str) -> Blueprint:
    """A resource's blueprint under /api/v1/<path>, answering errors in the API's shape."""
    blp = ApiBlueprint(
        name, import_name, url_prefix=f"{API_PREFIX}/{path.strip('/')}", description=description
    )
    blp.register_error_handler(HTTPException, handle_api_http_exception)
    blp.register_error_handler(DomainError, handle_api_domain_error)
    return blp


def local_moment(naive_local: datetime) -> datetime:
    """A naive local (Beijing) time as an aware datetime, so the JSON carries its +08:00 offset."""
    return naive_local.replace(tzinfo=LOCAL_TZ)


def stored_moment(moment: datetime) -> datetime:
    """A stored timestamp (UTC) as an aware local time."""
    return local_moment(to_local(moment))
