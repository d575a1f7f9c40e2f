"""Errors of the JSON API: always ``{"error": {"code", "message"}}``, in Chinese.

flask-smorest would answer every ``HTTPException`` in the whole app (console pages too) with
its own payload; we keep the app-wide handler of ``app.web_errors`` and give each API
blueprint a handler that turns webargs/marshmallow validation errors into our shape, with
the offending fields under ``error.fields``.
"""

from __future__ import annotations

from collections.abc import Mapping

import marshmallow as ma
from flask import json
from werkzeug.exceptions import HTTPException

from app.errors import DomainError
from app.extensions import db
from app.web_errors import error_response

# marshmallow's stock messages, for fields declared without a Chinese one.
FIELD_MESSAGES = {
    "Missing data for required field.": "必填。",
    "Field may not be null.": "不能为空。",
    "Unknown field.": "不支持的字段。",
    "Not a valid integer.": "应为整数。",
    "Not a valid number.": "应为数字。",
    "Not a valid string.": "应为字符串。",
    "Not a valid boolean.": "应为 true 或 false。",
    "Not a valid date.": "日期格式应为 YYYY-MM-DD。",
    "Not a valid datetime.": "时间格式应为 ISO 8601。",
    "Not a valid time.": "时间格式应为 HH:MM。",
    "Not a valid list.": "应为数组。",
    "Not a valid mapping type.": "应为对象。",
    "Invalid input type.": "请求内容应为 JSON 对象。",
    "Invalid JSON body.": "请求体不是有效的 JSON。",
    "Invalid value.": "取值无效。",
}
# Where webargs found the value; the client only needs the field name.
LOCATIONS = ("query", "json", "form", "files", "headers", "cookies", "path", "view_args", "json_or_form")


def _translate(messages):
    if isinstance(messages, Mapping):
        return {str(key): _translate(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [_translate(item) for item in messages]
    return FIELD_MESSAGES.get(messages, messages)


def field_errors(messages) -> dict:
    """webargs' ``{location: {field: [msg]}}`` flattened to ``{field: [Chinese msg]}``."""
    if not isinstance(messages, Mapping):
        return {"_request": _translate(messages if isinstance(messages, list) else [messages])}
    fields: dict = {}
    for key, value in messages.items():
        if key in LOCATIONS and isinstance(value, Mapping):
            fields.update(_translate(value))
        elif key in LOCATIONS:
            fields["_request"] = _translate(value)
        else:
            fields[str(key)] = _translate(value)
    return fields


def _first_message(fields: dict) -> str:
    for name, value in fields.items():
        while isinstance(value, Mapping) and value:
            name, value = next(iter(value.items()))
        while isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, str):
            return value if name in ("_request", "_schema") else f"{name}：{value}"
    return ""


def validation_response(status: int, messages):
    """422 (or 400 for an unreadable body) with a Chinese summary and the fields at fault."""
    fields = field_errors(messages)
    first = _first_message(fields)
    if status == 422:
        message = "请求参数有误" + (f"（{first}）" if first else "。")
        code = "validation_failed"
    else:
        message = first or None
        code = None
    response, status = error_response(status, code, message)
    return _with_fields(response, fields), status


def _with_fields(response, fields: dict):
    if fields and response.is_json:
        body = response.get_json()
        body["error"]["fields"] = fields
        response.set_data(json.dumps(body))
    return response


def handle_api_domain_error(exc: DomainError):
    """A service refused: its Chinese message, its status, and the field when it names one."""
    db.session.rollback()
    response, status = error_response(exc.status, exc.code, exc.message)
    # e.g. WWW-Authenticate on a 401
    for name, value in (getattr(exc, "headers", None) or {}).items():
        response.headers[name] = value
    return _with_fields(response, {exc.field: [exc.message]} if exc.field else {}), status


def handle_api_http_exception(exc: HTTPException):
    """Blueprint-level handler: every HTTP error raised inside an API view, in our shape."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    if "messages" in data or "errors" in data:
        response, status = validation_response(status, data.get("errors", data.get("messages")))
    else:
        # Our own abort(..., description) carries a Chinese message; Werkzeug's defaults don't.
        message = data.get("message") or (exc.description if getattr(exc, "chinese", False) else None)
        response, status = error_response(status, None, message)
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response, status


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(
        required=True, metadata={"description": "稳定的错误代码，如 not_found、validation_failed"}
    )
    message = ma.fields.String(required=True, metadata={"description": "给用户看的中文说明"})
    field_errors = ma.fields.Dict(
        keys=ma.fields.String(),
        data_key="fields",
        metadata={"description": "校验失败时：字段名 → 错误说明列表"},
    )


class ErrorSchema(ma.Schema):
    """The one error shape of the API (documentation only; responses come from web_errors)."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)
